"""The forecast change page's inlines: its history (resolutions, extensions, amendments,
prompts), read-only, and the estimates and reviewers editors add there (the forecast
admin writes them through the core services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from forecasts.admin.site import TabularInline
from forecasts.core.models import (
    DeadlineExtension,
    Estimate,
    Forecast,
    ForecastAmendment,
    Resolution,
    ReviewerAssignment,
)
from forecasts.core.services import EstimateFields
from forecasts.reviews.models import ReviewPrompt

# --- History: written by services, read-only here -------------------------------


class AuditInline(TabularInline[Any, Forecast]):
    """History rows written by services: whoever may see the forecast sees them, nobody edits."""

    extra = 0
    can_delete = False
    related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related(*self.related)

    def has_view_permission(self, request: HttpRequest, obj: Forecast | None = None) -> bool:
        forecast_admin = self.admin_site.get_model_admin(Forecast)
        return forecast_admin.has_view_or_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Forecast | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Forecast | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Forecast | None = None) -> bool:
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


class AmendmentInline(AuditInline):
    model = ForecastAmendment
    verbose_name_plural = "amendments of the terms"
    fields = ("amended_at", "changed_terms", "reason", "amended_by")
    readonly_fields = fields
    related = ("amended_by",)

    @admin.display(description="changed (before → after)")
    def changed_terms(self, obj: ForecastAmendment) -> str:
        return "; ".join(f"{term}: {was!r} → {now!r}" for term, (was, now) in obj.changes.items())


def may_see_addresses(request: HttpRequest) -> bool:
    """Whether the admin may show this user other people's e-mail addresses (the
    recipients of review prompts): those who may see the users themselves."""
    return bool(request.user.has_perm("auth.view_user"))


class ReviewPromptInline(AuditInline):
    model = ReviewPrompt
    verbose_name_plural = "review prompts"
    fields = ("step", "recipient", "user", "deadline", "claimed_at", "sent_at", "attempts")
    readonly_fields = fields
    related = ("user",)

    def get_fields(self, request: HttpRequest, obj: Forecast | None = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        if may_see_addresses(request):
            return fields
        return [field for field in fields if field != "recipient"]


# --- Added by editors: ForecastAdmin.save_formset calls the services ---------------------


class EstimateInline(TabularInline[Estimate, Forecast]):
    """Recorded by ``estimate_record`` (a new forecast's, by ``forecast_create``), dated the
    day it is recorded: the date is not an input. None once the outcome is known."""

    model = Estimate
    extra = 0
    fields = ("made_on", "probability", "low", "high", "basis", "phrase", "negated", "note")
    readonly_fields = ("made_on", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Forecast | None = None) -> bool:
        # estimate_record refuses any estimate once the outcome is known.
        resolved = obj is not None and obj.resolutions.filter(is_current=True).exists()
        return not resolved and super().has_add_permission(request, obj)

    def get_min_num(self, request: HttpRequest, obj: Forecast | None = None, **kwargs: Any) -> int:
        # A forecast is created with its first estimate: the add page asks for it.
        return 1 if obj is None else 0

    # Inlines are asked about the parent forecast (the stubs' InlineModelAdmin overrides so too).
    def has_change_permission(  # type: ignore[override]
        self, request: HttpRequest, obj: Forecast | None = None
    ) -> bool:
        # Estimates are history: add a new one rather than rewriting an old one.
        return False

    def has_delete_permission(  # type: ignore[override]
        self, request: HttpRequest, obj: Forecast | None = None
    ) -> bool:
        # A draft's, while another remains (estimate_delete); a published forecast's, never.
        return (
            obj is not None
            and obj.published_at is None
            and super().has_delete_permission(request, obj)
        )


class ReviewerInline(TabularInline[ReviewerAssignment, Forecast]):
    """Assigned by ``reviewer_assign``, removed by ``reviewer_unassign``."""

    model = ReviewerAssignment
    extra = 0
    autocomplete_fields = ("reviewer",)
    fields = ("reviewer", "assigned_at")
    readonly_fields = ("assigned_at",)

    def has_change_permission(  # type: ignore[override]
        self, request: HttpRequest, obj: Forecast | None = None
    ) -> bool:
        # An assignment is who reviews what, since when: remove it and assign someone else.
        return False


def estimate_fields(form: forms.ModelForm[Estimate]) -> EstimateFields:
    """The estimate an estimate form holds, as the estimate services take it (undated:
    the services date it the day it is recorded)."""
    data = form.cleaned_data
    return EstimateFields(
        probability=data["probability"],
        low=data["low"],
        high=data["high"],
        basis=data["basis"],
        phrase=data["phrase"],
        negated=data["negated"],
        note=data["note"],
    )
