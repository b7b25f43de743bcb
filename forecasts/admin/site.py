"""The admin site and what every admin on it shares.

:class:`TrackerAdminSite` is Django's default site here (``tracker.settings`` installs
:class:`~forecasts.apps.TrackerAdminConfig`), so every app's admins register on it,
Django's users and groups and django-axes' logs included; :meth:`TrackerAdminSite.register`
gives each of them :class:`SelectionCheck`, whatever app it comes from.

This app's admins write through the domains' services only (:class:`ModelAdmin`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast
from weakref import WeakKeyDictionary

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from forecasts.core.forms import (
    KeyCheckedChoiceField,
    KeyCheckedMultipleChoiceField,
    add_service_errors,
    key_fits,
)
from forecasts.core.permissions import forecasts_reviewable_by

_M = TypeVar("_M", bound=models.Model)
_P = TypeVar("_P", bound=models.Model)

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
    _TabularInline = admin.TabularInline
    _ModelForm = forms.ModelForm
else:
    # django-stubs' admin and form classes take the model as a type argument; Django's
    # own do not at run time, so these stand-ins accept it and pass it on to nobody.
    class _ModelAdmin(Generic[_M], admin.ModelAdmin):
        pass

    class _TabularInline(Generic[_M, _P], admin.TabularInline):
        pass

    class _ModelForm(Generic[_M], forms.ModelForm):
        pass


class FormDefaults:
    """Form fields for every admin form and inline.

    Scheme-less URLs typed into the admin are read as https:// (Django 6's default).
    Ids chosen in a select, an autocomplete or a filter box are checked to fit the
    column before the lookup, so a forged one is a form error rather than a 500.
    """

    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = {
        models.URLField: {"assume_scheme": "https"},
        models.ForeignKey: {"form_class": KeyCheckedChoiceField},
        models.ManyToManyField: {"form_class": KeyCheckedMultipleChoiceField},
    }


class SelectionCheck:
    """Refuses an action on a forged selection with a message, and a NUL byte in a search.

    Mixed into every admin on the site, Django's and django-axes' included
    (:meth:`TrackerAdminSite.register`)."""

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        # Django filters ``pk__in`` with the posted ids as they are: "abc" or a
        # 21-digit number raises in the lookup (a 500) before any action runs.
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        pk = self.opts.pk  # type: ignore[attr-defined]
        if not all(_selectable(pk, value) for value in selected):
            self.message_user(  # type: ignore[attr-defined]
                request,
                "The selection is not valid (it may have been altered): select the items again.",
                messages.ERROR,
            )
            return None  # the changelist redirects back to itself
        return super().response_action(request, queryset)  # type: ignore[misc]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # PostgreSQL refuses a NUL byte in a query parameter (a 500 from the
        # autocomplete); no stored text contains one, so nothing matches.
        if "\x00" in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc,no-any-return]


class ModelForm(_ModelForm[_M]):
    """A model form of this app's admin (``ModelForm[Source]``)."""


class TabularInline(FormDefaults, _TabularInline[_M, _P]):
    """An inline of this app's admin (``TabularInline[Estimate, Forecast]``). Inlines that
    write say through which service in their admin's ``save_formset``."""


#: A service's refusal of the POST being handled, for the form shown again (one request each).
_refusals: WeakKeyDictionary[HttpRequest, ValidationError] = WeakKeyDictionary()


class _ShowsRefusal(forms.Form):
    """Mixed into an admin form shown again after a service refused it: the refusal's
    messages become the form's errors, on the fields they name."""

    refusal: ClassVar[ValidationError]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        add_service_errors(self, self.refusal)
        return data


class ModelAdmin(FormDefaults, SelectionCheck, _ModelAdmin[_M]):
    """Every model admin of this app (``ModelAdmin[Forecast]``).

    Every write goes through the domain's service. Django's defaults write rows
    themselves, so here they refuse: an admin that lets staff add or change says
    which service in ``save_model`` (which also sets the many-to-many fields) and,
    for inlines, ``save_formset``; one that lets staff delete allows it in
    ``has_delete_permission`` and says which service in ``delete_model`` and
    ``delete_queryset``.

    A service's ``ValidationError`` is not a server error: Django's transaction is
    rolled back and the form shown again, as submitted, with the service's messages
    as its errors. A refused deletion or action is rolled back with a message.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refusal:
            # Form errors never get here; a service raised while saving.
            if request.method != "POST" or request in _refusals:
                raise
            _refusals[request] = refusal
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        finally:
            _refusals.pop(request, None)

    def get_form(
        self, request: HttpRequest, obj: _M | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[_M]]:
        form = super().get_form(request, obj, change, **kwargs)
        refusal = _refusals.get(request)
        if refusal is None:
            return form
        # type() picks Django's form metaclass, as modelform_factory's subclasses do.
        shown_again = type(form.__name__, (_ShowsRefusal, form), {"refusal": refusal})
        return cast("type[forms.ModelForm[_M]]", shown_again)

    def save_model(self, request: HttpRequest, obj: _M, form: Any, change: Any) -> None:
        raise ImproperlyConfigured(f"{type(self).__name__} names no service that saves {obj!r}.")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: Any) -> None:
        # No form.save_m2m(): the service save_model called set the many-to-many fields.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: Any) -> None:
        """Inlines that write are handled by their admin; the others (audit trails) have
        nothing to save, which this checks."""
        changes = InlineChanges.of(formset)
        if changes.added or changes.changed or changes.deleted:
            raise ImproperlyConfigured(
                f"{type(self).__name__} names no service that saves {formset.model.__name__} rows."
            )
        changes.report(formset)

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False  # deleting is a write: an admin that allows it names the service

    def may(self, request: HttpRequest, action: str) -> bool:
        """Whether the user holds the model permission for ``action`` ("add", "delete"…),
        as Django's own ``has_*_permission`` ask."""
        codename = get_permission_codename(action, self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def delete_model(self, request: HttpRequest, obj: _M) -> None:
        raise ImproperlyConfigured(f"{type(self).__name__} names no service that deletes {obj!r}.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[_M]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ValidationError as refusal:  # rolled back by Django's transaction
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
            info = self.opts.app_label, self.opts.model_name
            return HttpResponseRedirect(
                reverse(
                    "admin:{}_{}_change".format(*info),
                    args=[quote(unquote(object_id))],
                    current_app=self.admin_site.name,
                )
            )

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse | None:
        try:
            with transaction.atomic():
                response: HttpResponse | None = super().response_action(request, queryset)
                return response
        except ValidationError as refusal:
            self.message_user(
                request, "Nothing was done: " + " ".join(refusal.messages), messages.ERROR
            )
            return None  # the changelist redirects back to itself


@dataclass(frozen=True)
class InlineChanges:
    """What an inline formset's forms ask for, read before anything is written: Django's
    ``formset.save()`` would write the rows itself."""

    added: list[forms.ModelForm[Any]]
    changed: list[forms.ModelForm[Any]]
    deleted: list[forms.ModelForm[Any]]

    @classmethod
    def of(cls, formset: Any) -> InlineChanges:
        deleted = formset.deleted_forms
        return cls(
            added=[f for f in formset.extra_forms if f.has_changed() and f not in deleted],
            changed=[f for f in formset.initial_forms if f.has_changed() and f not in deleted],
            deleted=[f for f in formset.initial_forms if f in deleted],
        )

    def report(
        self,
        formset: Any,
        *,
        added: Sequence[models.Model] = (),
        deleted: Sequence[models.Model] = (),
    ) -> None:
        """Tell Django's change message what the services wrote (the formset did not)."""
        formset.new_objects = list(added)
        formset.changed_objects = []
        formset.deleted_objects = list(deleted)


def acting_user(request: HttpRequest) -> User:
    """The signed-in staff member the admin is serving (it lets nobody else in)."""
    user = request.user
    assert isinstance(user, User)
    return user


def passes(check: Callable[..., None], /, **arguments: Any) -> bool:
    """Whether a service's ``*_check`` lets these arguments through."""
    try:
        check(**arguments)
    except ValidationError:
        return False
    return True


def adopt_saved(obj: models.Model, saved: models.Model) -> None:
    """Make the admin's instance the row a service saved: Django logs it, names it in its
    message and redirects to it after ``save_model``."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


def _selectable(pk: models.Field[Any, Any], value: str) -> bool:
    """Whether a posted id could be a key of ``pk``: plain digits that fit an integer
    column, or a value the key field itself accepts (a UUID, a code)."""
    if isinstance(pk, models.IntegerField):
        value = value.strip()
        return value.isascii() and value.isdigit() and key_fits(pk, value)
    try:
        pk.to_python(value)
    except ValidationError:
        return False
    return True


class ReadOnlyAdmin(ModelAdmin[_M]):
    """Computed records: visible to staff, written only by services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


def reviews_anything(request: HttpRequest) -> bool:
    """Whether the user may resolve some forecast: asked several times per page, queried once."""
    if not hasattr(request, "_reviews_anything"):
        reviewable = forecasts_reviewable_by(request.user)  # type: ignore[arg-type]
        request._reviews_anything = reviewable.exists()  # type: ignore[attr-defined]
    return request._reviews_anything  # type: ignore[attr-defined,no-any-return]


class TrackerAdminSite(admin.AdminSite):
    site_header = "Forecast tracker administration"
    site_title = "Forecast tracker"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Register as Django does, with :class:`SelectionCheck` mixed into admins that
        lack it (other apps' admins know nothing of this site)."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SelectionCheck):
            admin_class = type(
                admin_class.__name__, (SelectionCheck, admin_class), {"__module__": __name__}
            )
        super().register(model_or_iterable, admin_class, **options)
