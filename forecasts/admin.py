"""The editors' and reviewers' workspace. Writes that carry rules go through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from forecasts import services
from forecasts.models import (
    Estimate,
    Forecast,
    Forecaster,
    Resolution,
    ReviewerAssignment,
    ScoreRecompute,
    ScoreSnapshot,
    Source,
    Status,
    Tag,
)


class URLsAssumeHTTPS:
    """Scheme-less URLs typed into the admin are read as https:// (Django 6's default)."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(status.value, status.label) for status in Status]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if not self.value():
            return queryset
        return queryset.with_state(self.value(), at=timezone.now())


class EstimateInline(URLsAssumeHTTPS, admin.TabularInline):
    model = Estimate
    extra = 0
    fields = ("made_on", "probability", "low", "high", "basis", "phrase", "negated", "note")
    readonly_fields = ("created_at",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Estimates are history: add a new one rather than rewriting an old one.
        return False


class ResolutionInline(URLsAssumeHTTPS, admin.TabularInline):
    model = Resolution
    extra = 0
    can_delete = False
    fields = ("outcome", "known_on", "evidence_url", "evidence_note", "is_current", "resolved_by")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReviewerInline(URLsAssumeHTTPS, admin.TabularInline):
    model = ReviewerAssignment
    extra = 0
    autocomplete_fields = ("reviewer",)
    fields = ("reviewer", "assigned_at")
    readonly_fields = ("assigned_at",)


@admin.register(Forecast)
class ForecastAdmin(URLsAssumeHTTPS, admin.ModelAdmin):
    list_display = (
        "statement",
        "status_display",
        "probability_display",
        "resolve_by",
        "outcome_display",
        "forecaster",
        "source",
    )
    list_filter = (StatusFilter, "source", "forecaster", "tags")
    search_fields = ("statement", "quote", "slug", "resolution_criteria")
    date_hierarchy = "resolve_by"
    prepopulated_fields = {"slug": ("statement",)}
    autocomplete_fields = ("source", "forecaster", "tags")
    readonly_fields = ("quote_start", "quote_end", "created_at", "updated_at")
    inlines = (EstimateInline, ReviewerInline, ResolutionInline)
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
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    actions = ("publish",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Forecast]:
        return super().get_queryset(request).with_status(at=timezone.now())

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: Forecast) -> str:
        return str(Status(obj.status).label)  # type: ignore[attr-defined]

    @admin.display(description="probability", ordering="probability")
    def probability_display(self, obj: Forecast) -> str:
        probability = obj.probability  # type: ignore[attr-defined]
        return "—" if probability is None else f"{probability:.0%}"

    @admin.display(description="outcome", ordering="outcome")
    def outcome_display(self, obj: Forecast) -> str:
        return obj.outcome or "—"  # type: ignore[attr-defined]

    @admin.action(description="Publish the selected drafts", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Forecast]) -> None:
        count = queryset.drafts().update(published_at=timezone.now())
        self.message_user(request, f"Published {count} forecast(s).", messages.SUCCESS)


@admin.register(Resolution)
class ResolutionAdmin(URLsAssumeHTTPS, admin.ModelAdmin):
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


@admin.register(Source)
class SourceAdmin(URLsAssumeHTTPS, admin.ModelAdmin):
    list_display = ("title", "publisher", "published_on", "forecast_count", "has_text")
    list_filter = ("publisher", "published_precision")
    search_fields = ("title", "url", "publisher", "author", "key")
    prepopulated_fields = {"key": ("title",)}
    date_hierarchy = "published_on"

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
class ForecasterAdmin(URLsAssumeHTTPS, admin.ModelAdmin):
    list_display = ("name", "kind", "url")
    list_filter = ("kind",)
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Tag)
class TagAdmin(URLsAssumeHTTPS, admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Estimate)
class EstimateAdmin(URLsAssumeHTTPS, admin.ModelAdmin):
    list_display = ("forecast", "made_on", "probability", "basis", "phrase", "negated")
    list_filter = ("basis", "negated", "forecast__source")
    search_fields = ("forecast__statement", "phrase")
    autocomplete_fields = ("forecast",)
    list_select_related = ("forecast",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewerAssignment)
class ReviewerAssignmentAdmin(URLsAssumeHTTPS, admin.ModelAdmin):
    list_display = ("forecast", "reviewer", "assigned_at")
    search_fields = ("forecast__statement", "reviewer__username")
    autocomplete_fields = ("forecast", "reviewer")
    list_select_related = ("forecast", "reviewer")


class ReadOnlyAdmin(URLsAssumeHTTPS, admin.ModelAdmin):
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
