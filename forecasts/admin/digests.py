"""Digest subscribers (written through :mod:`forecasts.digests.subscriptions`), deliveries
and the sending schedule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from forecasts.admin.site import ModelAdmin, ModelForm, ReadOnlyAdmin, adopt_saved
from forecasts.digests import periods
from forecasts.digests.forms import mailable_address
from forecasts.digests.models import (
    Cadence,
    DeliveryStatus,
    DigestDelivery,
    Subscriber,
)
from forecasts.digests.subscriptions import (
    subscriber_admin_check,
    subscriber_admin_update,
    subscriber_delete,
)


def digest_schedule(now: dt.datetime) -> dict[str, Any]:
    """When beat sends digests, and which periods the next run would send."""
    # A crontab: its parsed hour and minute sets, which celery-types do not declare.
    entry: Any = settings.CELERY_BEAT_SCHEDULE["digests-daily"]["schedule"]
    hours, minutes = sorted(entry.hour), sorted(entry.minute)
    at = ", ".join(f"{hour:02d}:{minute:02d}" for hour in hours for minute in minutes)
    return {
        "when": f"daily at {at} ({settings.TIME_ZONE})",
        "periods": [
            periods.period_last_ended(now, cadence=cadence, time_zone=settings.TIME_ZONE)
            for cadence in Cadence.values
        ],
    }


class SubscriberForm(ModelForm[Subscriber]):
    """The address checked as the subscribe page checks it; the subscription's rules
    (double opt-in, the review queue's user) are the service's, beside their fields."""

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
        try:
            subscriber_admin_check(
                was=self.instance.status if self.instance.pk else None,
                status=data.get("status", ""),
                user=data.get("user"),
                include_review_queue=bool(data.get("include_review_queue")),
            )
        except ValidationError as refusal:
            # On its field, which spares the table's bare constraint message.
            self.add_error(None, refusal)
        return data


@admin.register(Subscriber)
class SubscriberAdmin(ModelAdmin[Subscriber]):
    """Saved by ``subscriber_admin_update`` (double opt-in holds: staff never confirm an
    address); deleted by ``subscriber_delete`` if no digest was ever sent to it."""

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
        subscribers: QuerySet[Subscriber] = super().get_queryset(request)
        return subscribers.annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_period=Subquery(latest.values("period_start")[:1]),
        ).prefetch_related("tags", "forecasters")

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

    def save_model(
        self,
        request: HttpRequest,
        obj: Subscriber,
        form: forms.ModelForm[Subscriber],
        change: bool,
    ) -> None:
        data = form.cleaned_data
        saved = subscriber_admin_update(
            subscriber=obj if change else None,
            email=data["email"],
            cadence=data["cadence"],
            status=data["status"],
            tags=data["tags"],
            forecasters=data["forecasters"],
            user=data["user"],
            include_review_queue=data["include_review_queue"],
            now=timezone.now(),
        )
        adopt_saved(obj, saved)

    def has_delete_permission(self, request: HttpRequest, obj: Subscriber | None = None) -> bool:
        return self.may(request, "delete")

    def delete_model(self, request: HttpRequest, obj: Subscriber) -> None:
        subscriber_delete(subscriber=obj)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdmin[DigestDelivery]):
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
    search_fields = ("subscriber__email", "message_id", "last_error")
    list_select_related = ("subscriber",)
    date_hierarchy = "period_start"

    @admin.display(description="error")
    def short_error(self, obj: DigestDelivery) -> str:
        return obj.last_error[:80]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"digest_schedule": digest_schedule(timezone.now()), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)
