"""The admin site and what every admin on it shares.

:class:`TrackerAdminSite` is Django's default site here (``tracker.settings`` installs
:class:`~forecasts.apps.TrackerAdminConfig`), so every app's admins register on it,
Django's users and groups and django-axes' logs included; :meth:`TrackerAdminSite.register`
gives each of them :class:`SelectionCheck`, whatever app it comes from.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from forecasts.core.forms import (
    KeyCheckedChoiceField,
    KeyCheckedMultipleChoiceField,
    key_fits,
)
from forecasts.core.permissions import forecasts_reviewable_by


class FormDefaults:
    """Form fields for every admin form and inline.

    Scheme-less URLs typed into the admin are read as https:// (Django 6's default).
    Ids chosen in a select, an autocomplete or a filter box are checked to fit the
    column before the lookup, so a forged one is a form error rather than a 500.
    """

    formfield_overrides = {
        models.URLField: {"assume_scheme": "https"},
        models.ForeignKey: {"form_class": KeyCheckedChoiceField},
        models.ManyToManyField: {"form_class": KeyCheckedMultipleChoiceField},
    }


class SelectionCheck:
    """Refuses an action on a forged selection with a message, and a NUL byte in a search.

    Mixed into every admin on the site, Django's and django-axes' included
    (:func:`_harden_registered`)."""

    def response_action(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        # Django filters ``pk__in`` with the posted ids as they are: "abc" or a
        # 21-digit number raises in the lookup (a 500) before any action runs.
        selected = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
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


class ModelAdmin(FormDefaults, SelectionCheck, admin.ModelAdmin):  # type: ignore[type-arg]
    """Every model admin of this app."""


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


class ReadOnlyAdmin(ModelAdmin):
    """Computed records: visible to staff, written only by services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
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
