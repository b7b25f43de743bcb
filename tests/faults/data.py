"""Committed data for the fault scenarios, and the checks of what was delivered."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.utils import timezone

from forecasts.core.models import ReviewerAssignment
from forecasts.digests import periods
from forecasts.digests.models import (
    Cadence,
    DeliveryStatus,
    DigestDelivery,
    Subscriber,
    SubscriberStatus,
)
from forecasts.reviews.models import ReviewPrompt, ReviewStep
from tests.factories import ForecastFactory, UserFactory

DAY = dt.timedelta(days=1)


def last_week() -> periods.Period:
    """The week the worker will send (it uses the real clock, as in production)."""
    return periods.period_last_ended(timezone.now(), cadence=Cadence.WEEKLY, time_zone="UTC")


def digest_readers(count: int) -> list[str]:
    """A week with news in it, and ``count`` confirmed weekly subscribers."""
    week = last_week()
    ForecastFactory(
        statement="Talks resume before the end of the term.",
        published_at=week.start + DAY,
        resolve_by=(week.end + 400 * DAY).date(),
    )
    emails = [f"reader{n:05d}@example.org" for n in range(count)]
    Subscriber.objects.bulk_create(
        Subscriber(
            email=email,
            cadence=Cadence.WEEKLY,
            status=SubscriberStatus.CONFIRMED,
            confirmed_at=week.start - 30 * DAY,
        )
        for email in emails
    )
    return emails


def digests_sent() -> int:
    return DigestDelivery.objects.filter(
        period_start=last_week().start, status=DeliveryStatus.SENT
    ).count()


@dataclass(frozen=True)
class Tally:
    """Lost and doubled, counted in the database and at the mail server."""

    expected: int
    rows_sent: int
    rows_unsent: int
    lost: int
    duplicated: int  # distinct messages beyond one per recipient (what a mailbox shows)
    retransmitted: int  # SMTP transmissions beyond one per recipient (same Message-ID)
    unexpected: int  # recipients who were not due anything

    def as_dict(self) -> dict[str, int]:
        return self.__dict__.copy()


def digest_tally(emails: list[str], sink: object) -> Tally:
    week = last_week()
    rows = DigestDelivery.objects.filter(cadence=Cadence.WEEKLY, period_start=week.start)
    sent = rows.filter(status=DeliveryStatus.SENT)
    distinct: Counter[str] = sink.distinct_per_recipient(digest=True)  # type: ignore[attr-defined]
    transmissions: Counter[str] = sink.per_recipient(digest=True)  # type: ignore[attr-defined]
    wanted = set(emails)
    return Tally(
        expected=len(emails),
        rows_sent=sent.count(),
        rows_unsent=rows.exclude(status=DeliveryStatus.SENT).count(),
        lost=len(wanted - set(distinct)),
        duplicated=sum(n - 1 for n in distinct.values() if n > 1),
        retransmitted=sum(n - 1 for n in transmissions.values() if n > 1),
        unexpected=len(set(distinct) - wanted),
    )


def digest_marks_match_the_sink(sink: object) -> list[str]:
    """Addresses marked sent that the mail server never received (must be none)."""
    received = set(sink.per_recipient(digest=True))  # type: ignore[attr-defined]
    marked = DigestDelivery.objects.filter(status=DeliveryStatus.SENT).values_list(
        "subscriber__email", flat=True
    )
    return sorted(set(marked) - received)


def due_forecasts(count: int, reviewers: int) -> tuple[list[str], set[tuple[str, str]]]:
    """``count`` forecasts past their deadline, each assigned to two of ``reviewers``
    reviewers; returns the addresses and the (address, statement) pairs to be prompted."""
    users = [
        UserFactory(username=f"reviewer{n:02d}", email=f"reviewer{n:02d}@example.org")
        for n in range(reviewers)
    ]
    deadline = timezone.localdate() - 2 * DAY
    wanted: set[tuple[str, str]] = set()
    for n in range(count):
        forecast = ForecastFactory(
            statement=f"Due event number {n:04d} happens.",
            made_on=deadline - 300 * DAY,
            resolve_by=deadline,
        )
        for user in (users[n % reviewers], users[(n + 1) % reviewers]):
            ReviewerAssignment.objects.create(forecast=forecast, reviewer=user)
            wanted.add((user.email, forecast.statement))
    return [user.email for user in users], wanted


def prompt_rows() -> tuple[int, int]:
    """(prompt rows marked sent, prompt rows still unsent)."""
    rows = ReviewPrompt.objects.filter(step=ReviewStep.PROMPT)
    return rows.filter(sent_at__isnull=False).count(), rows.filter(sent_at__isnull=True).count()


def prompt_tally(reviewers: list[str], wanted: set[tuple[str, str]], sink: object) -> Tally:
    """Which (reviewer, forecast) prompts reached the mail server, in how many distinct
    messages: every wanted pair once, nothing else."""
    import email
    import email.policy

    seen: Counter[tuple[str, str]] = Counter()
    prompts = sink.received(digest=False)  # type: ignore[attr-defined]
    by_id = {(m.recipient, m.message_id): m.data for m in prompts}
    transmissions = Counter(m.recipient for m in prompts)
    statements = {statement for _, statement in wanted}
    for (recipient, _), data in by_id.items():
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        text = parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        for statement in statements:
            if statement in text:
                seen[(recipient, statement)] += 1
    sent, unsent = prompt_rows()
    return Tally(
        expected=len(wanted),
        rows_sent=sent,
        rows_unsent=unsent,
        lost=len(wanted - set(seen)),
        duplicated=sum(n - 1 for n in seen.values() if n > 1),
        retransmitted=sum(transmissions.values()) - len(by_id),
        unexpected=len(set(seen) - wanted) + len({r for r, _ in by_id} - set(reviewers)),
    )
