"""Review prompts the mail server refuses for good: recorded, not sent again, the admins told.

(Temporary failures, kills and takeovers are in test_prompts.py; the outbox's own
rules in tests/mail/test_outbox.py.)
"""

import pytest
from django.utils import timezone

from forecasts.models import ReviewPrompt, ReviewStep
from forecasts.reviews import services as review_services
from forecasts.tasks import reviews_prompt
from tests.factories import UserFactory
from tests.reviews.test_prompts import DAY, DUE, HOUR, due_forecast

pytestmark = pytest.mark.django_db

PROMPT = "1 forecast is waiting for your review"


@pytest.fixture(autouse=True)
def review_settings(settings):
    settings.TIME_ZONE = "UTC"
    settings.SITE_URL = "https://forecasts.example.org"
    settings.ADMINS = [("Ops", "ops@example.org")]
    settings.DEFAULT_FROM_EMAIL = "Forecast tracker <forecasts@example.org>"
    settings.REVIEW_CLAIM_STALE_MINUTES = 15
    settings.MAIL_SEND_ATTEMPTS = 3
    settings.MAIL_RETRY_BACKOFF_SECONDS = 0


@pytest.fixture
def clock(time_machine):
    """``clock(moment)`` runs the job at that moment and returns its report."""

    def run_at(moment):
        time_machine.move_to(moment, tick=False)
        return review_services.reviews_prompt_due(now=timezone.now())

    return run_at


@pytest.fixture
def alice():
    return UserFactory(username="alice", email="Alice@Example.org", first_name="Alice")


def received(smtp_server):
    """(recipient, subject) of each message the server accepted since the last call."""
    got = [(m.rcpt_tos[0], m.message["Subject"]) for m in smtp_server.messages]
    smtp_server.messages.clear()
    return got


def test_a_refused_address_is_not_retried_and_the_admins_are_told_at_once(
    clock, smtp_server, alice
):
    forecast = due_forecast(alice)
    smtp_server.refuse["alice@example.org"] = 550

    report = clock(DUE)
    assert (report.emails_sent, report.emails_failed, report.emails_deferred) == (0, 1, 0)
    row = ReviewPrompt.objects.get()
    assert (row.sent_at, row.failed_at, row.attempts) == (None, DUE, 1)  # no retry of a 5xx
    assert "550" in row.last_error

    # The next run: nobody responsible can be reached, so the admins hear of it now,
    # not 14 days after a prompt that never arrived.
    report = clock(DUE + HOUR)
    assert received(smtp_server) == [
        ("ops@example.org", "Escalation: 1 forecast is still unresolved")
    ]
    assert report.escalations == 1
    escalation = ReviewPrompt.objects.get(step=ReviewStep.ESCALATION)
    assert escalation.forecast == forecast
    smtp_server.refuse.clear()  # even once the server would take it: never resent
    for day in (3, 7, 14, 30):
        assert clock(DUE + day * DAY) == review_services.PromptReport()
    assert received(smtp_server) == []
    assert ReviewPrompt.objects.filter(recipient="alice@example.org").count() == 1


def test_the_escalation_says_which_address_was_refused(clock, smtp_server, alice):
    due_forecast(alice)
    smtp_server.refuse["alice@example.org"] = 550
    clock(DUE)
    clock(DUE + HOUR)
    [message] = smtp_server.messages
    for part in (message.part("text/plain"), message.part("text/html")):
        assert "Refused for good by the mail server" in part
        assert "Prompt to alice@example.org on 2025-03-11 00:00 UTC" in part
        assert "550" in part
        assert "Nobody could be prompted" not in part


def test_a_refused_reviewer_does_not_hold_back_the_others(clock, smtp_server, alice):
    bob = UserFactory(username="bob", email="bob@example.org")
    due_forecast(alice, bob)
    smtp_server.refuse["alice@example.org"] = 550
    report = clock(DUE)
    assert (report.emails_sent, report.emails_failed) == (1, 1)
    assert received(smtp_server) == [("bob@example.org", PROMPT)]

    # Bob was reached: the steps go on for him, and the escalation keeps its 14 days.
    assert clock(DUE + HOUR) == review_services.PromptReport()
    clock(DUE + 3 * DAY)
    assert received(smtp_server) == [("bob@example.org", f"Reminder: {PROMPT}")]
    clock(DUE + 13 * DAY)
    assert [to for to, _ in received(smtp_server)] == ["bob@example.org"]  # second reminder
    clock(DUE + 14 * DAY)
    assert received(smtp_server) == [
        ("ops@example.org", "Escalation: 1 forecast is still unresolved")
    ]


def test_a_message_refused_on_data_is_refused_for_good_too(clock, smtp_server, alice):
    due_forecast(alice)
    smtp_server.reply_code = 554
    assert clock(DUE).emails_failed == 1
    assert smtp_server.data_answers == [554]
    row = ReviewPrompt.objects.get()
    assert row.failed_at == DUE
    assert "SMTPDataError: 554" in row.last_error


def test_a_corrected_address_is_prompted(clock, smtp_server, alice):
    due_forecast(alice)
    smtp_server.refuse["alice@example.org"] = 550
    clock(DUE)
    alice.email = "alice@new.example.org"
    alice.save()
    clock(DUE + HOUR)
    assert received(smtp_server) == [("alice@new.example.org", PROMPT)]


@pytest.mark.parametrize("report", [{"emails_deferred": 1}, {"emails_failed": 1}])
def test_a_run_that_left_emails_undelivered_runs_again_once_its_claims_are_stale(
    monkeypatch, report
):
    outcome = review_services.PromptReport(prompts=1, **report)
    monkeypatch.setattr(review_services, "reviews_prompt_due", lambda now: outcome)
    calls = []

    def retry(**options):
        calls.append(options)
        return RuntimeError("retry")

    monkeypatch.setattr(reviews_prompt, "retry", retry)
    with pytest.raises(RuntimeError):
        reviews_prompt.run()
    assert calls == [{"countdown": 960}]
