"""The one exactly-once outbox: claiming, sending and marking e-mails (review prompts, digests).

A sender's run works in three steps, in autocommit (never inside a transaction),
on rows of a model that inherits :class:`~forecasts.mail.models.OutboxItem`:

1. :func:`outbox_claim`: insert the rows it wants to send (the model's unique
   constraint turns a concurrent run's insert of the same row into nothing), and
   take over rows another run claimed and left unsent once their claims are
   stale (a conditional ``update()``: one run wins). A new row gets its
   Message-ID here, with the claim, so that a run taking it over sends the same
   message again.
2. The domain builds the e-mails from the rows it holds: one row per e-mail
   (digests), or several (a reviewer's steps in one e-mail, whose Message-ID is
   derived from its rows', so the same rows give the same Message-ID).
3. :func:`outbox_send`: send them over one SMTP connection and mark each one's
   rows, only while the claim is still this run's.

One classification of what the server answers, whoever the mail is for:

* **sent**: the rows are marked sent, one statement committed per e-mail, so a
  worker killed after it leaves it marked.
* **temporary**: a 4xx reply (421 included), a dropped or refused connection.
  Tried again in the run, ``MAIL_SEND_ATTEMPTS`` times in all with backoff from
  ``MAIL_RETRY_BACKOFF_SECONDS``, doubling; then left claimed (*deferred*): a
  later run takes it over once the claim is stale.
* **permanent**: a 5xx to RCPT TO (the recipient) or DATA (the message). Marked
  failed and never sent again.
* **the server's trouble**: no connection, a greeting, login or MAIL FROM
  refused (the server or our configuration, not the recipient), or
  ``_DEFERRALS_BEFORE_GIVING_UP`` temporary failures in a row. The e-mail is
  deferred and the batch stops: the rest are left claimed and not tried, and
  nobody is blamed.

The window for a duplicate is a worker killed between the server accepting a
message and its rows being marked: a few milliseconds per message, the trade
every claim-then-send sender makes (SMTP has no idempotent submit). The resend
carries the same Message-ID, which mail stores that deduplicate keep once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import re
import smtplib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Field, Q, QuerySet

from forecasts.mail import builder
from forecasts.mail.models import OutboxItem

logger = logging.getLogger(__name__)

Row = TypeVar("Row", bound=OutboxItem)

# Temporary failures in a row after which a batch stops trying: the server, not the
# recipients, is in trouble (greylisting everyone, or gone).
_DEFERRALS_BEFORE_GIVING_UP = 3
_ERROR_LENGTH = 1000


def seconds_until_stale(stale_minutes: float) -> int:
    """Seconds until a run's claims (made at its start) are stale, plus a margin: when a
    task that left messages deferred should run again to take them over."""
    stale = stale_minutes * 60
    return math.ceil(stale + min(60, stale / 2))


@dataclass(frozen=True)
class OutboxRun(Generic[Row]):
    """One run of a sender over one model's rows: the claim it marks them with, the
    moment it runs as, and how old another run's unsent claim must be to be taken over."""

    model: type[Row]
    now: dt.datetime
    stale_minutes: float
    claim: uuid.UUID = field(default_factory=uuid.uuid4)

    def held(self) -> QuerySet[Row]:
        """The rows this run holds that are still waiting to be sent."""
        return self.model._default_manager.filter(
            claim=self.claim, **_lookups(self.model.outbox_waiting())
        )


@dataclass(frozen=True)
class Outgoing(Generic[Row]):
    """One e-mail and the claimed rows it carries."""

    rows: Sequence[Row]
    message: EmailMultiAlternatives


@dataclass
class Sending(Generic[Row]):
    """What :func:`outbox_send` did with each e-mail."""

    sent: list[Outgoing[Row]] = field(default_factory=list)
    failed: list[Outgoing[Row]] = field(default_factory=list)  # permanent: never again
    deferred: list[Outgoing[Row]] = field(default_factory=list)  # left for a later run
    # The server kept failing: the batch stopped, its rest is among the deferred.
    stopped: bool = False


# --- Claiming -----------------------------------------------------------------------------


def outbox_claim(
    run: OutboxRun[Row], *, new: Iterable[Row] = (), takeover: Q | None = None
) -> QuerySet[Row]:
    """Claim ``new`` rows (unsaved) and take over the stale rows among ``takeover``.

    A new row that another run inserted first stays that run's. A row matching
    ``takeover`` is taken over only while it waits to be sent and its claim is older
    than the run's ``stale_minutes``. Returns :meth:`OutboxRun.held` (narrow it to
    the batch if the run claims in batches).
    """
    rows = list(new)
    for row in rows:
        row.claim = run.claim
        row.claimed_at = run.now
        row.message_id = builder.message_id()
    manager = run.model._default_manager
    if rows:
        manager.bulk_create(rows, ignore_conflicts=True)
    if takeover is not None:
        stale_before = run.now - dt.timedelta(minutes=run.stale_minutes)
        taken = manager.filter(
            takeover, claimed_at__lt=stale_before, **_lookups(run.model.outbox_waiting())
        ).update(claim=run.claim, claimed_at=run.now)
        if taken:
            logger.info(
                "Took over %d %s claims left unsent by another run.",
                taken,
                run.model._meta.verbose_name,
            )
    return run.held()


# --- Sending ------------------------------------------------------------------------------


def outbox_send(
    run: OutboxRun[Row],
    outgoing: Sequence[Outgoing[Row]],
    *,
    on_failed: Callable[[Outgoing[Row]], None] | None = None,
) -> Sending[Row]:
    """Send ``outgoing`` over one SMTP connection and mark each e-mail's rows.

    ``on_failed`` runs for each e-mail that failed permanently, in the transaction
    that marks it failed (what the domain does about it: count it against the
    subscriber). Rows no longer held by this run (taken over meanwhile) are not
    marked, sent or failed, and ``on_failed`` does not run for them: the run that
    holds them now decides.
    """
    done: Sending[Row] = Sending()
    if not outgoing:
        return done
    with _commits_without_flush_wait():
        connection = get_connection()
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            # _deliver retries the connection, and the batch stops if it stays down.
            logger.warning("Cannot reach the mail server (%s).", masked(str(exc)))
        mark_sent = _SentMarker(run)
        deferred_in_a_row = 0
        try:
            for index, item in enumerate(outgoing):
                _set_message_id(item)
                result = _deliver(connection, item.message)
                if result.outcome == _SENT:
                    deferred_in_a_row = 0
                    done.sent.append(item)
                    if not mark_sent(item, tries=result.tries):
                        # Another run took this claim over (it looked stale): it took the
                        # batch's other rows too, claimed at the same moment, and sends
                        # them. Sending them here as well would make every one a resend.
                        rest = outgoing[index + 1 :]
                        done.deferred.extend(rest)
                        if rest:
                            logger.warning(
                                "Another run took over this run's claims: %d e-mails left to it.",
                                len(rest),
                            )
                        break
                    continue
                if result.outcome == _FAILED:
                    deferred_in_a_row = 0
                    with transaction.atomic():
                        marked = _held(run, item.rows).update(
                            **run.model.outbox_failed(now=run.now),
                            attempts=F("attempts") + result.tries,
                            last_error=result.error,
                        )
                        if marked and on_failed is not None:
                            on_failed(item)
                    logger.warning(
                        "E-mail to %s refused for good (%s).",
                        _to(item.message),
                        masked(result.error),
                    )
                    done.failed.append(item)
                    continue
                _held(run, item.rows).update(
                    attempts=F("attempts") + result.tries, last_error=result.error
                )
                done.deferred.append(item)
                deferred_in_a_row += 1
                if result.server_trouble or deferred_in_a_row >= _DEFERRALS_BEFORE_GIVING_UP:
                    rest = outgoing[index + 1 :]
                    reason = f"Not tried: the mail server was failing ({result.error})"
                    _held(run, [row for later in rest for row in later.rows]).update(
                        last_error=reason[:_ERROR_LENGTH]
                    )
                    done.deferred.extend(rest)
                    done.stopped = True
                    logger.warning(
                        "The mail server keeps failing: %d e-mails left for a later run.",
                        len(rest) + 1,
                    )
                    break
        finally:
            _close(connection)
    return done


def _set_message_id(item: Outgoing[Any]) -> None:
    """The Message-ID chosen with the claim: one row's own, or one derived from several
    rows'. (Rows claimed before Message-IDs were chosen keep the builder's.)"""
    ids = [row.message_id for row in item.rows]
    headers = item.message.extra_headers
    if ids and all(ids):
        headers["Message-ID"] = ids[0] if len(ids) == 1 else builder.message_id_for(ids)
    elif "Message-ID" not in headers:
        headers["Message-ID"] = builder.message_id()  # the mark records it


def _held(run: OutboxRun[Row], rows: Sequence[Row]) -> QuerySet[Row]:
    return run.held().filter(pk__in=[row.pk for row in rows])


def _lookups(columns: dict[str, Any]) -> dict[str, Any]:
    return {
        (f"{name}__isnull" if value is None else name): (True if value is None else value)
        for name, value in columns.items()
    }


_ADDRESS = re.compile(r"([^\s<>()\[\]{}'\",;:@]+)@([A-Za-z0-9.-]+)")


def masked(text: str) -> str:
    """``text`` with every e-mail address in it cut to its first character and domain
    (``r…@example.org``): enough to tell a log line's recipients apart, not to collect
    them. Servers' replies quote the address, so they are masked too."""
    return _ADDRESS.sub(lambda found: f"{found.group(1)[0]}…@{found.group(2)}", text)


def _to(message: EmailMultiAlternatives) -> str:
    return masked(", ".join(message.to))


# --- Marking sent: the per-message statement ----------------------------------------------


class _SentMarker:
    """``held().filter(pk__in=...).update(<sent>, ...)`` as one SQL statement, compiled and
    its constant parameters prepared once per batch.

    It runs once per message sent, so on PostgreSQL the ORM's per-call query
    compilation was a third of a digest's cost over the plain-smtplib floor.
    Nothing is marked when another run has taken the claim over.
    """

    def __init__(self, run: OutboxRun[Any]) -> None:
        self.model: type[OutboxItem] = run.model
        sent = self.model.outbox_sent(now=run.now)
        waiting = self.model.outbox_waiting()
        self.assignments = [f"{self._column(name)} = %s" for name in sent]
        self.before = [self._prep(name, value) for name, value in sent.items()]
        self.conditions = [
            f"{self._column('claim')} = %s",
            *(
                f"{self._column(name)} {'IS NULL' if value is None else '= %s'}"
                for name, value in waiting.items()
            ),
        ]
        self.after = [
            self._prep("claim", run.claim),
            *(self._prep(name, value) for name, value in waiting.items() if value is not None),
        ]
        self.statements: dict[int, str] = {}  # by the number of rows an e-mail carries

    def __call__(self, item: Outgoing[Any], *, tries: int) -> bool:
        """Mark the e-mail's rows sent; False when this run no longer holds them all."""
        rows = len(item.rows)
        if rows not in self.statements:
            self.statements[rows] = self._statement(rows)
        params = [
            *self.before,
            item.message.extra_headers["Message-ID"],
            tries,
            *(row.pk for row in item.rows),
            *self.after,
        ]
        with db_connection.cursor() as cursor:
            cursor.execute(self.statements[rows], params)
            marked = int(cursor.rowcount)
        if marked != rows:
            logger.warning(
                "E-mail to %s was sent after another run took over its claim.", _to(item.message)
            )
        return marked == rows

    def _statement(self, rows: int) -> str:
        attempts = self._column("attempts")
        assignments = [
            *self.assignments,
            f"{self._column('message_id')} = %s",
            f"{self._column('last_error')} = ''",
            f"{attempts} = {attempts} + %s",
        ]
        pk = self.model._meta.pk.name if self.model._meta.pk else "id"
        conditions = [f"{self._column(pk)} IN ({', '.join(['%s'] * rows)})", *self.conditions]
        table = db_connection.ops.quote_name(self.model._meta.db_table)
        return (
            f"UPDATE {table} SET {', '.join(assignments)} "  # noqa: S608 (our own names)
            f"WHERE {' AND '.join(conditions)}"
        )

    def _field(self, name: str) -> Field[Any, Any]:
        found = self.model._meta.get_field(name)
        if not isinstance(found, Field):
            raise TypeError(f"{self.model.__name__}.{name} is not a column.")
        return found

    def _column(self, name: str) -> str:
        return db_connection.ops.quote_name(self._field(name).column)

    def _prep(self, name: str, value: Any) -> Any:
        return self._field(name).get_db_prep_save(value, db_connection)


@contextlib.contextmanager
def _commits_without_flush_wait() -> Iterator[None]:
    """On PostgreSQL, don't wait for each commit to reach the disk while sending.

    A run commits once per message sent (the mark, so a killed worker resends
    nothing it marked); waiting for the WAL flush each time made a run of
    10,000 digests half again as slow. With ``synchronous_commit`` off, a
    worker crash loses nothing: the commit is in PostgreSQL's hands. Only a
    crash of the database server itself can lose the last fraction of a second
    of marks, and those e-mails are then resent with the same Message-ID
    (chosen at the claim, which is committed before sending as usual), which
    mail stores that deduplicate keep once. The setting is the session's for
    the batch and reset afterwards.
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


# --- One message, one classification ------------------------------------------------------

_SENT, _FAILED, _DEFERRED = "sent", "failed", "deferred"


@dataclass(frozen=True)
class _Result:
    outcome: str
    tries: int
    error: str = ""
    # The failure was the server's (no connection, a greeting, login or MAIL FROM
    # refused), not about this message or recipient.
    server_trouble: bool = False


def _deliver(connection: Any, message: EmailMultiAlternatives) -> _Result:
    """Send one message on the batch's connection, trying temporary failures again."""
    attempts = settings.MAIL_SEND_ATTEMPTS
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
        # The exception's own words (a server reply, a socket error), never the settings.
        error = error[:_ERROR_LENGTH]
        if code is not None and 500 <= code < 600:
            return _Result(_FAILED, attempt, error)
        logger.warning("E-mail to %s: temporary failure (%s).", _to(message), masked(error))
        if server_trouble or code == 421:
            _close(connection)  # the conversation may be broken: reconnect
        if attempt < attempts:
            time.sleep(settings.MAIL_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
    return _Result(_DEFERRED, attempts, error, server_trouble=server_trouble)


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:
        logger.exception("Closing the mail connection failed.")
