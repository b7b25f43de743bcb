"""The review workflow's record: every prompt, reminder and escalation, and used links."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from forecasts.core.models import Forecast
from forecasts.mail.models import OutboxItem


class ReviewStep(models.TextChoices):
    PROMPT = "prompt", "Prompt"
    REMINDER = "reminder", "First reminder"
    SECOND_REMINDER = "second_reminder", "Second reminder"
    ESCALATION = "escalation", "Escalation to the admins"


class ReviewPrompt(OutboxItem):
    """One step of the review workflow for one forecast and one person.

    The row is the claim: it is inserted before the e-mail is sent (the unique
    constraint makes a second insert fail), then marked sent. A claim whose
    sender died is taken over by a later run once it is stale. A step the mail
    server refused for good is marked failed and not sent again.
    """

    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="review_prompts")
    step = models.CharField(max_length=20, choices=ReviewStep.choices)
    deadline = models.DateField(
        help_text="The deadline the step is about: an extension starts the steps again."
    )
    recipient = models.EmailField(help_text="Lower-cased address the step goes to.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="review_prompts",
    )
    failed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the mail server refused it for good (a 5xx): it is not sent again.",
    )

    class Meta:
        ordering = ["-claimed_at", "pk"]
        indexes = [models.Index(fields=["sent_at", "claimed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["forecast", "deadline", "step", "recipient"],
                name="review_prompt_once_per_step_and_person",
            ),
            models.CheckConstraint(
                condition=Q(step__in=ReviewStep.values), name="review_prompt_step_valid"
            ),
            models.CheckConstraint(
                condition=Q(recipient=Lower("recipient")) & ~Q(recipient=""),
                name="review_prompt_recipient_lower_case",
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(sent_at__gte=F("claimed_at")),
                name="review_prompt_sent_after_claim",
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(failed_at__isnull=True),
                name="review_prompt_sent_or_failed_not_both",
            ),
        ]

    @classmethod
    def outbox_waiting(cls) -> dict[str, Any]:
        return {"sent_at": None, "failed_at": None}

    @classmethod
    def outbox_failed(cls, *, now: dt.datetime) -> dict[str, Any]:
        return {"failed_at": now}

    def __str__(self) -> str:
        # No recipient: the text stands in admin pages shown to users who may not see
        # other people's e-mail addresses.
        return f"{self.get_step_display()} for forecast {self.forecast_id} (#{self.pk})"


class ReviewLinkUse(models.Model):
    """A one-click review link that has been used: each link works once."""

    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token.")
    forecast = models.ForeignKey(Forecast, on_delete=models.CASCADE, related_name="link_uses")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    action = models.CharField(max_length=10)
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-used_at"]

    def __str__(self) -> str:
        return f"{self.action} link for forecast {self.forecast_id} used {self.used_at:%Y-%m-%d}"
