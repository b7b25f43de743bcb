"""The forecast admin: the editors' and reviewers' main workspace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from forecasts.admin.forecast_inlines import (
    AmendmentInline,
    DeadlineExtensionInline,
    EstimateInline,
    ResolutionInline,
    ReviewerInline,
    ReviewPromptInline,
    estimate_fields,
    may_see_addresses,
)
from forecasts.admin.site import (
    InlineChanges,
    ModelAdmin,
    ModelForm,
    acting_user,
    adopt_saved,
    passes,
    reviews_anything,
)
from forecasts.core import services as core_services
from forecasts.core.forms import (
    CorrectionForm,
    ExtendForm,
    ResolveForm,
    add_service_errors,
)
from forecasts.core.ledger.events import TERM_FIELDS
from forecasts.core.models import (
    AMENDABLE_TERMS,
    Estimate,
    Forecast,
    ForecastQuerySet,
    ReviewerAssignment,
    Status,
)
from forecasts.core.permissions import can_edit, can_resolve, forecasts_reviewable_by
from forecasts.core.services.forecasts import forecast_amend
from forecasts.core.services.publication import publication_refusals, refusal_sentence
from forecasts.extraction import ingest
from forecasts.reviews.models import ReviewPrompt

OVERDUE = "overdue"


def _escalation_days() -> int:
    days: int = settings.REVIEW_ESCALATION_DAYS
    return days


class StatusFilter(admin.SimpleListFilter):
    """The lifecycle states, plus "overdue": due and already escalated to the site admins."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        overdue = (
            OVERDUE,
            f"Overdue: due over {_escalation_days()} days past the deadline (escalated)",
        )
        choices = []
        for status in Status:
            choices.append((status.value, str(status.label)))
            if status == Status.DUE:
                choices.append(overdue)
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        assert isinstance(queryset, ForecastQuerySet)  # the forecasts' own manager made it
        now = timezone.now()
        if value == OVERDUE:
            escalated_before = timezone.localdate(now) - dt.timedelta(days=_escalation_days())
            return queryset.due(at=now).filter(resolve_by__lt=escalated_before)
        try:
            return queryset.with_state(value, at=now)
        except ValueError as exc:
            raise IncorrectLookupParameters(str(exc)) from exc


class ForecastForm(ModelForm[Forecast]):
    """A forecast as an editor types it; a draft is published by ticking ``publish``."""

    class Meta:
        # The whole sentence in view while a draft is reworded.
        widgets = {
            name: forms.Textarea(attrs={"rows": 2, "cols": 80})
            for name in ("statement", "quote", "condition")
        }

    publish = forms.BooleanField(
        required=False,
        help_text="Publish on saving: refused while the resolution criteria are the ones "
        "extraction proposed or the statement holds a hedge (“unlikely”, “probably”…). The "
        "address is then made from the statement, unless you change the slug as you "
        "publish. Once published, the terms change only by a recorded amendment and the "
        "deadline only by an extension.",
    )


class AmendForm(ModelForm[Forecast]):
    """A published forecast's amendable terms, as they stand, and why they change."""

    reason = forms.CharField(
        label="Why are the terms amended?",
        max_length=2000,
        help_text="Recorded with the amendment and shown in the forecast's public history.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Forecast
        fields = AMENDABLE_TERMS
        # The whole sentence in view while it is reworded.
        widgets = {
            name: forms.Textarea(attrs={"rows": 2, "cols": 80})
            for name in ("statement", "quote", "condition")
        }

    def _post_clean(self) -> None:
        # The service validates the amended forecast (locked, as it stands then); the
        # form only collects the values.
        pass

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in AMENDABLE_TERMS}


#: Columns of the forecast list that say nothing about a due forecast.
_NOT_ON_THE_DUE_LIST = (
    "status_display",
    "outcome_display",
    "confidence_display",
    "forecaster",
    "source",
)

#: Fixed on the change form once a forecast is published: its terms change by an
#: amendment (Amend terms), its deadline by an extension (Extend deadline): the terms its
#: publication entry states on the ledger.
FIXED_ONCE_PUBLISHED = TERM_FIELDS


@admin.register(Forecast)
class ForecastAdmin(ModelAdmin[Forecast]):
    form = ForecastForm
    list_display = (
        "statement",
        "status_display",
        "probability_display",
        "resolve_by",
        "days_overdue",
        "last_prompted",
        "outcome_display",
        "forecaster",
        "source",
        "confidence_display",
    )
    list_filter = (
        StatusFilter,
        ("rejected_at", admin.EmptyFieldListFilter),
        "source",
        "forecaster",
        "tags",
    )
    search_fields = ("statement", "quote", "slug", "resolution_criteria")
    date_hierarchy = "resolve_by"
    prepopulated_fields = {"slug": ("statement",)}
    autocomplete_fields = ("source", "forecaster", "tags")
    readonly_fields = (
        "published_at",
        "quote_start",
        "quote_end",
        "extraction_confidence",
        "rejected_at",
        "created_at",
        "updated_at",
    )
    inlines = (
        EstimateInline,
        ReviewerInline,
        ResolutionInline,
        DeadlineExtensionInline,
        AmendmentInline,
        ReviewPromptInline,
    )
    list_select_related = ("source", "forecaster")
    fieldsets = (
        (None, {"fields": ("statement", "slug", "forecaster", "source", "tags", "publish")}),
        ("Quote", {"fields": ("quote", "quote_start", "quote_end")}),
        (
            "Resolution terms",
            {
                "fields": (
                    "condition",
                    "resolution_criteria",
                    ("made_on", "made_on_precision"),
                    ("resolve_by", "resolve_by_note"),
                )
            },
        ),
        ("Extraction", {"fields": ("extraction_confidence", "rejected_at")}),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    actions = ("publish", "reject", "resolve_selected")

    class Media:
        css = {"all": ("css/admin.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Forecast]:
        last_sent = ReviewPrompt.objects.filter(
            forecast=OuterRef("pk"), sent_at__isnull=False
        ).order_by("-sent_at", "-pk")
        forecasts = super().get_queryset(request)
        assert isinstance(forecasts, ForecastQuerySet)  # the forecasts' own manager made it
        # Whom it was sent to is a person's e-mail address: shown to those who may see
        # the users (auth.view_user), not to every editor.
        recipient = (
            Subquery(last_sent.values("recipient")[:1])
            if may_see_addresses(request)
            else Value("", output_field=CharField())
        )
        return forecasts.with_status(at=timezone.now()).annotate(
            last_prompted_at=Subquery(last_sent.values("sent_at")[:1]),
            last_prompted_to=recipient,
        )

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = super().get_list_display(request)
        if request.GET.get(StatusFilter.parameter_name) not in (Status.DUE, OVERDUE):
            return columns
        # The due list: every row is due, unresolved and published, so the status, the
        # outcome and extraction's confidence say nothing, and who said it and where is on
        # its page; without them it fits at 1280 px beside the filters, where it ran off
        # the right.
        return [c for c in columns if c not in _NOT_ON_THE_DUE_LIST]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Forecast | None = None
    ) -> tuple[str, ...]:
        fixed = FIXED_ONCE_PUBLISHED if _published(obj) else ()
        return (*fixed, *super().get_readonly_fields(request, obj))

    def get_inlines(self, request: HttpRequest, obj: Forecast | None) -> list[Any]:
        # A draft is edited directly: only a published forecast has amendments.
        inlines = super().get_inlines(request, obj)
        return [i for i in inlines if _published(obj) or i is not AmendmentInline]

    def get_prepopulated_fields(
        self, request: HttpRequest, obj: Forecast | None = None
    ) -> dict[str, Sequence[str]]:
        return {} if _published(obj) else super().get_prepopulated_fields(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Forecast | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if not _published(obj):
            if obj is None or self.has_change_permission(request, obj):
                return fieldsets
            # Seen by staff who may only look: no box to publish with (as a read-only
            # field it is no field of the model, and the page failed).
            (name, options), *rest = fieldsets
            fields = tuple(f for f in options["fields"] if f != "publish")
            return [(name, {**options, "fields": fields}), *rest]
        # Published: when it was, in place of the box that publishes a draft.
        (name, options), *rest = fieldsets
        fields = tuple("published_at" if f == "publish" else f for f in options["fields"])
        return [(name, {**options, "fields": fields}), *rest]

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="{}_{}_resolve".format(*info),
            ),
            path(
                "<path:object_id>/extend/",
                self.admin_site.admin_view(self.extend_view),
                name="{}_{}_extend".format(*info),
            ),
            path(
                "<path:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="{}_{}_publish".format(*info),
            ),
            path(
                "<path:object_id>/amend/",
                self.admin_site.admin_view(self.amend_view),
                name="{}_{}_amend".format(*info),
            ),
            *super().get_urls(),
        ]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """May resolve at least one forecast; which ones is checked per forecast."""
        return reviews_anything(request)

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: Forecast) -> str:
        return str(Status(obj.status).label)  # type: ignore[attr-defined]

    @admin.display(description="probability", ordering="probability")
    def probability_display(self, obj: Forecast) -> str:
        probability = obj.probability  # type: ignore[attr-defined]
        return "—" if probability is None else f"{probability:.0%}"

    @admin.display(description="extraction confidence", ordering="-extraction_confidence")
    def confidence_display(self, obj: Forecast) -> str:
        if obj.extraction_confidence is None:
            return "—"
        return f"{obj.extraction_confidence:.2f}" + (" (rejected)" if obj.rejected_at else "")

    @admin.display(description="days overdue", ordering="-resolve_by")
    def days_overdue(self, obj: Forecast) -> str:
        """Days since the deadline, for due forecasts; escalated ones say so."""
        if obj.status != Status.DUE:  # type: ignore[attr-defined]
            return "—"
        days = (timezone.localdate() - obj.resolve_by).days
        return f"{days} (escalated)" if days > _escalation_days() else str(days)

    @admin.display(description="last prompted", ordering="last_prompted_at")
    def last_prompted(self, obj: Forecast) -> SafeString | str:
        sent_at = obj.last_prompted_at  # type: ignore[attr-defined]
        if sent_at is None:
            return "—"
        when = timezone.localtime(sent_at).strftime("%Y-%m-%d %H:%M")
        recipient = obj.last_prompted_to  # type: ignore[attr-defined]
        return format_html("{}<br>to {}", when, recipient) if recipient else when

    @admin.display(description="outcome", ordering="outcome")
    def outcome_display(self, obj: Forecast) -> str:
        return obj.outcome or "—"  # type: ignore[attr-defined]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Forecast | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            # A draft is neither resolved nor extended (the services refuse it): it is
            # published first, with the Publish button.
            context["may_resolve"] = _published(obj) and can_resolve(request.user, obj)
            context["is_resolved"] = getattr(obj, "outcome", None) is not None
            context["may_amend"] = (
                can_edit(request.user) and _published(obj) and not context["is_resolved"]
            )
            context["may_publish"] = (
                not _published(obj)
                and obj.rejected_at is None
                and self.has_change_permission(request, obj)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def view_on_site(self, obj: Forecast) -> str | None:
        """A draft has no public page yet: no "View on site" link to a 404."""
        return obj.get_absolute_url() if _published(obj) else None

    # --- Writes: the form and its inlines, through the core services ---

    def save_model(
        self, request: HttpRequest, obj: Forecast, form: forms.ModelForm[Forecast], change: bool
    ) -> None:
        # A new forecast is created in save_related, which has the estimates it needs.
        if change and form.has_changed():
            updated = core_services.forecast_update(
                forecast=obj, published_by=acting_user(request), **_terms(form, obj)
            )
            adopt_saved(obj, updated)

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Forecast],
        formsets: list[Any],
        change: bool,
    ) -> None:
        if not change:
            typed = [
                estimate_fields(estimate)
                for formset in formsets
                if formset.model is Estimate
                for estimate in InlineChanges.of(formset).added
            ]
            forecast = core_services.forecast_create(
                **_terms(form, form.instance), estimates=typed, recorded_by=acting_user(request)
            )
            adopt_saved(form.instance, forecast)
        super().save_related(request, form, formsets, change)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm[Forecast], formset: Any, change: bool
    ) -> None:
        forecast, changes = form.instance, InlineChanges.of(formset)
        removed = [row.instance for row in changes.deleted]
        if formset.model is Estimate:
            if change:
                estimates = [
                    core_services.estimate_record(
                        forecast=forecast, recorded_by=acting_user(request), **estimate_fields(row)
                    )
                    for row in changes.added
                ]
            else:  # recorded by forecast_create, in save_related
                estimates = list(forecast.estimates.all())
            # After adding: the draft's only estimate can be replaced in one go.
            for estimate in removed:
                core_services.estimate_delete(estimate=estimate)
            changes.report(formset, added=estimates, deleted=removed)
        elif formset.model is ReviewerAssignment:
            assignments = [
                core_services.reviewer_assign(
                    forecast=forecast, reviewer=row.cleaned_data["reviewer"]
                )
                for row in changes.added
            ]
            for assignment in removed:
                core_services.reviewer_unassign(forecast=forecast, reviewer=assignment.reviewer)
            changes.report(formset, added=assignments, deleted=removed)
        else:
            super().save_formset(request, form, formset, change)

    def has_delete_permission(self, request: HttpRequest, obj: Forecast | None = None) -> bool:
        """Drafts only (forecast_delete): a published forecast is never deleted."""
        return self.may(request, "delete") and (
            obj is None or passes(core_services.forecast_delete_check, forecast=obj)
        )

    def delete_model(self, request: HttpRequest, obj: Forecast) -> None:
        core_services.forecast_delete(forecast=obj)

    def get_deleted_objects(
        self, objs: Sequence[Forecast] | QuerySet[Forecast], request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A draft's estimates go with it, the last one too (which alone is never deleted).
        return deleted, counts, perms_needed - {str(Estimate._meta.verbose_name)}, protected

    # --- Resolve and extend one forecast ---

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        forecast = self._forecast_to_review(request, object_id)
        current = forecast.current_resolution()
        data = request.POST if request.method == "POST" else None
        form = (
            ResolveForm(data, deadline=forecast.resolve_by)
            if current is None
            else CorrectionForm(data, deadline=forecast.resolve_by, current=current)
        )
        if form.is_bound and form.is_valid():
            try:
                resolution = core_services.forecast_resolve(
                    forecast=forecast,
                    resolved_by=acting_user(request),
                    **form.service_arguments(),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                verb = "Resolved" if current is None else "Corrected the resolution of"
                message = (
                    f"{verb} “{forecast}”: {resolution.outcome} (known on "
                    f"{resolution.known_on:%-d %B %Y})."
                )
                self.log_change(request, forecast, message)
                self.message_user(request, message, messages.SUCCESS)
                return self._back_to_change_page(forecast)
        title = "Correct the resolution" if current is not None else "Resolve"
        return self._review_form_response(
            request,
            forecast,
            form,
            title=title,
            submit_label="Correct" if current is not None else "Resolve",
            current_resolution=current,
        )

    def extend_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        forecast = self._forecast_to_review(request, object_id)
        form = ExtendForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                extension = core_services.forecast_extend(
                    forecast=forecast,
                    new_resolve_by=form.cleaned_data["new_resolve_by"],
                    reason=form.cleaned_data["reason"],
                    extended_by=acting_user(request),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                message = (
                    f"Extended the deadline of “{forecast}” from "
                    f"{extension.previous_resolve_by} to {extension.new_resolve_by}."
                )
                self.log_change(request, forecast, message)
                self.message_user(request, message, messages.SUCCESS)
                return self._back_to_change_page(forecast)
        return self._review_form_response(
            request,
            forecast,
            form,
            title="Extend the deadline",
            submit_label="Extend the deadline",
            current_resolution=forecast.current_resolution(),
        )

    def amend_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """An editor amends a published, unresolved forecast's terms, saying why."""
        if not can_edit(request.user):
            raise PermissionDenied("Only editors amend a forecast's terms.")
        forecast = self.get_object(request, unquote(object_id))
        if forecast is None:
            raise Http404(f"No forecast with id {object_id!r}.")

        def admin_field(field: Any, **kwargs: Any) -> forms.Field:
            formfield = self.formfield_for_dbfield(field, request=request, **kwargs)
            assert formfield is not None  # every amendable term is editable
            return formfield

        form_class = cast(
            "type[AmendForm]",
            forms.modelform_factory(
                Forecast, form=AmendForm, fields=AMENDABLE_TERMS, formfield_callback=admin_field
            ),
        )
        standing = Forecast.objects.get(pk=forecast.pk)  # the form's instance, not the admin's
        form = form_class(request.POST if request.method == "POST" else None, instance=standing)
        if form.is_bound and form.is_valid():
            try:
                amendment = forecast_amend(
                    forecast=forecast,
                    changes=form.changes(),
                    reason=form.cleaned_data["reason"],
                    amended_by=acting_user(request),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                message = f"Amended “{forecast}”: {', '.join(amendment.changes)}."
                self.log_change(request, forecast, message)
                self.message_user(request, message, messages.SUCCESS)
                return self._back_to_change_page(forecast)
        return self._review_form_response(
            request,
            forecast,
            form,
            title="Amend the terms",
            submit_label="Amend",
            current_resolution=forecast.current_resolution(),
            media=self.media + form.media,
        )

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The draft change page's Publish button: a POST to the publish service; its
        refusals (unmade terms) come back as an error message on the change page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        forecast = self.get_object(request, unquote(object_id))
        if forecast is None:
            raise Http404(f"No forecast with id {object_id!r}.")
        if not self.has_change_permission(request, forecast):
            raise PermissionDenied("You may not publish forecasts.")
        try:
            published = core_services.forecast_publish(
                forecast=forecast, published_by=acting_user(request)
            )
        except ValidationError as exc:
            self.message_user(request, "Not published. " + " ".join(exc.messages), messages.ERROR)
        else:
            message = f"Published “{published}” at {published.get_absolute_url()}."
            self.log_change(request, published, message)
            self.message_user(request, message, messages.SUCCESS)
        return self._back_to_change_page(forecast)

    def _forecast_to_review(self, request: HttpRequest, object_id: str) -> Forecast:
        forecast = self.get_object(request, unquote(object_id))
        if forecast is None:
            raise Http404(f"No forecast with id {object_id!r}.")
        if not can_resolve(request.user, forecast):
            raise PermissionDenied(f"You are not a reviewer of forecast {forecast.pk}.")
        return forecast

    def _back_to_change_page(self, forecast: Forecast) -> HttpResponseRedirect:
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[forecast.pk]))

    def _review_form_response(
        self,
        request: HttpRequest,
        forecast: Forecast,
        form: forms.BaseForm,
        **context: Any,
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            "admin/forecasts/forecast/review_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": forecast,
                **self._form_context(form),
                **context,
            },
        )

    def _form_context(self, form: forms.BaseForm) -> dict[str, Any]:
        """A plain form laid out as the admin lays out its model forms."""
        fieldsets = [(None, {"fields": list(form.fields)})]
        return {
            # Any form will do; the stubs ask for a model form.
            "adminform": helpers.AdminForm(form, fieldsets, {}, model_admin=self),  # type: ignore[arg-type]
            "errors": helpers.AdminErrorList(form, []),  # type: ignore[arg-type]
        }

    # --- Bulk actions ---

    @admin.action(description="Accept (publish) the selected drafts", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: ForecastQuerySet) -> None:
        report = ingest.candidates_accept(forecasts=queryset, accepted_by=acting_user(request))
        self.message_user(request, f"Published {report.published} forecast(s).", messages.SUCCESS)
        # Drafts the service left unpublished because their terms are unmade, and why.
        waiting = queryset.candidates().exclude(pk__in=[f.pk for f in report.needs_deadline])
        unmade = [
            refusal_sentence(forecast, refusals)
            for forecast in waiting
            if (refusals := publication_refusals(forecast))
        ]
        if unmade:
            self.message_user(
                request,
                "Not published, their terms are unmade: " + " ".join(unmade),
                messages.WARNING,
            )
        if report.needs_deadline:
            self.message_user(
                request,
                f"Not published, the text gave no deadline: set one (and replace the note) "
                f"first: {'; '.join(str(forecast) for forecast in report.needs_deadline)}",
                messages.WARNING,
            )

    @admin.action(description="Reject the selected drafts", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: ForecastQuerySet) -> None:
        count = core_services.forecasts_reject(forecasts=queryset)
        self.message_user(
            request,
            f"Rejected {count} draft(s); published forecasts are never rejected.",
            messages.SUCCESS,
        )

    @admin.action(description="Resolve selected forecasts…", permissions=["resolve"])
    def resolve_selected(
        self, request: HttpRequest, queryset: QuerySet[Forecast]
    ) -> TemplateResponse | None:
        """Ask for the outcome and evidence, then resolve every selected forecast or none."""
        forecasts = list(queryset)
        reviewable = set(
            forecasts_reviewable_by(acting_user(request))
            .filter(pk__in=[forecast.pk for forecast in forecasts])
            .values_list("pk", flat=True)
        )
        refused = [forecast for forecast in forecasts if forecast.pk not in reviewable]
        if refused:
            # All or nothing: a selection with someone else's forecast is refused whole.
            raise PermissionDenied(
                "You are not a reviewer of: " + "; ".join(str(forecast) for forecast in refused)
            )
        # One date for all: the shared deadline when they share one, else today.
        deadlines = {forecast.resolve_by for forecast in forecasts}
        form = ResolveForm(
            request.POST if "confirm" in request.POST else None,
            deadline=deadlines.pop() if len(deadlines) == 1 else None,
        )
        if form.is_bound and form.is_valid():
            try:
                self._resolve_all(request, forecasts, form)
            except _ResolveRefused as refusal:
                form.add_error(
                    None,
                    f"Nothing was resolved: “{refusal.forecast}” was refused: "
                    + " ".join(refusal.error.messages),
                )
            else:
                self.message_user(
                    request, f"Resolved {len(forecasts)} forecast(s).", messages.SUCCESS
                )
                return None
        return TemplateResponse(
            request,
            "admin/forecasts/forecast/resolve_selected.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Resolve the selected forecasts",
                "forecasts": forecasts,
                **self._form_context(form),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @transaction.atomic
    def _resolve_all(
        self, request: HttpRequest, forecasts: list[Forecast], form: ResolveForm
    ) -> None:
        for forecast in forecasts:
            try:
                core_services.forecast_resolve(
                    forecast=forecast,
                    resolved_by=acting_user(request),
                    **form.service_arguments(),
                )
            except ValidationError as exc:
                raise _ResolveRefused(forecast, exc) from exc
            self.log_change(request, forecast, "Resolved with the bulk action.")


#: The form fields that are forecast_create's and forecast_update's arguments.
TERMS = (
    "slug",
    "source",
    "forecaster",
    "statement",
    "quote",
    "resolution_criteria",
    "made_on",
    "made_on_precision",
    "resolve_by",
    "resolve_by_note",
    "condition",
    "tags",
)


def _terms(form: forms.ModelForm[Forecast], forecast: Forecast) -> dict[str, Any]:
    """The terms as typed; a published forecast's fixed ones (not on its form) as they stand."""
    data = form.cleaned_data
    terms = {name: data[name] if name in data else getattr(forecast, name) for name in TERMS}
    return {**terms, "publish": bool(data.get("publish"))}


def _published(forecast: Forecast | None) -> bool:
    return forecast is not None and forecast.published_at is not None


class _ResolveRefused(Exception):
    """One forecast of a bulk resolution was refused; the transaction is rolled back."""

    def __init__(self, forecast: Forecast, error: ValidationError) -> None:
        super().__init__(str(forecast))
        self.forecast, self.error = forecast, error
