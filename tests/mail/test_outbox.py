"""The one exactly-once outbox, on its own, against a real SMTP server.

Digest deliveries stand for one row per e-mail and review prompts for several
(their domains' own rules are tested in tests/digests and tests/reviews).
"""

import datetime as dt
import logging
import threading
import uuid
from collections import Counter

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connections
from django.db.models import Q

from forecasts.mail import builder, outbox
from forecasts.mail.outbox import OutboxRun, Outgoing, outbox_claim, outbox_send
from forecasts.models import (
    DeliveryStatus,
    DigestDelivery,
    ReviewPrompt,
    ReviewStep,
    Subscriber,
    SubscriberStatus,
)
from tests.conftest import require_postgresql
from tests.factories import ForecastFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 6, 15, tzinfo=dt.UTC)
WEEK = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
STALE = 30  # minutes


@pytest.fixture(autouse=True)
def outbox_settings(settings, monkeypatch):
    settings.SITE_URL = "https://forecasts.example.org"
    settings.MAIL_SEND_ATTEMPTS = 3
    settings.MAIL_RETRY_BACKOFF_SECONDS = 1
    waits = []
    monkeypatch.setattr(outbox.time, "sleep", waits.append)
    return waits


class Killed(BaseException):
    """The worker dies (a BaseException, like the SystemExit of a killed process)."""


def readers(count):
    return [
        Subscriber.objects.create(
            email=f"reader{n}@example.org",
            status=SubscriberStatus.CONFIRMED,
            confirmed_at=WEEK - dt.timedelta(days=30),
        )
        for n in range(count)
    ]


def run_at(moment=NOW, model=DigestDelivery):
    return OutboxRun(model, now=moment, stale_minutes=STALE)


def claim(run, subscribers):
    """Claim one delivery per subscriber for the week (or take over stale ones)."""
    new = [
        DigestDelivery(
            subscriber=subscriber,
            cadence="weekly",
            period_start=WEEK,
            period_end=WEEK + dt.timedelta(days=7),
        )
        for subscriber in subscribers
    ]
    takeover = Q(subscriber__in=subscribers, period_start=WEEK)
    return list(outbox_claim(run, new=new, takeover=takeover).order_by("subscriber__email"))


def message(to):
    email = EmailMultiAlternatives("Your digest", "Text", "forecasts@example.org", [to])
    email.attach_alternative("<p>HTML</p>", "text/html")
    return email


def one_each(rows):
    return [Outgoing((row,), message(row.subscriber.email)) for row in rows]


def by_email():
    rows = DigestDelivery.objects.select_related("subscriber")
    return {row.subscriber.email: row for row in rows}


# --- Claiming -----------------------------------------------------------------------------


def test_a_second_run_claiming_the_same_rows_holds_none_of_them():
    subscribers = readers(3)
    first, second = run_at(), run_at()
    assert len(claim(first, subscribers)) == 3
    assert claim(second, subscribers) == []  # its inserts turned into nothing
    assert set(DigestDelivery.objects.values_list("claim", flat=True)) == {first.claim}
    # Each row got its Message-ID with the claim.
    ids = list(DigestDelivery.objects.values_list("message_id", flat=True))
    assert len(set(ids)) == 3
    assert all(value.endswith("@forecasts.example.org>") for value in ids)


@pytest.mark.django_db(transaction=True)
def test_runs_claiming_at_the_same_moment_each_hold_a_row_once(monkeypatch):
    require_postgresql("SQLite serialises concurrent writers, in memory too.")
    subscribers = readers(12)
    barrier = threading.Barrier(3, timeout=10)
    bulk_create = DigestDelivery.objects.bulk_create

    def together(*args, **kwargs):
        barrier.wait()  # every run has planned the same rows before any inserts
        return bulk_create(*args, **kwargs)

    monkeypatch.setattr(DigestDelivery.objects, "bulk_create", together)
    held, errors = [], []

    def one_run():
        try:
            held.extend(row.pk for row in claim(run_at(), subscribers))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one_run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(held) == sorted(DigestDelivery.objects.values_list("pk", flat=True))
    assert len(held) == 12  # every row held by exactly one run


def test_a_stale_claim_is_taken_over_and_a_fresh_or_settled_one_is_not():
    fresh, stale, sent, failed = readers(4)
    other = run_at(NOW - 45 * MINUTE)
    claim(other, [stale])
    claim(run_at(NOW - 10 * MINUTE), [fresh])  # another run, still within its time
    claim(other, [sent, failed])
    DigestDelivery.objects.filter(subscriber=sent).update(status=DeliveryStatus.SENT, sent_at=NOW)
    DigestDelivery.objects.filter(subscriber=failed).update(status=DeliveryStatus.FAILED)

    later = run_at()
    held = claim(later, [fresh, stale, sent, failed])
    assert [row.subscriber for row in held] == [stale]
    row = by_email()[stale.email]
    assert (row.claim, row.claimed_at) == (later.claim, NOW)
    assert by_email()[fresh.email].claim != later.claim


def test_of_two_runs_taking_over_the_same_stale_claim_one_wins():
    [reader] = readers(1)
    claim(run_at(NOW - 45 * MINUTE), [reader])
    first, second = run_at(), run_at(NOW + MINUTE)
    assert len(claim(first, [reader])) == 1
    assert claim(second, [reader]) == []  # first's claim is fresh now


# --- Sending: one classification ----------------------------------------------------------


def test_sent_rows_are_marked_with_the_message_id_chosen_at_the_claim(smtp_server):
    run = run_at()
    rows = claim(run, readers(2))
    done = outbox_send(run, one_each(rows))
    assert (len(done.sent), done.failed, done.deferred, done.stopped) == (2, [], [], False)
    received = {m.rcpt_tos[0]: m.message["Message-ID"] for m in smtp_server.messages}
    for email, row in by_email().items():
        assert (row.status, row.sent_at, row.attempts, row.last_error) == (
            DeliveryStatus.SENT,
            NOW,
            1,
            "",
        )
        assert received[email] == row.message_id
    # The Message-IDs are the ones chosen with the claims.
    assert {row.message_id for row in by_email().values()} == {row.message_id for row in rows}


def test_a_temporary_failure_is_retried_with_backoff_in_the_run(smtp_server, outbox_settings):
    run = run_at()
    rows = claim(run, readers(2))
    smtp_server.data_replies = [451, 421]  # 421: the server closes; the outbox reconnects
    done = outbox_send(run, one_each(rows))
    assert len(done.sent) == 2
    assert smtp_server.data_answers == [451, 421, 250, 250]
    assert outbox_settings == [1, 2]  # backoff doubles
    assert by_email()["reader0@example.org"].attempts == 3


def test_a_temporary_failure_every_time_leaves_the_row_claimed_for_a_later_run(smtp_server):
    run = run_at()
    rows = claim(run, readers(2))
    smtp_server.refuse["reader0@example.org"] = 450
    done = outbox_send(run, one_each(rows))
    assert ([i.message.to for i in done.deferred], len(done.sent), done.stopped) == (
        [["reader0@example.org"]],
        1,
        False,
    )
    row = by_email()["reader0@example.org"]
    assert (row.status, row.sent_at, row.attempts, row.claim) == (
        DeliveryStatus.CLAIMED,
        None,
        3,
        run.claim,
    )
    assert "450" in row.last_error
    assert claim(run_at(NOW + 10 * MINUTE), readers_named("reader0")) == []  # not stale yet
    assert len(claim(run_at(NOW + 31 * MINUTE), readers_named("reader0"))) == 1


def test_the_log_names_no_recipient_in_full(smtp_server, caplog):
    """Subscribers' addresses stay out of the operators' logs: a temporary and a
    permanent refusal are logged with the address cut to its first character, in the
    log line and in the server's reply it quotes."""
    run = run_at()
    rows = claim(run, readers(2))
    smtp_server.refuse["reader0@example.org"] = 450
    smtp_server.refuse["reader1@example.org"] = 550
    with caplog.at_level(logging.WARNING, logger="forecasts.mail.outbox"):
        done = outbox_send(run, one_each(rows))
    assert (len(done.deferred), len(done.failed)) == (1, 1)
    assert "temporary failure" in caplog.text
    assert "refused for good" in caplog.text
    assert "reader0@" not in caplog.text
    assert "reader1@" not in caplog.text
    assert caplog.text.count("r…@example.org") >= 2
    assert outbox.masked("<a.b+c@example.org>, 'x@y.z'") == "<a…@example.org>, 'x…@y.z'"


def readers_named(*names):
    return list(Subscriber.objects.filter(email__in=[f"{name}@example.org" for name in names]))


@pytest.mark.parametrize(("where", "code"), [("rcpt", 550), ("rcpt", 552), ("data", 554)])
def test_a_5xx_about_the_recipient_or_the_message_is_permanent(smtp_server, where, code):
    run = run_at()
    rows = claim(run, readers(2))
    if where == "rcpt":
        smtp_server.refuse["reader0@example.org"] = code
    else:
        smtp_server.data_replies = [code]
    counted = []
    done = outbox_send(run, one_each(rows), on_failed=counted.append)
    assert [item.message.to for item in done.failed] == [["reader0@example.org"]]
    assert counted == done.failed
    assert len(done.sent) == 1
    row = by_email()["reader0@example.org"]
    assert (row.status, row.sent_at, row.attempts) == (DeliveryStatus.FAILED, None, 1)  # no retry
    assert str(code) in row.last_error
    assert claim(run_at(NOW + 2 * STALE * MINUTE), readers_named("reader0")) == []


def test_several_rows_in_one_email_share_a_derived_message_id_and_a_failure(smtp_server):
    forecasts = [ForecastFactory(), ForecastFactory()]
    run = run_at(model=ReviewPrompt)
    rows = list(
        outbox_claim(
            run,
            new=[
                ReviewPrompt(
                    forecast=forecast,
                    deadline=forecast.resolve_by,
                    step=ReviewStep.PROMPT,
                    recipient=recipient,
                )
                for forecast in forecasts
                for recipient in ("alice@example.org", "bob@example.org")
            ],
        ).order_by("recipient", "pk")
    )
    alice, bob = rows[:2], rows[2:]
    smtp_server.refuse["bob@example.org"] = 550
    done = outbox_send(
        run,
        [Outgoing(alice, message("alice@example.org")), Outgoing(bob, message("bob@example.org"))],
    )
    assert (len(done.sent), len(done.failed)) == (1, 1)
    [received] = smtp_server.messages
    expected = builder.message_id_for(row.message_id for row in alice)
    assert received.message["Message-ID"] == expected
    assert expected not in {row.message_id for row in alice}
    marked = ReviewPrompt.objects.filter(recipient="alice@example.org")
    assert {(row.sent_at, row.message_id, row.attempts) for row in marked} == {(NOW, expected, 1)}
    refused = ReviewPrompt.objects.filter(recipient="bob@example.org")
    assert {(row.sent_at, row.failed_at) for row in refused} == {(None, NOW)}


def test_a_server_that_cannot_be_reached_stops_the_batch_without_blaming_anyone(
    smtp_server, settings, outbox_settings
):
    run = run_at()
    rows = claim(run, readers(3))
    settings.EMAIL_PORT = 9  # nothing listens there
    done = outbox_send(run, one_each(rows))
    assert (len(done.sent), len(done.failed), len(done.deferred), done.stopped) == (0, 0, 3, True)
    assert outbox_settings == [1, 2]  # only the first message waited out its retries
    first, *rest = by_email().values()
    assert first.attempts == 3
    assert first.last_error.startswith("ConnectionRefusedError")
    for row in rest:
        assert (row.status, row.attempts) == (DeliveryStatus.CLAIMED, 0)
        assert row.last_error.startswith("Not tried: the mail server was failing")


def test_a_refused_sender_is_the_servers_trouble_not_the_recipients(smtp_server):
    run = run_at()
    rows = claim(run, readers(2))
    smtp_server.sender_reply = 553  # a 5xx, but to our MAIL FROM
    done = outbox_send(run, one_each(rows))
    assert (len(done.failed), len(done.deferred), done.stopped) == (0, 2, True)
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.CLAIMED}
    assert "553" in by_email()["reader0@example.org"].last_error


def test_temporary_failures_in_a_row_stop_the_batch(smtp_server):
    run = run_at()
    rows = claim(run, readers(5))
    smtp_server.reply_code = 451  # greylisting everyone
    done = outbox_send(run, one_each(rows))
    assert (len(done.sent), len(done.deferred), done.stopped) == (0, 5, True)
    assert smtp_server.data_answers == [451] * 9  # three messages, three tries each
    assert [row.attempts for row in by_email().values()] == [3, 3, 3, 0, 0]


# --- Kills and takeovers ------------------------------------------------------------------


def test_a_resend_after_a_takeover_is_the_same_message(smtp_server, monkeypatch):
    first = run_at()
    rows = claim(first, readers(2))
    deliver = outbox._deliver

    def accepted_then_killed(connection, email):
        deliver(connection, email)
        raise Killed  # after the server accepted, before the mark

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_deliver", accepted_then_killed)
        with pytest.raises(Killed):
            outbox_send(first, one_each(rows))
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 0

    later = run_at(NOW + 31 * MINUTE)
    taken = claim(later, readers_named("reader0", "reader1"))
    assert len(taken) == 2
    assert len(outbox_send(later, one_each(taken)).sent) == 2
    copies = Counter((m.rcpt_tos[0], m.message["Message-ID"]) for m in smtp_server.messages)
    row = by_email()["reader0@example.org"]
    # Transmitted twice, one message: a mail store that deduplicates keeps one copy.
    assert copies[("reader0@example.org", row.message_id)] == 2
    assert len({message_id for to, message_id in copies if to == "reader0@example.org"}) == 1


def test_a_run_whose_claim_was_taken_over_cannot_mark_it(smtp_server, caplog):
    slow = run_at(NOW - 45 * MINUTE)
    [row] = claim(slow, readers(1))
    later = run_at()
    assert len(claim(later, readers_named("reader0"))) == 1  # the slow run's claim was stale

    with caplog.at_level(logging.WARNING, logger="forecasts.mail.outbox"):
        done = outbox_send(slow, one_each([row]))
    assert len(done.sent) == 1  # the server took it ...
    row = by_email()["reader0@example.org"]
    assert (row.status, row.sent_at, row.claim) == (DeliveryStatus.CLAIMED, None, later.claim)
    assert "after another run took over its claim" in caplog.text  # ... but it is not ours

    smtp_server.refuse["reader0@example.org"] = 550
    counted = []
    outbox_send(slow, one_each([row]), on_failed=counted.append)  # nor can it record a failure
    assert by_email()["reader0@example.org"].status == DeliveryStatus.CLAIMED
    assert counted == []  # nor count it against anyone

    smtp_server.refuse.clear()
    assert len(outbox_send(later, one_each([row])).sent) == 1
    row = by_email()["reader0@example.org"]
    assert (row.status, row.sent_at, row.claim) == (DeliveryStatus.SENT, NOW, later.claim)
    assert len({m.message["Message-ID"] for m in smtp_server.messages}) == 1


def test_a_run_that_finds_its_claims_taken_over_sends_no_more_of_them(smtp_server):
    """A slow run whose batch was taken over (its claims looked stale) stops at the first
    e-mail it cannot mark: the run that took them over sends the rest, once each."""
    slow = run_at(NOW - 45 * MINUTE)
    rows = claim(slow, readers(3))
    later = run_at()
    taken = claim(later, readers_named("reader0", "reader1", "reader2"))
    assert len(taken) == 3
    done = outbox_send(slow, one_each(rows))
    assert (len(done.sent), len(done.deferred)) == (1, 2)
    assert len(smtp_server.messages) == 1  # not three: two resends spared
    assert len(outbox_send(later, one_each(taken)).sent) == 3
    received = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert received == {
        "reader0@example.org": 2,
        "reader1@example.org": 1,
        "reader2@example.org": 1,
    }


def test_a_claim_is_not_mistaken_for_another_runs_or_another_rows(smtp_server):
    run = run_at()
    rows = claim(run, readers(2))
    stranger = OutboxRun(DigestDelivery, now=NOW, stale_minutes=STALE, claim=uuid.uuid4())
    assert len(outbox_send(stranger, one_each(rows[:1])).sent) == 1  # sent, not marked
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 0
    assert len(outbox_send(run, one_each(rows[1:])).sent) == 1
    assert list(DigestDelivery.objects.filter(status=DeliveryStatus.SENT)) == [rows[1]]
