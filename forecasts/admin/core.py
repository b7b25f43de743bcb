"""Sources, forecasters, tags, estimates, resolutions, assignments and extensions: each
written through its core service (:mod:`forecasts.core.services`)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from forecasts.admin import source_fetch
from forecasts.admin.forecast_inlines import estimate_fields
from forecasts.admin.site import (
    ModelAdmin,
    ModelForm,
    ReadOnlyAdmin,
    acting_user,
    adopt_saved,
    passes,
    reviews_anything,
)
from forecasts.core import services as core_services
from forecasts.core.models import (
    DeadlineExtension,
    Estimate,
    ForecastAmendment,
    Forecaster,
    Resolution,
    ReviewerAssignment,
    Source,
    Tag,
)
from forecasts.extraction import ingest
from forecasts.extraction import tasks as extraction_tasks

RESOLUTION_FIELDS = (
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


@admin.register(Resolution)
class ResolutionAdmin(ModelAdmin[Resolution]):
    """Resolutions are added through the resolve service; existing ones are never edited,
    nor deleted."""

    list_display = ("forecast", "outcome", "known_on", "is_current", "resolved_by", "resolved_at")
    list_filter = ("outcome", "is_current", "forecast__source", "forecast__forecaster")
    search_fields = ("forecast__statement", "evidence_note", "evidence_url")
    autocomplete_fields = ("forecast",)
    list_select_related = ("forecast", "resolved_by")
    fields = RESOLUTION_FIELDS

    def get_readonly_fields(
        self, request: HttpRequest, obj: Resolution | None = None
    ) -> tuple[str, ...]:
        if obj is not None:
            return RESOLUTION_FIELDS
        return ("is_current", "supersedes", "resolved_by", "resolved_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The model permission is not enough: the user must be a reviewer of something.
        # Whether they review the chosen forecast is checked by the form.
        return super().has_add_permission(request) and reviews_anything(request)

    def has_change_permission(self, request: HttpRequest, obj: Resolution | None = None) -> bool:
        return False  # corrections are new resolutions, made through the resolve service

    def get_form(
        self,
        request: HttpRequest,
        obj: Resolution | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[Resolution]]:
        if obj is None:
            kwargs["form"] = type(
                "ResolutionAddForm", (ResolutionAddForm,), {"user": acting_user(request)}
            )
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
            resolved_by=acting_user(request),
        )
        adopt_saved(obj, resolution)


class ResolutionAddForm(ModelForm[Resolution]):
    """Shows the resolve workflow's rules (already resolved, draft, dates) as form errors."""

    evidence_url = forms.URLField(max_length=500, required=False, assume_scheme="https")
    user: User | None = None  # the person resolving, bound by ResolutionAdmin.get_form

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
        super()._post_clean()  # type: ignore[misc]  # private, not in the stubs
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


class SourceForm(ModelForm[Source]):
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
class SourceAdmin(ModelAdmin[Source]):
    """Saved by ``source_save``: a changed text moves its forecasts' quote positions.

    Deleted by ``source_delete``; one that forecasts cite is protected (Django's delete
    page lists them)."""

    form = SourceForm
    list_display = ("title", "publisher", "published_on", "forecast_count", "has_text")
    list_filter = ("publisher", "published_precision")
    search_fields = ("title", "url", "publisher", "author", "key")
    prepopulated_fields = {"key": ("title",)}
    date_hierarchy = "published_on"
    actions = ("extract_forecasts",)
    change_list_template = "admin/forecasts/source/change_list.html"

    def get_urls(self) -> list[Any]:
        return [
            path(
                "from-url/",
                self.admin_site.admin_view(self.from_url_view),
                name="forecasts_source_from_url",
            ),
            *super().get_urls(),
        ]

    def from_url_view(self, request: HttpRequest) -> HttpResponse:
        """Add source from URL (:mod:`forecasts.admin.source_fetch`)."""
        return source_fetch.source_from_url_view(self, request)

    @admin.action(description="Extract forecasts (propose drafts)", permissions=["change"])
    def extract_forecasts(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        """Each source is read by a task (``source_extract``, under a time limit): the
        page answers at once, whatever the text."""
        sources = list(queryset)
        with_text = [source.pk for source in sources if source.text.strip()]
        without_text = len(sources) - len(with_text)
        for source_id in with_text:
            transaction.on_commit(partial(extraction_tasks.source_extract.delay, source_id))
        if with_text:
            drafts = reverse("admin:forecasts_forecast_changelist") + "?status=draft"
            if len(with_text) == 1:
                drafts += f"&source__id__exact={with_text[0]}"
            self.message_user(
                request,
                format_html(
                    "Extracting forecasts from {} source(s) has started: the drafts it "
                    'proposes appear among the <a href="{}">draft forecasts</a> within a '
                    "minute. Those already proposed, accepted or rejected are not proposed "
                    "again.",
                    len(with_text),
                    drafts,
                ),
                messages.SUCCESS,
            )
        if without_text:
            self.message_user(
                request, f"{without_text} source(s) have no text: paste it first.", messages.WARNING
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Source]:
        sources: QuerySet[Source] = super().get_queryset(request)
        return sources.annotate(forecast_count=Count("forecasts"))

    @admin.display(description="forecasts", ordering="forecast_count")
    def forecast_count(self, obj: Source) -> int:
        return obj.forecast_count  # type: ignore[attr-defined,no-any-return]

    @admin.display(description="text stored", boolean=True)
    def has_text(self, obj: Source) -> bool:
        return bool(obj.text)

    def save_model(
        self, request: HttpRequest, obj: Source, form: forms.ModelForm[Source], change: bool
    ) -> None:
        data = form.cleaned_data
        saved = core_services.source_save(
            source=obj if change else None,
            key=data["key"],
            title=data["title"],
            url=data["url"],
            publisher=data["publisher"],
            author=data["author"],
            published_on=data["published_on"],
            published_precision=data["published_precision"],
            text=data["text"],
        )
        adopt_saved(obj, saved)

    def has_delete_permission(self, request: HttpRequest, obj: Source | None = None) -> bool:
        return self.may(request, "delete")

    def delete_model(self, request: HttpRequest, obj: Source) -> None:
        core_services.source_delete(source=obj)


@admin.register(Forecaster)
class ForecasterAdmin(ModelAdmin[Forecaster]):
    """Saved by ``forecaster_save``; deleted by ``forecaster_delete`` (one with forecasts is
    protected)."""

    list_display = ("name", "kind", "url")
    list_filter = ("kind",)
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(
        self,
        request: HttpRequest,
        obj: Forecaster,
        form: forms.ModelForm[Forecaster],
        change: bool,
    ) -> None:
        data = form.cleaned_data
        saved = core_services.forecaster_save(
            forecaster=obj if change else None,
            name=data["name"],
            slug=data["slug"],
            kind=data["kind"],
            url=data["url"],
            description=data["description"],
        )
        adopt_saved(obj, saved)

    def has_delete_permission(self, request: HttpRequest, obj: Forecaster | None = None) -> bool:
        return self.may(request, "delete")

    def delete_model(self, request: HttpRequest, obj: Forecaster) -> None:
        core_services.forecaster_delete(forecaster=obj)


@admin.register(Tag)
class TagAdmin(ModelAdmin[Tag]):
    """Saved by ``tag_save``; deleted by ``tag_delete``, unless published forecasts carry it."""

    list_display = ("name", "slug")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}

    def save_model(
        self, request: HttpRequest, obj: Tag, form: forms.ModelForm[Tag], change: bool
    ) -> None:
        data = form.cleaned_data
        saved = core_services.tag_save(
            tag=obj if change else None, name=data["name"], slug=data["slug"]
        )
        adopt_saved(obj, saved)

    def has_delete_permission(self, request: HttpRequest, obj: Tag | None = None) -> bool:
        return self.may(request, "delete") and (
            obj is None or passes(core_services.tag_delete_check, tag=obj)
        )

    def delete_model(self, request: HttpRequest, obj: Tag) -> None:
        core_services.tag_delete(tag=obj)


@admin.register(Estimate)
class EstimateAdmin(ModelAdmin[Estimate]):
    """Recorded by ``estimate_record`` (by whom: the signed-in editor), never changed;
    a draft's deleted by ``estimate_delete`` while another remains."""

    list_display = ("forecast", "made_on", "probability", "basis", "phrase", "negated")
    list_filter = ("basis", "negated", "forecast__source")
    search_fields = ("forecast__statement", "phrase")
    autocomplete_fields = ("forecast",)
    list_select_related = ("forecast",)
    fields = (
        "forecast",
        "made_on",
        "probability",
        "low",
        "high",
        "basis",
        "phrase",
        "negated",
        "note",
        "recorded_by",
        "created_at",
    )
    # Dated the day it is recorded: the date is not an input.
    readonly_fields = ("made_on", "recorded_by", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Estimate | None = None) -> bool:
        return False  # estimates are history: record a new one

    def save_model(
        self, request: HttpRequest, obj: Estimate, form: forms.ModelForm[Estimate], change: bool
    ) -> None:
        data = form.cleaned_data
        recorded = core_services.estimate_record(
            forecast=data["forecast"], recorded_by=acting_user(request), **estimate_fields(form)
        )
        adopt_saved(obj, recorded)

    def has_delete_permission(self, request: HttpRequest, obj: Estimate | None = None) -> bool:
        return self.may(request, "delete") and (
            obj is None or passes(core_services.estimate_delete_check, estimate=obj)
        )

    def delete_model(self, request: HttpRequest, obj: Estimate) -> None:
        core_services.estimate_delete(estimate=obj)


@admin.register(ReviewerAssignment)
class ReviewerAssignmentAdmin(ModelAdmin[ReviewerAssignment]):
    """Added by ``reviewer_assign``, removed by ``reviewer_unassign``; never changed (an
    assignment is who reviews what, since when: remove it and assign someone else)."""

    list_display = ("forecast", "reviewer", "assigned_at")
    search_fields = ("forecast__statement", "reviewer__username")
    autocomplete_fields = ("forecast", "reviewer")
    list_select_related = ("forecast", "reviewer")
    fields = ("forecast", "reviewer", "assigned_at")
    readonly_fields = ("assigned_at",)

    def has_change_permission(
        self, request: HttpRequest, obj: ReviewerAssignment | None = None
    ) -> bool:
        return False

    def save_model(
        self,
        request: HttpRequest,
        obj: ReviewerAssignment,
        form: forms.ModelForm[ReviewerAssignment],
        change: bool,
    ) -> None:
        data = form.cleaned_data
        assignment = core_services.reviewer_assign(
            forecast=data["forecast"], reviewer=data["reviewer"]
        )
        adopt_saved(obj, assignment)

    def has_delete_permission(
        self, request: HttpRequest, obj: ReviewerAssignment | None = None
    ) -> bool:
        return self.may(request, "delete")

    def delete_model(self, request: HttpRequest, obj: ReviewerAssignment) -> None:
        core_services.reviewer_unassign(forecast=obj.forecast, reviewer=obj.reviewer)


@admin.register(DeadlineExtension)
class DeadlineExtensionAdmin(ReadOnlyAdmin[DeadlineExtension]):
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


@admin.register(ForecastAmendment)
class ForecastAmendmentAdmin(ReadOnlyAdmin[ForecastAmendment]):
    """Amendments of published forecasts' terms, recorded by ``forecast_amend`` (the
    forecast's Amend terms page); never changed nor deleted."""

    list_display = ("forecast", "changed_terms", "reason", "amended_by", "amended_at")
    list_filter = ("amended_at", ("amended_by", admin.RelatedOnlyFieldListFilter))
    search_fields = ("forecast__statement", "reason")
    list_select_related = ("forecast", "amended_by")
    date_hierarchy = "amended_at"

    @admin.display(description="terms changed")
    def changed_terms(self, obj: ForecastAmendment) -> str:
        return ", ".join(obj.changes)
