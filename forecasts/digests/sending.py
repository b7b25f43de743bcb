"""E-mail digests: subscriptions (double opt-in) and sending each period's digest exactly once.

Sending works everything out from the database and ``now`` (never from "since
the last run"): for each cadence, the period that ended most recently, and every
confirmed subscriber without a delivery row for it. Subscribers are taken in
batches; for each batch:

1. claim: insert one ``DigestDelivery`` per subscriber (unique per subscriber,
   cadence and period start; a concurrent run's insert turns into nothing), or
   take over a claim left unsent by a run that died, once it is stale;
2. send the batch's digests over one SMTP connection (no transaction open),
   retrying temporary failures (4xx, disconnects) with backoff;
3. mark each row sent (with its Message-ID), skipped (nothing to report) or
   failed (5xx), only while the claim is still ours.

A doubled beat tick or a re-run finds the rows and sends nothing; a run killed
mid-batch leaves claimed rows that the next run takes over once they are older
than ``DIGEST_CLAIM_STALE_MINUTES``. The window for a duplicate is a worker killed
between the server accepting a message and the row being marked: a few
milliseconds per message, the same trade every claim-then-send sender makes.
The Message-ID is chosen with the claim, so that resend is the same message
(same Message-ID), which mail stores that deduplicate keep once; the fault
suite counts such resends (docs/RELIABILITY.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db_connection
from django.db.models import Exists, F, OuterRef
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

    def __add__(self, other: DigestSendReport) -> DigestSendReport:
        return DigestSendReport(
            sent=self.sent + other.sent,
            skipped=self.skipped + other.skipped,
            failed=self.failed + other.failed,
            deferred=self.deferred + other.deferred,
            paused=self.paused + other.paused,
        )

    def __str__(self) -> str:
        return (
            f"{self.sent} digests sent, {self.skipped} skipped (nothing to report), "
            f"{self.failed} failed, {self.deferred} deferred to the next run, "
            f"{self.paused} subscribers paused"
        )


def digests_send(*, now: dt.datetime, progress: Progress | None = None) -> DigestSendReport:
    """Send every confirmed subscriber the digest of their period that has ended by ``now``.

    Safe to run at any time and as often as you like, concurrently too. Must not
    run inside a transaction (claims are committed before the SMTP conversation).
    """
    report = DigestSendReport()
    for cadence in Cadence.values:
        period = periods.period_last_ended(now, cadence=cadence, time_zone=settings.TIME_ZONE)
        report += _send_period(period, now=now, progress=progress)
    return report


def _send_period(
    period: periods.Period, *, now: dt.datetime, progress: Progress | None
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
    with _commits_without_flush_wait():
        return _send_waiting(waiting, period, renderer, now=now, progress=progress)


@contextlib.contextmanager
def _commits_without_flush_wait() -> Iterator[None]:
    """On PostgreSQL, don't wait for each commit to reach the disk during a run.

    A run commits once per message sent (the mark, so a killed worker resends
    nothing it marked); waiting for the WAL flush each time made a run of
    10,000 digests half again as slow. With ``synchronous_commit`` off, a
    worker crash loses nothing: the commit is in PostgreSQL's hands. Only a
    crash of the database server itself can lose the last fraction of a second
    of marks, and those digests are then resent with the same Message-ID
    (chosen at the claim), which mail stores that deduplicate keep once. The
    setting is the session's for the run and reset afterwards.
    """
    if db_connection.vendor != "postgresql":
        yield
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _send_waiting(
    waiting: list[int],
    period: periods.Period,
    renderer: _Renderer,
    *,
    now: dt.datetime,
    progress: Progress | None,
) -> DigestSendReport:
    stale_before = now - dt.timedelta(minutes=settings.DIGEST_CLAIM_STALE_MINUTES)
    report = DigestSendReport()
    run = uuid.uuid4()
    size = settings.DIGEST_BATCH_SIZE
    for offset in range(0, len(waiting), size):
        batch = waiting[offset : offset + size]
        claimed = _claim(batch, period, run=run, now=now, stale_before=stale_before)
        stop = False
        if claimed:
            sent, stop = _send_batch(claimed, renderer, run=run, now=now)
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
    subscriber_ids: Sequence[int],
    period: periods.Period,
    *,
    run: uuid.UUID,
    now: dt.datetime,
    stale_before: dt.datetime,
) -> list[DigestDelivery]:
    """The rows this run holds: the ones it inserted first, and stale ones it took over."""
    DigestDelivery.objects.bulk_create(
        [
            DigestDelivery(
                subscriber_id=subscriber_id,
                cadence=period.cadence,
                period_start=period.start,
                period_end=period.end,
                claim=run,
                claimed_at=now,
                # Chosen with the claim: a run that takes the claim over sends the same
                # message again (see _send_batch).
                message_id=emails.message_id(),
            )
            for subscriber_id in subscriber_ids
        ],
        ignore_conflicts=True,
    )
    taken = DigestDelivery.objects.filter(
        subscriber_id__in=subscriber_ids,
        cadence=period.cadence,
        period_start=period.start,
        status=DeliveryStatus.CLAIMED,
        claimed_at__lt=stale_before,
    ).update(claim=run, claimed_at=now)
    if taken:
        logger.info("Took over %d digest claims left unsent by another run.", taken)
    return list(
        DigestDelivery.objects.filter(
            claim=run, status=DeliveryStatus.CLAIMED, subscriber_id__in=subscriber_ids
        )
        .select_related("subscriber", "subscriber__user")
        .prefetch_related("subscriber__tags", "subscriber__forecasters")
        .order_by("subscriber_id")
    )


_SENT, _FAILED, _DEFERRED = "sent", "failed", "deferred"
# Deferred messages in a row after which a batch stops trying: the server, not the
# recipients, is in trouble (greylisting everyone, or gone).
_DEFERRALS_BEFORE_GIVING_UP = 3


@dataclass(frozen=True)
class _Result:
    outcome: str
    attempts: int
    error: str = ""
    # The failure was the server's (no connection, a greeting or login refused), not
    # about this message or recipient.
    server_trouble: bool = False


def _send_batch(
    claimed: Sequence[DigestDelivery], renderer: _Renderer, *, run: uuid.UUID, now: dt.datetime
) -> tuple[DigestSendReport, bool]:
    """Send one batch over one connection; True as well when the server keeps failing."""
    ours = DigestDelivery.objects.filter(claim=run, status=DeliveryStatus.CLAIMED)
    outgoing: list[tuple[DigestDelivery, EmailMultiAlternatives]] = []
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
            if row.message_id:
                # If a run died between the server accepting this digest and marking it,
                # this one resends the same message, which mail stores keep only once.
                message.extra_headers["Message-ID"] = row.message_id
            outgoing.append((row, message))
    if skipped or gone:
        ours.filter(pk__in=skipped).update(status=DeliveryStatus.SKIPPED, last_error="")
        ours.filter(pk__in=gone).update(
            status=DeliveryStatus.SKIPPED,
            last_error="No longer subscribed when the digest was sent.",
        )
    counts = {_SENT: 0, _FAILED: 0, _DEFERRED: 0}
    paused = 0
    delivered: list[int] = []
    deferred_in_a_row = 0
    giving_up = False
    if outgoing:
        connection = get_connection()
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            # _deliver retries the connection, and the batch gives up if it stays down.
            logger.warning("Digests: cannot reach the mail server (%s).", exc)
        try:
            for index, (row, message) in enumerate(outgoing):
                result = _deliver(connection, message)
                counts[result.outcome] += 1
                if result.outcome == _SENT:
                    deferred_in_a_row = 0
                    # One row, one statement, committed at once: a worker killed after
                    # this message leaves it marked. (attempts is ours to count while
                    # we hold the claim; the claim filter refuses the mark otherwise.)
                    marked = _mark_sent(
                        row.pk,
                        run=run,
                        sent_at=now,
                        message_id=message.extra_headers["Message-ID"],
                        attempts=row.attempts + result.attempts,
                    )
                    if not marked:
                        logger.warning(
                            "Digest %s was sent after another run took over the claim.", row.pk
                        )
                    delivered.append(row.subscriber_id)
                    continue
                if result.outcome == _FAILED:
                    deferred_in_a_row = 0
                    ours.filter(pk=row.pk).update(
                        status=DeliveryStatus.FAILED,
                        attempts=F("attempts") + result.attempts,
                        last_error=result.error,
                    )
                    paused += _count_permanent_failure(row.subscriber)
                    continue
                # Left claimed: the next run takes it over once it is stale.
                ours.filter(pk=row.pk).update(
                    attempts=F("attempts") + result.attempts, last_error=result.error
                )
                deferred_in_a_row += 1
                if result.server_trouble or deferred_in_a_row >= _DEFERRALS_BEFORE_GIVING_UP:
                    rest = [later.pk for later, _ in outgoing[index + 1 :]]
                    ours.filter(pk__in=rest).update(
                        last_error=f"Not tried: the mail server was failing ({result.error})"[:1000]
                    )
                    counts[_DEFERRED] += len(rest)
                    giving_up = True
                    break
        finally:
            _close(connection)
    if delivered:
        Subscriber.objects.filter(pk__in=delivered, permanent_failures__gt=0).update(
            permanent_failures=0
        )
    report = DigestSendReport(
        sent=counts[_SENT],
        skipped=len(skipped) + len(gone),
        failed=counts[_FAILED],
        deferred=counts[_DEFERRED],
        paused=paused,
    )
    return report, giving_up


def _mark_sent(
    pk: int, *, run: uuid.UUID, sent_at: dt.datetime, message_id: str, attempts: int
) -> int:
    """``ours.filter(pk=pk).update(status=SENT, ...)`` as one prepared statement.

    It runs once per message sent, so on PostgreSQL the ORM's per-call query
    compilation was a third of a digest's cost over the plain-smtplib floor.
    Returns the rows marked: 0 when another run has taken the claim over.
    """
    table = DigestDelivery._meta.db_table
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {db_connection.ops.quote_name(table)} "  # noqa: S608 (our table name)
            "SET status = %s, sent_at = %s, message_id = %s, attempts = %s, last_error = '' "
            "WHERE id = %s AND claim = %s AND status = %s",
            [
                DeliveryStatus.SENT,
                sent_at,
                message_id,
                attempts,
                pk,
                DigestDelivery._meta.get_field("claim").get_db_prep_value(run, db_connection),
                DeliveryStatus.CLAIMED,
            ],
        )
        return int(cursor.rowcount)


def _deliver(connection: Any, message: EmailMultiAlternatives) -> _Result:
    """Send one message on the batch's connection.

    Temporary failures (4xx replies, a dropped connection) are retried up to
    ``DIGEST_SEND_ATTEMPTS`` times with exponential backoff. Only a 5xx about the
    recipient (RCPT TO) or the message (DATA) is permanent: a 5xx to the greeting,
    the login or our own MAIL FROM is the server's or our configuration's trouble,
    not the subscriber's, and is never counted against them.
    """
    attempts = settings.DIGEST_SEND_ATTEMPTS
    error = ""
    server_trouble = False
    for attempt in range(1, attempts + 1):
        code: int | None = None
        server_trouble = False
        try:
            if getattr(connection, "connection", True) is None:
                connection.open()  # closed after a failure below: reconnect
            if connection.send_messages([message]) != 1:
                raise smtplib.SMTPServerDisconnected("The e-mail backend sent nothing.")
            return _Result(_SENT, attempt)
        except smtplib.SMTPRecipientsRefused as exc:
            code = min(reply[0] for reply in exc.recipients.values())
            error = f"{type(exc).__name__}: {exc}"
        except smtplib.SMTPDataError as exc:
            code = exc.smtp_code
            error = f"{type(exc).__name__}: {exc.smtp_code} {exc.smtp_error!r}"
        except smtplib.SMTPResponseException as exc:  # greeting, HELO, login, MAIL FROM
            server_trouble = True
            error = f"{type(exc).__name__}: {exc.smtp_code} {exc.smtp_error!r}"
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out
            server_trouble = True
            error = f"{type(exc).__name__}: {exc}"
        error = error[:1000]
        if code is not None and 500 <= code < 600:
            return _Result(_FAILED, attempt, error)
        logger.warning("Digest to %s: temporary failure (%s).", message.to[0], error)
        if server_trouble or code == 421:
            _close(connection)  # the conversation may be broken: reconnect
        if attempt < attempts:
            time.sleep(settings.DIGEST_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
    return _Result(_DEFERRED, attempts, error, server_trouble=server_trouble)


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


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:
        logger.exception("Digests: closing the mail connection failed.")


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
        unsubscribe = settings.SITE_URL + reverse(
            "forecasts:digest-unsubscribe", kwargs={"token": token}
        )
        context = {
            "cadence": Cadence(cadence).label.lower(),
            "period": report.period,
            "sections_text": render_to_string("emails/_digest_sections-body.txt", sections),
            # Rendered (and escaped) by its own template; the body template places it as is.
            "sections_html": mark_safe(  # noqa: S308
                render_to_string("emails/_digest_sections-body.html", sections)
            ),
            "preferences_url": settings.SITE_URL
            + reverse("forecasts:digest-preferences", kwargs={"token": token}),
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
