"""E-mail digests: subscriptions (double opt-in) and sending each period's digest exactly once.

Sending works everything out from the database and ``now`` (never from "since
the last run"): for each cadence, the period that ended most recently, and every
confirmed subscriber without a delivery row for it. Subscribers are taken in
batches; for each batch, through the outbox (:mod:`forecasts.mail.outbox`):

1. claim: insert one ``DigestDelivery`` per subscriber (unique per subscriber,
   cadence and period start; a concurrent run's insert turns into nothing), or
   take over a claim left unsent, once it is stale;
2. render each digest; mark the rows with nothing to report skipped;
3. send the batch's digests over one SMTP connection (no transaction open) and
   mark each row sent, failed (a 5xx: counted against the subscriber, who is
   paused after ``DIGEST_PAUSE_AFTER_FAILURES`` in a row) or leave it claimed
   (temporary failures, after the outbox's retries), only while the claim is
   still ours.

A doubled beat tick or a re-run finds the rows and sends nothing; a run killed
mid-batch leaves claimed rows that the next run takes over once they are older
than ``DIGEST_CLAIM_STALE_MINUTES``, and resends with the Message-ID chosen at
the claim (the fault suite counts such resends: docs/RELIABILITY.md). When the
mail server keeps failing, the run stops and leaves the rest unclaimed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

from forecasts.digests import links as digest_links
from forecasts.digests import periods
from forecasts.digests.models import (
    Cadence,
    DeliveryStatus,
    DigestDelivery,
    Subscriber,
    SubscriberStatus,
)
from forecasts.digests.report import (
    DigestReport,
    digest_filter,
    digest_period_report,
    digest_review_queue,
    digest_trim,
)
from forecasts.mail import builder as emails
from forecasts.mail.outbox import OutboxRun, Outgoing, outbox_claim, outbox_send

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DigestSendReport:
    """What one run did, over every cadence."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    deferred: int = 0
    paused: int = 0
    # Subscribers left unclaimed because the run reached its time budget (``until``):
    # a new run sends them.
    left: int = 0

    def __add__(self, other: DigestSendReport) -> DigestSendReport:
        return DigestSendReport(
            sent=self.sent + other.sent,
            skipped=self.skipped + other.skipped,
            failed=self.failed + other.failed,
            deferred=self.deferred + other.deferred,
            paused=self.paused + other.paused,
            left=self.left + other.left,
        )

    def __str__(self) -> str:
        return (
            f"{self.sent} digests sent, {self.skipped} skipped (nothing to report), "
            f"{self.failed} failed, {self.deferred} deferred to the next run, "
            f"{self.paused} subscribers paused"
            + (f", {self.left} left to a new run (time budget spent)" if self.left else "")
        )


def digests_send(
    *, now: dt.datetime, progress: Progress | None = None, until: float | None = None
) -> DigestSendReport:
    """Send every confirmed subscriber the digest of their period that has ended by ``now``.

    Safe to run at any time and as often as you like, concurrently too. Must not
    run inside a transaction (claims are committed before the SMTP conversation).

    ``until`` (a ``time.monotonic()`` moment) is the run's time budget: past it, no
    further batch is claimed (each cadence's first batch always is, so every run makes
    progress) and
    the report counts the subscribers ``left``; the task starts a new run for them,
    rather than being stopped by its time limit in the middle of a batch.
    """
    report = DigestSendReport()
    for cadence in Cadence.values:
        period = periods.period_last_ended(now, cadence=cadence, time_zone=settings.TIME_ZONE)
        report += _send_period(period, now=now, progress=progress, until=until)
    return report


def _send_period(
    period: periods.Period,
    *,
    now: dt.datetime,
    progress: Progress | None,
    until: float | None,
) -> DigestSendReport:
    stale_before = now - dt.timedelta(minutes=settings.DIGEST_CLAIM_STALE_MINUTES)
    settled = DigestDelivery.objects.filter(
        subscriber=OuterRef("pk"), cadence=period.cadence, period_start=period.start
    ).exclude(status=DeliveryStatus.CLAIMED, claimed_at__lt=stale_before)
    # Only the latest ended period, never a backlog: a subscriber's first digest is the
    # latest one, at the first run after they confirm; a run after an outage sends
    # the latest period, not every period it missed.
    waiting = list(
        Subscriber.objects.filter(status=SubscriberStatus.CONFIRMED, cadence=period.cadence)
        .filter(~Exists(settled))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not waiting:
        return DigestSendReport()
    next_period = periods.period_after(period, time_zone=settings.TIME_ZONE)
    renderer = _Renderer(digest_period_report(period=period, next_period=next_period), now=now)
    return _send_waiting(waiting, period, renderer, now=now, progress=progress, until=until)


def _send_waiting(
    waiting: list[int],
    period: periods.Period,
    renderer: _Renderer,
    *,
    now: dt.datetime,
    progress: Progress | None,
    until: float | None,
) -> DigestSendReport:
    report = DigestSendReport()
    run = OutboxRun(DigestDelivery, now=now, stale_minutes=settings.DIGEST_CLAIM_STALE_MINUTES)
    size = settings.DIGEST_BATCH_SIZE
    for offset in range(0, len(waiting), size):
        if offset and until is not None and time.monotonic() >= until:
            logger.info(
                "Digests: time budget spent; %d subscribers left to a new run.",
                len(waiting) - offset,
            )
            return replace(report, left=len(waiting) - offset)
        batch = waiting[offset : offset + size]
        claimed = _claim(batch, period, run=run)
        stop = False
        if claimed:
            sent, stop = _send_batch(claimed, renderer, run=run)
            report += sent
        if progress:
            progress(period.cadence, min(offset + size, len(waiting)), len(waiting))
        if stop:
            # The rest stay unclaimed for the next run (the task retries after the
            # claims go stale) instead of each batch waiting out the retries.
            logger.warning("Digests: the mail server keeps failing; stopping this run.")
            break
    return report


def _claim(
    subscriber_ids: Sequence[int], period: periods.Period, *, run: OutboxRun[DigestDelivery]
) -> list[DigestDelivery]:
    """The rows this run holds: the ones it inserted first, and stale ones it took over."""
    held = outbox_claim(
        run,
        new=[
            DigestDelivery(
                subscriber_id=subscriber_id,
                cadence=period.cadence,
                period_start=period.start,
                period_end=period.end,
            )
            for subscriber_id in subscriber_ids
        ],
        takeover=Q(
            cadence=period.cadence, period_start=period.start, subscriber_id__in=subscriber_ids
        ),
    )
    return list(
        held.filter(subscriber_id__in=subscriber_ids)
        .select_related("subscriber", "subscriber__user")
        .prefetch_related("subscriber__tags", "subscriber__forecasters")
        .order_by("subscriber_id")
    )


def _send_batch(
    claimed: Sequence[DigestDelivery], renderer: _Renderer, *, run: OutboxRun[DigestDelivery]
) -> tuple[DigestSendReport, bool]:
    """Send one batch over one connection; True as well when the server keeps failing."""
    outgoing: list[Outgoing[DigestDelivery]] = []
    skipped: list[int] = []
    gone: list[int] = []
    for row in claimed:
        if row.subscriber.status != SubscriberStatus.CONFIRMED:
            gone.append(row.pk)  # unsubscribed between the plan and the claim
            continue
        message = renderer.message(row.subscriber)
        if message is None:
            skipped.append(row.pk)
        else:
            outgoing.append(Outgoing((row,), message))
    if skipped or gone:
        held = run.held()
        held.filter(pk__in=skipped).update(status=DeliveryStatus.SKIPPED, last_error="")
        held.filter(pk__in=gone).update(
            status=DeliveryStatus.SKIPPED,
            last_error="No longer subscribed when the digest was sent.",
        )
    paused = 0

    def count_failure(item: Outgoing[DigestDelivery]) -> None:
        nonlocal paused
        paused += _count_permanent_failure(item.rows[0].subscriber)

    done = outbox_send(run, outgoing, on_failed=count_failure)
    delivered = [item.rows[0].subscriber_id for item in done.sent]
    if delivered:
        Subscriber.objects.filter(pk__in=delivered, permanent_failures__gt=0).update(
            permanent_failures=0
        )
    report = DigestSendReport(
        sent=len(done.sent),
        skipped=len(skipped) + len(gone),
        failed=len(done.failed),
        deferred=len(done.deferred),
        paused=paused,
    )
    return report, done.stopped


def _count_permanent_failure(subscriber: Subscriber) -> int:
    """Count one more permanent failure; pause the subscriber after too many in a row.
    Returns 1 when this failure paused them."""
    Subscriber.objects.filter(pk=subscriber.pk).update(
        permanent_failures=F("permanent_failures") + 1
    )
    paused = Subscriber.objects.filter(
        pk=subscriber.pk,
        status=SubscriberStatus.CONFIRMED,
        permanent_failures__gte=settings.DIGEST_PAUSE_AFTER_FAILURES,
    ).update(status=SubscriberStatus.PAUSED)
    if paused:
        logger.warning("Digest subscriber %s paused after repeated failures.", subscriber.pk)
    return paused


# Stands for a subscriber's signed token while a digest is rendered once for everyone
# with the same filters (letters and digits: escaping and wrapping leave it alone).
_PLACEHOLDER = "DigestTokenPlaceholder0"


class _Renderer:
    """Builds each subscriber's message.

    The templates are rendered once per set of filters, with a placeholder for the
    subscriber's signed token, and copied per subscriber with the token filled in;
    a staff digest with a review queue is rendered for that subscriber alone.
    """

    def __init__(self, report: DigestReport, *, now: dt.datetime) -> None:
        self.report = report
        self.now = now
        self.built: dict[tuple[frozenset[int], frozenset[int]], EmailMultiAlternatives | None]
        self.built = {}
        self.scorecard_url = settings.SITE_URL + reverse("forecasts:home")

    def message(self, subscriber: Subscriber) -> EmailMultiAlternatives | None:
        """None when there is nothing to report to this subscriber."""
        tag_ids = frozenset(tag.pk for tag in subscriber.tags.all())
        forecaster_ids = frozenset(forecaster.pk for forecaster in subscriber.forecasters.all())
        report = None
        if subscriber.include_review_queue and subscriber.user is not None:
            queue = digest_review_queue(user=subscriber.user, at=self.now)
            if queue:
                report = replace(
                    digest_filter(self.report, tag_ids=tag_ids, forecaster_ids=forecaster_ids),
                    review_queue=queue,
                )
        token = digest_links.manage_token(subscriber)
        key, filtered = (tag_ids, forecaster_ids), bool(tag_ids or forecaster_ids)
        if report is not None:
            return self._build(
                report,
                cadence=subscriber.cadence,
                filtered=filtered,
                to=subscriber.email,
                token=token,
            )
        if key not in self.built:
            narrowed = digest_filter(self.report, tag_ids=tag_ids, forecaster_ids=forecaster_ids)
            self.built[key] = self._build(
                narrowed,
                cadence=subscriber.cadence,
                filtered=filtered,
                to="",
                token=_PLACEHOLDER,
            )
        template = self.built[key]
        if template is None:
            return None
        return emails.personalise(template, to=[subscriber.email], replace={_PLACEHOLDER: token})

    def _build(
        self, report: DigestReport, *, cadence: str, filtered: bool, to: str, token: str
    ) -> EmailMultiAlternatives | None:
        if report.empty:
            return None
        sections = {
            "report": digest_trim(report, limit=settings.DIGEST_SECTION_LIMIT),
            "site_url": settings.SITE_URL,
            "scorecard_url": self.scorecard_url,
            "review_url": settings.SITE_URL + reverse("forecasts:review-queue"),
        }
        unsubscribe = digest_links.manage_url("unsubscribe", token)
        context = {
            "cadence": Cadence(cadence).label.lower(),
            "period": report.period,
            "sections_text": render_to_string("emails/_digest_sections-body.txt", sections),
            # Rendered (and escaped) by its own template; the body template places it as is.
            "sections_html": mark_safe(  # noqa: S308
                render_to_string("emails/_digest_sections-body.html", sections)
            ),
            "preferences_url": digest_links.manage_url("preferences", token),
            "unsubscribe_url": unsubscribe,
            "scorecard_url": self.scorecard_url,
            "site_url": settings.SITE_URL,
            "filtered": filtered,
        }
        return emails.build_message(
            "digest",
            context,
            to=[to] if to else [],
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
