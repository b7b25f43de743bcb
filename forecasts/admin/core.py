"""Sources, forecasters, tags, estimates, resolutions, assignments and extensions."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from forecasts.admin.site import ModelAdmin, ReadOnlyAdmin, reviews_anything
from forecasts.core import services as core_services
from forecasts.core.models import (
    DeadlineExtension,
    Estimate,
    Forecaster,
    Resolution,
    ReviewerAssignment,
    Source,
    Tag,
)
from forecasts.extraction import ingest


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
        return super().has_add_permission(request) and reviews_anything(request)

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
        resolution = core_services.forecast_resolve(
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
            core_services.forecast_resolve_check(
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
            return ingest.article_text_check(text=text, name="The text")
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
            created += len(ingest.source_extract(source=source))
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
