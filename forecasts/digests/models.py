"""Digest subscribers and one delivery row per subscriber and period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from forecasts.core.models import Forecaster, Tag, synthetic_flag
from forecasts.mail.models import OutboxItem


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Pending confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    PAUSED = "paused", "Paused (repeated permanent delivery failures)"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class Subscriber(models.Model):
    """An address that asked for periodic digests. Nothing but the confirmation is sent
    until the address confirms (double opt-in)."""

    email = models.EmailField(help_text="Stored lower-cased; unique.")
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.WEEKLY)
    status = models.CharField(
        max_length=12, choices=SubscriberStatus.choices, default=SubscriberStatus.PENDING
    )
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="subscribers", help_text="Only these topics (none: all)."
    )
    forecasters = models.ManyToManyField(
        Forecaster,
        blank=True,
        related_name="subscribers",
        help_text="Only these forecasters (none: all).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digest_subscriptions",
        help_text="The staff account whose overdue review queue the digest adds.",
    )
    include_review_queue = models.BooleanField(
        default=False, help_text="Staff digest: add the linked user's overdue review queue."
    )
    token_version = models.PositiveIntegerField(
        default=1, help_text="Bumped on re-subscription: links sent before stop working."
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    permanent_failures = models.PositiveSmallIntegerField(
        default=0, help_text="Permanent delivery failures in a row; reset by a delivery."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    synthetic = synthetic_flag()

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["status", "cadence"])]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="subscriber_email_unique_case_insensitive",
                violation_error_message="This address is already subscribed.",
            ),
            models.CheckConstraint(
                condition=Q(email=Lower("email")) & ~Q(email=""),
                name="subscriber_email_lower_case",
            ),
            models.CheckConstraint(
                condition=Q(cadence__in=Cadence.values), name="subscriber_cadence_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubscriberStatus.values), name="subscriber_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=SubscriberStatus.CONFIRMED) | Q(confirmed_at__isnull=False),
                name="subscriber_confirmed_has_confirmed_at",
            ),
            models.CheckConstraint(
                condition=Q(include_review_queue=False) | Q(user__isnull=False),
                name="subscriber_review_queue_needs_user",
            ),
        ]

    def __str__(self) -> str:
        return self.email


class DeliveryStatus(models.TextChoices):
    CLAIMED = "claimed", "Claimed (being sent)"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped (nothing to report)"
    FAILED = "failed", "Failed (permanent)"


class DigestDelivery(OutboxItem):
    """One subscriber's digest for one period. The row is the claim: inserted before the
    e-mail is sent (the unique constraint stops a second run), then marked sent, failed
    or skipped (``status``)."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.CLAIMED
    )

    class Meta:
        verbose_name_plural = "digest deliveries"
        ordering = ["-period_start", "subscriber"]
        indexes = [models.Index(fields=["status", "claimed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "cadence", "period_start"],
                name="digest_delivery_once_per_subscriber_and_period",
            ),
            models.CheckConstraint(
                condition=Q(cadence__in=Cadence.values), name="digest_delivery_cadence_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="digest_delivery_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")),
                name="digest_delivery_period_in_order",
            ),
            models.CheckConstraint(
                condition=(Q(status=DeliveryStatus.SENT) & Q(sent_at__isnull=False))
                | (~Q(status=DeliveryStatus.SENT) & Q(sent_at__isnull=True)),
                name="digest_delivery_sent_at_iff_sent",
            ),
        ]

    @classmethod
    def outbox_waiting(cls) -> dict[str, Any]:
        return {"status": DeliveryStatus.CLAIMED}

    @classmethod
    def outbox_sent(cls, *, now: dt.datetime) -> dict[str, Any]:
        return {"status": DeliveryStatus.SENT, "sent_at": now}

    @classmethod
    def outbox_failed(cls, *, now: dt.datetime) -> dict[str, Any]:
        return {"status": DeliveryStatus.FAILED}

    def __str__(self) -> str:
        return f"{self.cadence} digest from {self.period_start:%Y-%m-%d} to {self.subscriber_id}"
