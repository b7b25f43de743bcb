"""The editors' and reviewers' workspace. Writes that carry rules go through services.

Resolving and extending deadlines happen in views added to the forecast admin
(``<id>/resolve/``, ``<id>/extend/``) and in a bulk action; each asks
:func:`forecasts.permissions.can_resolve` about the forecasts in hand, so model
permissions alone never let a staff user resolve. Resolutions, deadline
extensions and review prompts are the audit trail: shown, never edited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from forecasts import periods, services
from forecasts.forms import (
    CorrectionForm,
    ExtendForm,
    KeyCheckedChoiceField,
    KeyCheckedMultipleChoiceField,
    ResolveForm,
    add_service_errors,
    key_fits,
    mailable_address,
)
from forecasts.models import (
    Cadence,
    DeadlineExtension,
    DeliveryStatus,
    DigestDelivery,
    Estimate,
    Forecast,
    Forecaster,
    Resolution,
    ReviewerAssignment,
    ReviewPrompt,
    ScoreRecompute,
    ScoreSnapshot,
    Source,
    Status,
    Subscriber,
    SubscriberStatus,
    Tag,
)
from forecasts.permissions import can_resolve, forecasts_reviewable_by

OVERDUE = "overdue"


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


def _escalation_days() -> int:
    return settings.REVIEW_ESCALATION_DAYS  # type: ignore[no-any-return]


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
        now = timezone.now()
        if value == OVERDUE:
            escalated_before = timezone.localdate(now) - dt.timedelta(days=_escalation_days())
            return queryset.due(at=now).filter(resolve_by__lt=escalated_before)
        try:
            return queryset.with_state(value, at=now)
        except ValueError as exc:
            raise IncorrectLookupParameters(str(exc)) from exc


def _reviews_anything(request: HttpRequest) -> bool:
    """Whether the user may resolve some forecast: asked several times per page, queried once."""
    if not hasattr(request, "_reviews_anything"):
        reviewable = forecasts_reviewable_by(request.user)  # type: ignore[arg-type]
        request._reviews_anything = reviewable.exists()  # type: ignore[attr-defined]
    return request._reviews_anything  # type: ignore[attr-defined,no-any-return]


# --- Audit trail inlines -----------------------------------------------------


class AuditInline(admin.TabularInline):
    """History rows written by services: whoever may see the forecast sees them, nobody edits."""

    extra = 0
    can_delete = False
    related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related(*self.related)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        forecast_admin = self.admin_site.get_model_admin(Forecast)
        return forecast_admin.has_view_or_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ResolutionInline(AuditInline):
    model = Resolution
    verbose_name_plural = "resolutions and corrections"
    fields = (
        "outcome",
        "known_on",
        "evidence_url",
        "evidence_note",
        "resolved_by",
        "resolved_at",
        "correction_reason",
        "standing",
    )
    readonly_fields = fields
    related = ("resolved_by",)
    show_change_link = True

    @admin.display(description="current or superseded")
    def standing(self, obj: Resolution) -> str:
        return "current" if obj.is_current else "superseded"


class DeadlineExtensionInline(AuditInline):
    model = DeadlineExtension
    fields = ("previous_resolve_by", "new_resolve_by", "reason", "extended_by", "extended_at")
    readonly_fields = fields
    related = ("extended_by",)


class ReviewPromptInline(AuditInline):
    model = ReviewPrompt
    verbose_name_plural = "review prompts"
    fields = ("step", "recipient", "user", "deadline", "claimed_at", "sent_at", "attempts")
    readonly_fields = fields
    related = ("user",)


class EstimateInline(FormDefaults, admin.TabularInline):
    model = Estimate
    extra = 0
    fields = ("made_on", "probability", "low", "high", "basis", "phrase", "negated", "note")
    readonly_fields = ("created_at",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Estimates are history: add a new one rather than rewriting an old one.
        return False


class ReviewerInline(FormDefaults, admin.TabularInline):
    model = ReviewerAssignment
    extra = 0
    autocomplete_fields = ("reviewer",)
    fields = ("reviewer", "assigned_at")
    readonly_fields = ("assigned_at",)


@admin.register(Forecast)
class ForecastAdmin(ModelAdmin):
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
        ReviewPromptInline,
    )
    list_select_related = ("source", "forecaster")
    fieldsets = (
        (None, {"fields": ("statement", "slug", "forecaster", "source", "tags", "published_at")}),
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
        return (
            super()
            .get_queryset(request)
            .with_status(at=timezone.now())
            .annotate(
                last_prompted_at=Subquery(last_sent.values("sent_at")[:1]),
                last_prompted_to=Subquery(last_sent.values("recipient")[:1]),
            )
        )

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
            *super().get_urls(),
        ]

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """May resolve at least one forecast; which ones is checked per forecast."""
        return _reviews_anything(request)

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
        return format_html("{}<br>to {}", when, obj.last_prompted_to)  # type: ignore[attr-defined]

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
            context["may_resolve"] = can_resolve(request.user, obj)  # type: ignore[arg-type]
            context["is_resolved"] = getattr(obj, "outcome", None) is not None
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- Resolve and extend one forecast ---

    def resolve_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        forecast = self._forecast_to_review(request, object_id)
        current = forecast.current_resolution()
        form_class = ResolveForm if current is None else CorrectionForm
        form = form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                resolution = services.forecast_resolve(
                    forecast=forecast,
                    resolved_by=request.user,  # type: ignore[arg-type]
                    **form.service_arguments(),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                verb = "Resolved" if current is None else "Corrected the resolution of"
                message = f"{verb} “{forecast}”: {resolution.get_outcome_display()}."
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
                extension = services.forecast_extend(
                    forecast=forecast,
                    new_resolve_by=form.cleaned_data["new_resolve_by"],
                    reason=form.cleaned_data["reason"],
                    extended_by=request.user,  # type: ignore[arg-type]
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

    def _forecast_to_review(self, request: HttpRequest, object_id: str) -> Forecast:
        forecast = self.get_object(request, unquote(object_id))
        if forecast is None:
            raise Http404(f"No forecast with id {object_id!r}.")
        if not can_resolve(request.user, forecast):  # type: ignore[arg-type]
            raise PermissionDenied(f"You are not a reviewer of forecast {forecast.pk}.")
        return forecast

    def _back_to_change_page(self, forecast: Forecast) -> HttpResponseRedirect:
        info = self.opts.app_label, self.opts.model_name
        return HttpResponseRedirect(reverse("admin:{}_{}_change".format(*info), args=[forecast.pk]))

    def _review_form_response(
        self,
        request: HttpRequest,
        forecast: Forecast,
        form: forms.Form,
        **context: Any,
    ) -> TemplateResponse:
        admin_form = admin.helpers.AdminForm(
            form, [(None, {"fields": list(form.fields)})], {}, model_admin=self
        )
        return TemplateResponse(
            request,
            "admin/forecasts/forecast/review_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": forecast,
                "adminform": admin_form,
                "errors": admin.helpers.AdminErrorList(form, []),
                **context,
            },
        )

    # --- Bulk actions ---

    @admin.action(description="Accept (publish) the selected drafts", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Forecast]) -> None:
        report = services.candidates_accept(forecasts=queryset)
        self.message_user(request, f"Published {report.published} forecast(s).", messages.SUCCESS)
        if report.needs_deadline:
            self.message_user(
                request,
                f"Not published, the text gave no deadline: set one (and replace the note) "
                f"first: {'; '.join(str(forecast) for forecast in report.needs_deadline)}",
                messages.WARNING,
            )

    @admin.action(description="Reject the selected drafts", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Forecast]) -> None:
        count = services.candidates_reject(forecasts=queryset)
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
            forecasts_reviewable_by(request.user)  # type: ignore[arg-type]
            .filter(pk__in=[forecast.pk for forecast in forecasts])
            .values_list("pk", flat=True)
        )
        refused = [forecast for forecast in forecasts if forecast.pk not in reviewable]
        if refused:
            # All or nothing: a selection with someone else's forecast is refused whole.
            raise PermissionDenied(
                "You are not a reviewer of: " + "; ".join(str(forecast) for forecast in refused)
            )
        form = ResolveForm(request.POST if "confirm" in request.POST else None)
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
        admin_form = admin.helpers.AdminForm(
            form, [(None, {"fields": list(form.fields)})], {}, model_admin=self
        )
        return TemplateResponse(
            request,
            "admin/forecasts/forecast/resolve_selected.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Resolve the selected forecasts",
                "forecasts": forecasts,
                "adminform": admin_form,
                "errors": admin.helpers.AdminErrorList(form, []),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @transaction.atomic
    def _resolve_all(
        self, request: HttpRequest, forecasts: list[Forecast], form: ResolveForm
    ) -> None:
        for forecast in forecasts:
            try:
                services.forecast_resolve(
                    forecast=forecast,
                    resolved_by=request.user,  # type: ignore[arg-type]
                    **form.service_arguments(),
                )
            except ValidationError as exc:
                raise _ResolveRefused(forecast, exc) from exc
            self.log_change(request, forecast, "Resolved with the bulk action.")


class _ResolveRefused(Exception):
    """One forecast of a bulk resolution was refused; the transaction is rolled back."""

    def __init__(self, forecast: Forecast, error: ValidationError) -> None:
        super().__init__(str(forecast))
        self.forecast, self.error = forecast, error


@admin.register(Resolution)
class ResolutionAdmin(ModelAdmin):
    """Resolutions are added through the resolve service; existing ones are never edited."""

    list_display = ("forecast", "outcome", "known_on", "is_current", "resolved_by", "resolved_at")
    list_filter = ("outcome", "is_current", "forecast__source", "forecast__forecaster")
    search_fields = ("forecast__statement", "evidence_note", "evidence_url")
    autocomplete_fields = ("forecast",)
    list_select_related = ("forecast", "resolved_by")
    fields = (
        "forecast",
        "outcome",
        "known_on",
        "evidence_url",
        "evidence_note",
        "correction_reason",
        "is_current",
        "supersedes",
        "resolved_by",
        "resolved_at",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is not None:
            return self.fields
        return ("is_current", "supersedes", "resolved_by", "resolved_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The model permission is not enough: the user must be a reviewer of something.
        # Whether they review the chosen forecast is checked by the form.
        return super().has_add_permission(request) and _reviews_anything(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # corrections are new resolutions, made through the resolve service

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = type("ResolutionAddForm", (ResolutionAddForm,), {"user": request.user})
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Resolution, form: Any, change: bool) -> None:
        if change:  # existing resolutions are read-only; corrections are new rows
            return
        resolution = services.forecast_resolve(
            forecast=obj.forecast,
            outcome=obj.outcome,
            known_on=obj.known_on,
            evidence_url=obj.evidence_url,
            note=obj.evidence_note,
            correction_reason=obj.correction_reason,
            resolved_by=request.user,  # type: ignore[arg-type]
        )
        obj.pk = resolution.pk
        obj.is_current, obj.supersedes = resolution.is_current, resolution.supersedes


class ResolutionAddForm(forms.ModelForm):  # type: ignore[type-arg]
    """Shows the resolve workflow's rules (already resolved, draft, dates) as form errors."""

    evidence_url = forms.URLField(max_length=500, required=False, assume_scheme="https")
    user: Any = None  # the person resolving, bound by ResolutionAdmin.get_form

    class Meta:
        model = Resolution
        fields = (
            "forecast",
            "outcome",
            "known_on",
            "evidence_url",
            "evidence_note",
            "correction_reason",
        )

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        data = self.cleaned_data
        try:
            services.forecast_resolve_check(
                forecast=data["forecast"],
                outcome=data["outcome"],
                known_on=data["known_on"],
                evidence_url=data.get("evidence_url", ""),
                note=data.get("evidence_note", ""),
                resolved_by=self.user,
                correction_reason=data.get("correction_reason", ""),
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        except PermissionDenied:
            self.add_error("forecast", "You are not a reviewer of this forecast.")


class SourceForm(forms.ModelForm):  # type: ignore[type-arg]
    """Pasted text is checked like an ingested file (size, control characters)."""

    url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Source
        fields = (
            "title",
            "key",
            "url",
            "publisher",
            "author",
            "published_on",
            "published_precision",
            "text",
        )
        widgets = {"text": forms.Textarea(attrs={"rows": 20, "cols": 100})}
        help_texts = {
            "text": "Paste the article's text; “Extract forecasts” proposes drafts from it."
        }

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        if not text:
            return text
        try:
            return services.article_text_check(text=text, name="The text")
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


@admin.register(Source)
class SourceAdmin(ModelAdmin):
    form = SourceForm
    list_display = ("title", "publisher", "published_on", "forecast_count", "has_text")
    list_filter = ("publisher", "published_precision")
    search_fields = ("title", "url", "publisher", "author", "key")
    prepopulated_fields = {"key": ("title",)}
    date_hierarchy = "published_on"
    actions = ("extract_forecasts",)

    @admin.action(description="Extract forecasts (propose drafts)", permissions=["change"])
    def extract_forecasts(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        created = without_text = 0
        for source in queryset:
            if not source.text.strip():
                without_text += 1
                continue
            created += len(services.source_extract(source=source))
        self.message_user(
            request,
            f"Proposed {created} draft forecast(s); those already proposed, accepted or "
            "rejected are not proposed again.",
            messages.SUCCESS,
        )
        if without_text:
            self.message_user(
                request, f"{without_text} source(s) have no text: paste it first.", messages.WARNING
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        from django.db.models import Count

        return super().get_queryset(request).annotate(forecast_count=Count("forecasts"))

    @admin.display(description="forecasts", ordering="forecast_count")
    def forecast_count(self, obj: Source) -> int:
        return obj.forecast_count  # type: ignore[attr-defined,no-any-return]

    @admin.display(description="text stored", boolean=True)
    def has_text(self, obj: Source) -> bool:
        return bool(obj.text)


@admin.register(Forecaster)
class ForecasterAdmin(ModelAdmin):
    list_display = ("name", "kind", "url")
    list_filter = ("kind",)
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Estimate)
class EstimateAdmin(ModelAdmin):
    list_display = ("forecast", "made_on", "probability", "basis", "phrase", "negated")
    list_filter = ("basis", "negated", "forecast__source")
    search_fields = ("forecast__statement", "phrase")
    autocomplete_fields = ("forecast",)
    list_select_related = ("forecast",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewerAssignment)
class ReviewerAssignmentAdmin(ModelAdmin):
    list_display = ("forecast", "reviewer", "assigned_at")
    search_fields = ("forecast__statement", "reviewer__username")
    autocomplete_fields = ("forecast", "reviewer")
    list_select_related = ("forecast", "reviewer")


class ReadOnlyAdmin(ModelAdmin):
    """Computed records: visible to staff, written only by services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(ReadOnlyAdmin):
    list_display = (
        "as_of",
        "scope_kind",
        "scope_id",
        "resolved_count",
        "brier",
        "shrunk_brier",
        "time_averaged_brier",
        "skill_vs_coin",
    )
    list_filter = ("scope_kind", "as_of")
    date_hierarchy = "as_of"


@admin.register(ScoreRecompute)
class ScoreRecomputeAdmin(ReadOnlyAdmin):
    list_display = ("pk", "pending_since")


@admin.register(DeadlineExtension)
class DeadlineExtensionAdmin(ReadOnlyAdmin):
    list_display = (
        "forecast",
        "previous_resolve_by",
        "new_resolve_by",
        "reason",
        "extended_by",
        "extended_at",
    )
    list_filter = (
        "extended_at",
        ("extended_by", admin.RelatedOnlyFieldListFilter),
        "forecast__source",
        "forecast__forecaster",
    )
    search_fields = ("forecast__statement", "reason")
    list_select_related = ("forecast", "extended_by")
    date_hierarchy = "extended_at"


@admin.register(ReviewPrompt)
class ReviewPromptAdmin(ReadOnlyAdmin):
    list_display = (
        "forecast",
        "step",
        "recipient",
        "deadline",
        "claimed_at",
        "sent_at",
        "attempts",
    )
    list_filter = (
        "step",
        ("sent_at", admin.EmptyFieldListFilter),
        "claimed_at",
        ("user", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("forecast__statement", "recipient", "last_error")
    list_select_related = ("forecast",)
    date_hierarchy = "claimed_at"


# --- Digests ------------------------------------------------------------------------------


def digest_schedule(now: dt.datetime) -> dict[str, Any]:
    """When beat sends digests, and which periods the next run would send."""
    entry = settings.CELERY_BEAT_SCHEDULE["digests-daily"]["schedule"]
    hours, minutes = sorted(entry.hour), sorted(entry.minute)
    at = ", ".join(f"{hour:02d}:{minute:02d}" for hour in hours for minute in minutes)
    return {
        "when": f"daily at {at} ({settings.TIME_ZONE})",
        "periods": [
            periods.period_last_ended(now, cadence=cadence, time_zone=settings.TIME_ZONE)
            for cadence in Cadence.values
        ],
    }


class SubscriberForm(forms.ModelForm):  # type: ignore[type-arg]
    """The rules of the subscription table as form errors, not database errors."""

    class Meta:
        model = Subscriber
        fields = (
            "email",
            "cadence",
            "status",
            "tags",
            "forecasters",
            "user",
            "include_review_queue",
        )

    def clean_email(self) -> str:
        # Stored lower-cased (a constraint): "Alice@Example.org" is the same address.
        return mailable_address(self.cleaned_data["email"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") == SubscriberStatus.CONFIRMED and self.instance.confirmed_at is None:
            # Double opt-in: only the person behind the address confirms it, by the link.
            self.add_error(
                "status",
                "Only the subscriber can confirm, with the link in the confirmation e-mail.",
            )
        if data.get("include_review_queue") and data.get("user") is None:
            self.add_error(
                "include_review_queue", "The review queue needs a user whose queue it is."
            )
        return data


@admin.register(Subscriber)
class SubscriberAdmin(ModelAdmin):
    form = SubscriberForm
    list_display = (
        "email",
        "cadence",
        "status",
        "filters",
        "include_review_queue",
        "last_delivery",
        "permanent_failures",
        "confirmed_at",
    )
    list_filter = ("status", "cadence", "include_review_queue")
    search_fields = ("email",)
    filter_horizontal = ("tags", "forecasters")
    autocomplete_fields = ("user",)
    readonly_fields = (
        "token_version",
        "confirmation_sent_at",
        "confirmed_at",
        "unsubscribed_at",
        "permanent_failures",
        "created_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscriber]:
        latest = DigestDelivery.objects.filter(subscriber=OuterRef("pk")).order_by(
            "-period_start", "-pk"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_status=Subquery(latest.values("status")[:1]),
                last_period=Subquery(latest.values("period_start")[:1]),
            )
            .prefetch_related("tags", "forecasters")
        )

    @admin.display(description="filters")
    def filters(self, obj: Subscriber) -> str:
        names = [tag.name for tag in obj.tags.all()] + [f.name for f in obj.forecasters.all()]
        return ", ".join(names) or "everything"

    @admin.display(description="last delivery", ordering="last_period")
    def last_delivery(self, obj: Subscriber) -> str:
        status = getattr(obj, "last_status", None)
        if status is None:
            return "—"
        period = timezone.localtime(obj.last_period)  # type: ignore[attr-defined]
        return f"{DeliveryStatus(status).label}, period from {period:%Y-%m-%d}"


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "subscriber",
        "cadence",
        "period_start",
        "status",
        "sent_at",
        "attempts",
        "short_error",
    )
    list_filter = ("status", "cadence", "period_start")
    search_fields = ("subscriber__email", "message_id", "error")
    list_select_related = ("subscriber",)
    date_hierarchy = "period_start"

    @admin.display(description="error")
    def short_error(self, obj: DigestDelivery) -> str:
        return obj.error[:80]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"digest_schedule": digest_schedule(timezone.now()), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)


def _harden_registered(site: admin.AdminSite) -> None:
    """Give the admins other apps registered (Django's users and groups, django-axes'
    logs) the same refusal of forged selections as this app's own.

    Their admin modules are imported before this one (INSTALLED_APPS order), so each is
    registered again as a subclass of itself with :class:`SelectionCheck` mixed in."""
    for model, model_admin in list(site._registry.items()):
        original = type(model_admin)
        if issubclass(original, SelectionCheck):
            continue
        hardened = type(original.__name__, (SelectionCheck, original), {"__module__": __name__})
        site.unregister(model)
        site.register(model, hardened)


_harden_registered(admin.site)
