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

Exactly once: claim (insert a row, unique per forecast, deadline, step and
recipient, or take over a claim whose sender died), then send (one connection,
no transaction open), then mark sent (only while the claim is still ours).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Prefetch, QuerySet
from django.db.models.functions import Lower, Trim
from django.urls import reverse
from django.utils import timezone

from forecasts.core import permissions
from forecasts.core.models import Estimate, Forecast
from forecasts.mail import builder as emails
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
    """What one run sent: steps (one per forecast and person) and the e-mails carrying them."""

    prompts: int = 0
    reminders: int = 0
    second_reminders: int = 0
    escalations: int = 0
    emails_sent: int = 0
    emails_failed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.prompts} prompts, {self.reminders} reminders, "
            f"{self.second_reminders} second reminders, {self.escalations} escalations "
            f"in {self.emails_sent} e-mails; {self.emails_failed} e-mails failed"
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
        .prefetch_related(
            Prefetch("estimates", queryset=Estimate.objects.order_by("made_on", "pk"))
        )
        .order_by("resolve_by", "pk")
    )
    if not forecasts:
        return PromptReport()
    reviewers = permissions.responsible_reviewers(forecasts)
    history = _history(forecasts)
    wanted = _plan(forecasts, reviewers, history, now=now)
    if not wanted:
        return PromptReport()
    run = uuid.uuid4()
    claimed = _claim(wanted, history, run=run, now=now)
    if not claimed:
        return PromptReport()
    return _send(
        claimed,
        forecasts={forecast.pk: forecast for forecast in forecasts},
        reviewers=reviewers,
        history=history,
        run=run,
        now=now,
    )


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
    wanted: list[_Wanted] = []
    without_address: set[str] = set()
    admins: list[tuple[str, User | None]] | None = None
    for forecast in forecasts:
        addresses = _addresses(reviewers[forecast.pk], without_address)
        for recipient, reviewer in addresses.items():
            step = _next_reviewer_step(forecast.pk, recipient, history, now=now)
            if step is not None:
                wanted.append(_Wanted(forecast, step, recipient, reviewer))
        first = first_prompt.get(forecast.pk)
        # Nobody to prompt: only the admins can see to it, so tell them now.
        escalate = not addresses if first is None else now >= first + _days("ESCALATION")
        if escalate:
            admins = _site_admins() if admins is None else admins
            for address, admin in admins:
                sent = history.get((forecast.pk, ReviewStep.ESCALATION, address))
                if sent is None or sent.sent_at is None:
                    wanted.append(_Wanted(forecast, ReviewStep.ESCALATION, address, admin))
    if without_address:
        logger.warning(
            "Reviewers without an e-mail address are not prompted: %s",
            ", ".join(sorted(without_address)),
        )
    return wanted


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


# --- Claiming -----------------------------------------------------------------------------


def _claim(
    wanted: Sequence[_Wanted],
    history: dict[_Key, ReviewPrompt],
    *,
    run: uuid.UUID,
    now: dt.datetime,
) -> list[ReviewPrompt]:
    """The rows this run holds: new ones it inserted first, and stale ones it took over."""
    stale_before = now - dt.timedelta(minutes=settings.REVIEW_CLAIM_STALE_MINUTES)
    new: list[ReviewPrompt] = []
    stale: list[int] = []
    for item in wanted:
        row = history.get(item.key)
        if row is None:
            new.append(
                ReviewPrompt(
                    forecast=item.forecast,
                    deadline=item.forecast.resolve_by,
                    step=item.step,
                    recipient=item.recipient,
                    user=item.user,
                    claim=run,
                    claimed_at=now,
                    # The e-mail's Message-ID derives from its rows' (see _send).
                    message_id=emails.message_id(),
                )
            )
        elif row.sent_at is None and row.claimed_at < stale_before:
            stale.append(row.pk)
    if new:
        # Another run inserting the same (forecast, deadline, step, recipient)
        # first keeps it: the unique constraint turns our insert into nothing.
        ReviewPrompt.objects.bulk_create(new, ignore_conflicts=True)
    if stale:
        taken = ReviewPrompt.objects.filter(
            pk__in=stale, sent_at__isnull=True, claimed_at__lt=stale_before
        ).update(claim=run, claimed_at=now)
        if taken:
            logger.info("Took over %d review prompt claims left unsent by another run.", taken)
    return list(
        ReviewPrompt.objects.filter(claim=run, sent_at__isnull=True)
        .select_related("user")
        .order_by("recipient", "pk")
    )


# --- Sending ------------------------------------------------------------------------------


def _send(
    claimed: Sequence[ReviewPrompt],
    *,
    forecasts: dict[int, Forecast],
    reviewers: dict[int, list[User]],
    history: dict[_Key, ReviewPrompt],
    run: uuid.UUID,
    now: dt.datetime,
) -> PromptReport:
    # One e-mail per person: their reviews in one, and (for admins) the escalations in another.
    groups: dict[tuple[str, bool], list[ReviewPrompt]] = defaultdict(list)
    for row in claimed:
        groups[(row.recipient, row.step == ReviewStep.ESCALATION)].append(row)
    renderer = _Renderer(forecasts=forecasts, reviewers=reviewers, history=history, now=now)
    sent_steps: dict[str, int] = defaultdict(int)
    emails_sent = emails_failed = 0
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:
        logger.exception("Review prompts: cannot reach the mail server; retrying later.")
        for rows in groups.values():
            _record_failure(rows, run=run, error=exc)
        return PromptReport(emails_failed=len(groups))
    try:
        for (recipient, escalation), rows in groups.items():
            try:
                message = renderer.message(recipient, rows, escalation=escalation)
                if all(row.message_id for row in rows):
                    # The same rows give the same Message-ID: if a run died between the
                    # server accepting this e-mail and marking it, the run that takes the
                    # claims over resends the same message, which mail stores keep once.
                    message.extra_headers["Message-ID"] = emails.message_id_for(
                        row.message_id for row in rows
                    )
                if connection.send_messages([message]) != 1:
                    raise RuntimeError("The e-mail backend did not send the message.")
            except Exception as exc:
                logger.exception("Review prompt to %s failed; retrying later.", recipient)
                _record_failure(rows, run=run, error=exc)
                emails_failed += 1
                _reconnect(connection)
                continue
            emails_sent += 1
            marked = ReviewPrompt.objects.filter(
                pk__in=[row.pk for row in rows], claim=run, sent_at__isnull=True
            ).update(
                sent_at=now,
                message_id=message.extra_headers["Message-ID"],
                attempts=F("attempts") + 1,
                last_error="",
            )
            if marked != len(rows):
                logger.warning(
                    "Review prompt to %s was sent after another run took over the claim.",
                    recipient,
                )
            for row in rows:
                sent_steps[row.step] += 1
    finally:
        _close(connection)
    return PromptReport(
        prompts=sent_steps[ReviewStep.PROMPT],
        reminders=sent_steps[ReviewStep.REMINDER],
        second_reminders=sent_steps[ReviewStep.SECOND_REMINDER],
        escalations=sent_steps[ReviewStep.ESCALATION],
        emails_sent=emails_sent,
        emails_failed=emails_failed,
    )


def _record_failure(rows: Sequence[ReviewPrompt], *, run: uuid.UUID, error: Exception) -> None:
    """Leave the claim unsent: a later run takes it over once it is stale."""
    # The exception's own words (a server reply, a socket error), never the settings.
    text = f"{type(error).__name__}: {error}"[:1000]
    ReviewPrompt.objects.filter(
        pk__in=[row.pk for row in rows], claim=run, sent_at__isnull=True
    ).update(attempts=F("attempts") + 1, last_error=text)


def _reconnect(connection: Any) -> None:
    """After a failure the SMTP conversation may be broken: start a fresh one."""
    _close(connection)
    try:
        connection.open()
    except Exception:
        logger.exception("Review prompts: cannot reconnect to the mail server.")


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:
        logger.exception("Review prompts: closing the mail connection failed.")


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
