"""Review prompts: who is e-mailed about which due forecast, and when, each step exactly once.

Every run works everything out from the database (never from "since the last
run"), so a run may come late, twice, or at the same time as another:

* PROMPT: each responsible reviewer of a due forecast, about its current deadline.
* REMINDER: ``REVIEW_REMINDER_DAYS`` after that reviewer's prompt was sent.
* SECOND_REMINDER: ``REVIEW_SECOND_REMINDER_DAYS`` after the prompt, and no
  sooner after the reminder than the two intervals differ.
* ESCALATION: to the site admins, ``REVIEW_ESCALATION_DAYS`` after the first
  prompt about this deadline, or at once when nobody can be prompted.

A reviewer's steps come in order, one per run: a forecast seen long after its
deadline gets the prompt first, not every step at once. An extension moves the
deadline, and the steps start again about the new one.

A step the mail server refused for good (a 5xx about the address or the
message) is not sent again, and that reviewer gets no further steps about this
deadline. When none of a forecast's reviewers can be reached that way, the
admins are told at once, as when nobody can be prompted at all.

Exactly once, through the outbox (:mod:`forecasts.mail.outbox`): claim (insert
a row, unique per forecast, deadline, step and recipient, or take over a stale
claim), send one e-mail per person (no transaction open), mark sent only while
the claim is still ours. Its rules for temporary and permanent failures are
the digests' too.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower, Trim
from django.urls import reverse
from django.utils import timezone

from forecasts.core import permissions
from forecasts.core.models import Forecast
from forecasts.core.selectors import estimates_in_order
from forecasts.mail import builder as emails
from forecasts.mail.outbox import OutboxRun, Outgoing, outbox_claim, outbox_send
from forecasts.reviews import links
from forecasts.reviews.models import ReviewPrompt, ReviewStep

logger = logging.getLogger(__name__)

# A reviewer's steps, in the order they are sent.
REVIEWER_STEPS = (ReviewStep.PROMPT, ReviewStep.REMINDER, ReviewStep.SECOND_REMINDER)
_STEP_ORDER: dict[str, int] = {
    step: index for index, step in enumerate([*REVIEWER_STEPS, ReviewStep.ESCALATION])
}

_Key = tuple[int, str, str]  # forecast id, step, recipient


@dataclass(frozen=True)
class PromptReport:
    """What one run sent: steps (one per forecast and person) and the e-mails carrying them;
    e-mails refused for good (not sent again), and deferred ones (a later run retries them)."""

    prompts: int = 0
    reminders: int = 0
    second_reminders: int = 0
    escalations: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    emails_deferred: int = 0

    def __str__(self) -> str:
        return (
            f"{self.prompts} prompts, {self.reminders} reminders, "
            f"{self.second_reminders} second reminders, {self.escalations} escalations "
            f"in {self.emails_sent} e-mails; {self.emails_failed} e-mails failed, "
            f"{self.emails_deferred} deferred to a later run"
        )


@dataclass(frozen=True)
class _Wanted:
    forecast: Forecast
    step: str
    recipient: str
    user: User | None

    @property
    def key(self) -> _Key:
        return (self.forecast.pk, self.step, self.recipient)


def reviews_prompt_due(*, now: dt.datetime) -> PromptReport:
    """Prompt, remind and escalate every due forecast's reviewers as of ``now``.

    Safe to run at any time and as often as you like, concurrently too: each
    step goes to each person once. Must not run inside a transaction (the rows
    are claimed and marked in autocommit, around the SMTP conversation).
    """
    forecasts = list(
        Forecast.objects.due(at=now)
        .select_related("source")
        .prefetch_related(estimates_in_order())
        .order_by("resolve_by", "pk")
    )
    if not forecasts:
        return PromptReport()
    reviewers = permissions.responsible_reviewers(forecasts)
    history = _history(forecasts)
    wanted = _plan(forecasts, reviewers, history, now=now)
    if not wanted:
        return PromptReport()
    run = OutboxRun(ReviewPrompt, now=now, stale_minutes=settings.REVIEW_CLAIM_STALE_MINUTES)
    claimed = _claim(wanted, history, run=run)
    if not claimed:
        return PromptReport()
    renderer = _Renderer(
        forecasts={forecast.pk: forecast for forecast in forecasts},
        reviewers=reviewers,
        history=history,
        now=now,
    )
    return _send(claimed, renderer, run=run)


# --- Planning: which steps are due ---------------------------------------------------------


def _history(forecasts: Sequence[Forecast]) -> dict[_Key, ReviewPrompt]:
    """Every step already claimed or sent about each forecast's current deadline."""
    rows = ReviewPrompt.objects.filter(forecast__in=forecasts, deadline=F("forecast__resolve_by"))
    return {(row.forecast_id, row.step, row.recipient): row for row in rows}


def _plan(
    forecasts: Sequence[Forecast],
    reviewers: dict[int, list[User]],
    history: dict[_Key, ReviewPrompt],
    *,
    now: dt.datetime,
) -> list[_Wanted]:
    first_prompt = _first_prompts(history)
    failed = _failed_reviewers(history)
    wanted: list[_Wanted] = []
    without_address: set[str] = set()
    admins: list[tuple[str, User | None]] | None = None
    for forecast in forecasts:
        addresses = _addresses(reviewers[forecast.pk], without_address)
        refused = failed.get(forecast.pk, set())
        reachable = {address: user for address, user in addresses.items() if address not in refused}
        for recipient, reviewer in reachable.items():
            step = _next_reviewer_step(forecast.pk, recipient, history, now=now)
            if step is not None:
                wanted.append(_Wanted(forecast, step, recipient, reviewer))
        first = first_prompt.get(forecast.pk)
        # Nobody to prompt, or the mail server refused everyone responsible: only the
        # admins can see to it, so tell them now.
        unreachable = not reachable and (first is None or bool(refused & set(addresses)))
        if unreachable or (first is not None and now >= first + _days("ESCALATION")):
            admins = _site_admins() if admins is None else admins
            for address, admin in admins:
                row = history.get((forecast.pk, ReviewStep.ESCALATION, address))
                if row is None or row.is_waiting():
                    wanted.append(_Wanted(forecast, ReviewStep.ESCALATION, address, admin))
    if without_address:
        logger.warning(
            "Reviewers without an e-mail address are not prompted: %s",
            ", ".join(sorted(without_address)),
        )
    return wanted


def _failed_reviewers(history: dict[_Key, ReviewPrompt]) -> dict[int, set[str]]:
    """Per forecast, the reviewers a step to whom the mail server refused for good."""
    failed: dict[int, set[str]] = defaultdict(set)
    for (forecast_id, step, recipient), row in history.items():
        if step in REVIEWER_STEPS and row.failed_at is not None:
            failed[forecast_id].add(recipient)
    return failed


def _first_prompts(history: dict[_Key, ReviewPrompt]) -> dict[int, dt.datetime]:
    """When each forecast's first prompt about its current deadline was sent."""
    first: dict[int, dt.datetime] = {}
    for (forecast_id, step, _), row in history.items():
        if step == ReviewStep.PROMPT and row.sent_at is not None:
            known = first.get(forecast_id)
            first[forecast_id] = min(known, row.sent_at) if known else row.sent_at
    return first


def _addresses(users: Iterable[User], without_address: set[str]) -> dict[str, User]:
    """Lower-cased address → user; users sharing an address get one e-mail."""
    addresses: dict[str, User] = {}
    for user in users:
        if not user.email.strip():
            without_address.add(user.get_username())
            continue
        addresses.setdefault(user.email.strip().lower(), user)
    return addresses


def _next_reviewer_step(
    forecast_id: int, recipient: str, history: dict[_Key, ReviewPrompt], *, now: dt.datetime
) -> str | None:
    """The first of the reviewer's steps not yet sent, if it is due (unsent claims included:
    the claim step decides whether they are stale)."""
    prompt = history.get((forecast_id, ReviewStep.PROMPT, recipient))
    if prompt is None or prompt.sent_at is None:
        return ReviewStep.PROMPT
    reminder = history.get((forecast_id, ReviewStep.REMINDER, recipient))
    if reminder is None or reminder.sent_at is None:
        due = prompt.sent_at + _days("REMINDER")
        return ReviewStep.REMINDER if now >= due else None
    second = history.get((forecast_id, ReviewStep.SECOND_REMINDER, recipient))
    if second is None or second.sent_at is None:
        # After a pause (the scheduler was down) the reminders keep their spacing
        # instead of arriving an hour apart.
        due = max(
            prompt.sent_at + _days("SECOND_REMINDER"),
            reminder.sent_at + _days("SECOND_REMINDER") - _days("REMINDER"),
        )
        return ReviewStep.SECOND_REMINDER if now >= due else None
    return None


def _days(step: str) -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, f"REVIEW_{step}_DAYS"))


def _site_admins() -> list[tuple[str, User | None]]:
    """``ADMINS`` (with the user of each address, if any), else active superusers with an
    address: lower-cased address → user."""
    users: QuerySet[User] = get_user_model().objects.filter(is_active=True).exclude(email="")
    configured = list(
        dict.fromkeys(
            (entry if isinstance(entry, str) else entry[1]).strip().lower()
            for entry in settings.ADMINS
        )
    )
    if not configured:
        superusers: dict[str, User | None] = {}
        for user in users.filter(is_superuser=True).order_by("pk"):
            superusers.setdefault(user.email.strip().lower(), user)
        return list(superusers.items())
    by_address: dict[str, User] = {}
    matching = users.annotate(address=Lower(Trim("email"))).filter(address__in=configured)
    for user in matching.order_by("-is_superuser", "pk"):
        by_address.setdefault(user.email.strip().lower(), user)
    return [(address, by_address.get(address)) for address in configured]


# --- Claiming and sending: the outbox ------------------------------------------------------


def _claim(
    wanted: Sequence[_Wanted], history: dict[_Key, ReviewPrompt], *, run: OutboxRun[ReviewPrompt]
) -> list[ReviewPrompt]:
    """The rows this run holds: new ones it inserted first, and stale ones it took over."""
    new = [
        ReviewPrompt(
            forecast=item.forecast,
            deadline=item.forecast.resolve_by,
            step=item.step,
            recipient=item.recipient,
            user=item.user,
        )
        for item in wanted
        if item.key not in history
    ]
    # Only the claims of steps still wanted: not those of a reviewer no longer responsible.
    existing = [history[item.key].pk for item in wanted if item.key in history]
    held = outbox_claim(run, new=new, takeover=Q(pk__in=existing) if existing else None)
    return list(held.select_related("user").order_by("recipient", "pk"))


def _send(
    claimed: Sequence[ReviewPrompt], renderer: _Renderer, *, run: OutboxRun[ReviewPrompt]
) -> PromptReport:
    # One e-mail per person: their reviews in one, and (for admins) the escalations in another.
    groups: dict[tuple[str, bool], list[ReviewPrompt]] = defaultdict(list)
    for row in claimed:
        groups[(row.recipient, row.step == ReviewStep.ESCALATION)].append(row)
    outgoing = [
        Outgoing(rows, renderer.message(recipient, rows, escalation=escalation))
        for (recipient, escalation), rows in groups.items()
    ]
    done = outbox_send(run, outgoing)
    sent_steps: dict[str, int] = defaultdict(int)
    for item in done.sent:
        for row in item.rows:
            sent_steps[row.step] += 1
    return PromptReport(
        prompts=sent_steps[ReviewStep.PROMPT],
        reminders=sent_steps[ReviewStep.REMINDER],
        second_reminders=sent_steps[ReviewStep.SECOND_REMINDER],
        escalations=sent_steps[ReviewStep.ESCALATION],
        emails_sent=len(done.sent),
        emails_failed=len(done.failed),
        emails_deferred=len(done.deferred),
    )


class _Renderer:
    """Builds one e-mail from a person's claimed rows."""

    def __init__(
        self,
        *,
        forecasts: dict[int, Forecast],
        reviewers: dict[int, list[User]],
        history: dict[_Key, ReviewPrompt],
        now: dt.datetime,
    ) -> None:
        self.forecasts = forecasts
        self.reviewer_ids = {
            forecast_id: {user.pk for user in users} for forecast_id, users in reviewers.items()
        }
        self.history = history
        self.now = now
        self.today = timezone.localdate(now)
        self.queue_url = settings.SITE_URL + reverse("forecasts:review-queue")

    def message(
        self, recipient: str, rows: Sequence[ReviewPrompt], *, escalation: bool
    ) -> EmailMultiAlternatives:
        ordered = sorted(rows, key=lambda row: (self.forecasts[row.forecast_id].resolve_by, row.pk))
        user = ordered[0].user
        items = [self._item(row, escalation=escalation) for row in ordered]
        step = max((str(row.step) for row in ordered), key=_STEP_ORDER.__getitem__)
        context = {
            "recipient": recipient,
            "user": user,
            "name": (user.get_full_name() or user.get_username()) if user else "",
            "step": step,
            "count": len(items),
            "items": items,
            "mixed_steps": len({row.step for row in ordered}) > 1,
            "escalation": escalation,
            "queue_url": self.queue_url,
            "site_url": settings.SITE_URL,
            "escalation_days": settings.REVIEW_ESCALATION_DAYS,
        }
        name = "review_escalation" if escalation else "review_prompt"
        return emails.build_message(
            name, context, to=[recipient], headers={"Auto-Submitted": "auto-generated"}
        )

    def _item(self, row: ReviewPrompt, *, escalation: bool) -> dict[str, Any]:
        forecast = self.forecasts[row.forecast_id]
        estimates = list(forecast.estimates.all())
        user = row.user
        # One-click links only work for someone who may resolve the forecast;
        # anyone else (an ADMINS address without an account) gets the admin page.
        may_resolve = user is not None and (
            user.is_superuser or user.pk in self.reviewer_ids.get(forecast.pk, set())
        )
        actions = (
            [
                {
                    "action": action,
                    "label": label,
                    # Prompts are only about due forecasts, which are unresolved.
                    "url": links.review_url(
                        reviewer=user,
                        forecast=forecast,
                        action=action,
                        current_resolution_id=links.UNRESOLVED,
                    ),
                }
                for action, label in links.ACTIONS.items()
            ]
            if may_resolve and user is not None
            else []
        )
        return {
            "forecast": forecast,
            "step": row.step,
            "step_label": ReviewStep(row.step).label,
            "source": forecast.source,
            "probability": f"{estimates[-1].probability:.0%}" if estimates else "",
            "deadline": forecast.resolve_by,
            "days_overdue": (self.today - forecast.resolve_by).days,
            "actions": actions,
            "admin_url": settings.SITE_URL
            + reverse("admin:forecasts_forecast_change", args=[forecast.pk]),
            "page_url": settings.SITE_URL + forecast.get_absolute_url(),
            "prompted": self._prompted(forecast) if escalation else [],
            "failed": self._failed(forecast) if escalation else [],
        }

    def _prompted(self, forecast: Forecast) -> list[dict[str, Any]]:
        """Who was prompted when about this deadline, for the admins."""
        rows = [
            row
            for (forecast_id, step, _), row in self.history.items()
            if forecast_id == forecast.pk and step in REVIEWER_STEPS and row.sent_at is not None
        ]
        return [
            {"recipient": row.recipient, "step": ReviewStep(row.step).label, "at": row.sent_at}
            for row in sorted(rows, key=lambda row: (row.sent_at, row.recipient))
        ]

    def _failed(self, forecast: Forecast) -> list[dict[str, Any]]:
        """Which steps about this deadline the mail server refused for good, for the admins."""
        rows = [
            row
            for (forecast_id, step, _), row in self.history.items()
            if forecast_id == forecast.pk and step in REVIEWER_STEPS and row.failed_at is not None
        ]
        return [
            {
                "recipient": row.recipient,
                "step": ReviewStep(row.step).label,
                "at": row.failed_at,
                "error": row.last_error[:200],
            }
            for row in sorted(rows, key=lambda row: (row.failed_at, row.recipient))
        ]
