"""Review prompts, reminders and escalations: who gets which e-mail when, exactly once."""

import datetime as dt
import io
import re
import threading
import types
import uuid
from collections import Counter
from urllib.parse import urlsplit

import pytest
from celery.schedules import crontab
from django.contrib.auth.models import Group
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django.utils import timezone

from forecasts.core import services as core_services
from forecasts.mail import builder as emails
from forecasts.models import ReviewerAssignment, ReviewPrompt, ReviewStep
from forecasts.reviews import links
from forecasts.reviews import services as review_services
from forecasts.tasks import reviews_prompt
from tests.conftest import require_postgresql
from tests.factories import ForecastFactory, UserFactory
from tracker import celery as tracker_celery

pytestmark = pytest.mark.django_db

DEADLINE = dt.date(2025, 3, 10)
# The first hour the deadline day has passed (TIME_ZONE is UTC here).
DUE = dt.datetime(2025, 3, 11, 0, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
MINUTE = dt.timedelta(minutes=1)
SITE = "https://forecasts.example.org"


@pytest.fixture(autouse=True)
def review_settings(settings):
    settings.TIME_ZONE = "UTC"
    settings.SITE_URL = SITE
    settings.ADMINS = [("Ops", "Ops@Example.org")]
    settings.DEFAULT_FROM_EMAIL = "Forecast tracker <forecasts@example.org>"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REVIEW_REMINDER_DAYS = 3
    settings.REVIEW_SECOND_REMINDER_DAYS = 7
    settings.REVIEW_ESCALATION_DAYS = 14
    settings.REVIEW_CLAIM_STALE_MINUTES = 15
    settings.MAIL_SEND_ATTEMPTS = 3
    settings.MAIL_RETRY_BACKOFF_SECONDS = 0


@pytest.fixture
def clock(time_machine):
    """``clock(moment)`` runs the job at that moment and returns its report."""

    def run_at(moment: dt.datetime) -> review_services.PromptReport:
        time_machine.move_to(moment, tick=False)
        return review_services.reviews_prompt_due(now=timezone.now())

    return run_at


@pytest.fixture
def alice():
    return UserFactory(username="alice", email="Alice@Example.org", first_name="Alice")


@pytest.fixture
def bob():
    return UserFactory(username="bob", email="bob@example.org")


def in_reviewers_group(user):
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


def due_forecast(*reviewers, resolve_by=DEADLINE, **fields):
    forecast = ForecastFactory(resolve_by=resolve_by, **fields)
    for reviewer in reviewers:
        ReviewerAssignment.objects.create(forecast=forecast, reviewer=reviewer)
    return forecast


def delivered():
    """(recipient, subject) of each e-mail sent since the last call."""
    sent = [(", ".join(message.to), message.subject) for message in mail.outbox]
    mail.outbox.clear()
    return sent


def statements_in(message, forecasts):
    return [forecast.statement for forecast in forecasts if forecast.statement in message.body]


# --- A forecast's life --------------------------------------------------------------------


def test_a_forecasts_life_prompt_reminders_escalation_every_hour(clock, alice, bob):
    forecast = due_forecast(alice, bob)
    # Carol covers forecasts nobody is assigned to; this one has reviewers.
    in_reviewers_group(UserFactory(username="carol", email="carol@example.org"))
    log = []
    moment = dt.datetime(2025, 3, 10, 12, 0, tzinfo=dt.UTC)
    while moment <= DUE + 16 * DAY:
        clock(moment)
        log += [(moment, to, subject) for to, subject in delivered()]
        moment += HOUR

    prompt = "1 forecast is waiting for your review"
    reminder, second = f"Reminder: {prompt}", f"Second reminder: {prompt}"
    assert log == [
        (DUE, "alice@example.org", prompt),
        (DUE, "bob@example.org", prompt),
        (DUE + 3 * DAY, "alice@example.org", reminder),
        (DUE + 3 * DAY, "bob@example.org", reminder),
        (DUE + 7 * DAY, "alice@example.org", second),
        (DUE + 7 * DAY, "bob@example.org", second),
        (DUE + 14 * DAY, "ops@example.org", "Escalation: 1 forecast is still unresolved"),
    ]
    rows = ReviewPrompt.objects.values_list("recipient", "step", "sent_at", "deadline", "attempts")
    assert sorted(rows) == sorted(
        [
            ("alice@example.org", ReviewStep.PROMPT, DUE, DEADLINE, 1),
            ("bob@example.org", ReviewStep.PROMPT, DUE, DEADLINE, 1),
            ("alice@example.org", ReviewStep.REMINDER, DUE + 3 * DAY, DEADLINE, 1),
            ("bob@example.org", ReviewStep.REMINDER, DUE + 3 * DAY, DEADLINE, 1),
            ("alice@example.org", ReviewStep.SECOND_REMINDER, DUE + 7 * DAY, DEADLINE, 1),
            ("bob@example.org", ReviewStep.SECOND_REMINDER, DUE + 7 * DAY, DEADLINE, 1),
            ("ops@example.org", ReviewStep.ESCALATION, DUE + 14 * DAY, DEADLINE, 1),
        ]
    )
    assert set(ReviewPrompt.objects.values_list("forecast_id", flat=True)) == {forecast.pk}


def test_a_forecast_seen_long_after_its_deadline_gets_the_prompt_first(clock, alice):
    due_forecast(alice)
    report = clock(DUE + 30 * DAY)
    assert delivered() == [("alice@example.org", "1 forecast is waiting for your review")]
    assert (report.prompts, report.reminders, report.escalations) == (1, 0, 0)
    # The steps then keep their spacing from the prompt.
    clock(DUE + 32 * DAY)
    assert delivered() == []
    clock(DUE + 33 * DAY)
    assert delivered() == [("alice@example.org", "Reminder: 1 forecast is waiting for your review")]


def test_after_a_pause_the_second_reminder_keeps_its_distance_from_the_first(clock, alice):
    due_forecast(alice)
    clock(DUE)
    clock(DUE + 9 * DAY)  # the scheduler was down from day 0 to day 9
    assert delivered()[-1][1].startswith("Reminder:")
    clock(DUE + 9 * DAY + HOUR)
    clock(DUE + 12 * DAY)
    assert delivered() == []
    clock(DUE + 13 * DAY)
    assert delivered() == [
        ("alice@example.org", "Second reminder: 1 forecast is waiting for your review")
    ]


# --- Grouping -----------------------------------------------------------------------------


def test_one_email_per_person_per_run_and_one_escalation_per_admin(clock, settings, alice, bob):
    settings.ADMINS = [("Ops", "ops@example.org"), ("Root", "root@example.org")]
    first = due_forecast(alice)
    shared = due_forecast(alice, bob)
    later = due_forecast(alice, resolve_by=DEADLINE + 3 * DAY)

    report = clock(DUE)
    assert sorted(delivered()) == [
        ("alice@example.org", "2 forecasts are waiting for your review"),
        ("bob@example.org", "1 forecast is waiting for your review"),
    ]
    assert (report.prompts, report.emails_sent) == (3, 2)

    clock(DUE + 3 * DAY)  # reminders for the first two, the prompt for the third: one e-mail
    [to_alice] = [message for message in mail.outbox if message.to == ["alice@example.org"]]
    assert to_alice.subject == "Reminder: 3 forecasts are waiting for your review"
    assert statements_in(to_alice, [first, shared, later]) == [
        first.statement,
        shared.statement,
        later.statement,
    ]
    assert f"{later.statement} [Prompt]" in to_alice.body
    assert f"{first.statement} [First reminder]" in to_alice.body
    assert sorted(delivered()) == [
        ("alice@example.org", "Reminder: 3 forecasts are waiting for your review"),
        ("bob@example.org", "Reminder: 1 forecast is waiting for your review"),
    ]

    report = clock(DUE + 14 * DAY)
    escalations = {m.to[0]: m for m in mail.outbox if m.subject.startswith("Escalation")}
    assert sorted(escalations) == ["ops@example.org", "root@example.org"]
    for message in escalations.values():
        assert message.subject == "Escalation: 2 forecasts are still unresolved"
        assert statements_in(message, [first, shared, later]) == [first.statement, shared.statement]
    assert report.escalations == 4  # two forecasts, two admins, in two e-mails
    assert Counter(to for to, _ in delivered()) == {
        "alice@example.org": 1,
        "bob@example.org": 1,
        "ops@example.org": 1,
        "root@example.org": 1,
    }


# --- Exactly once -------------------------------------------------------------------------


def test_the_job_run_twice_sends_nothing_twice(clock, alice, bob):
    due_forecast(alice, bob)
    first = clock(DUE)
    second = clock(DUE)
    third = clock(DUE + MINUTE)
    assert (first.prompts, first.emails_sent) == (2, 2)
    assert second == third == review_services.PromptReport()
    assert len(delivered()) == 2
    assert ReviewPrompt.objects.count() == 2


class Killed(BaseException):
    """A worker killed mid-run: nothing after this point runs."""


def test_a_run_killed_between_claim_and_send_is_sent_once_after_the_claim_goes_stale(
    clock, monkeypatch, alice, bob
):
    due_forecast(alice, bob)

    def killed(self, messages):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(LocmemBackend, "send_messages", killed)
        with pytest.raises(Killed):
            clock(DUE)
    assert delivered() == []
    assert list(ReviewPrompt.objects.values_list("sent_at", "attempts")) == [(None, 0)] * 2

    assert clock(DUE + 14 * MINUTE) == review_services.PromptReport()  # still fresh
    assert delivered() == []
    report = clock(DUE + 16 * MINUTE)
    assert sorted(delivered()) == [
        ("alice@example.org", "1 forecast is waiting for your review"),
        ("bob@example.org", "1 forecast is waiting for your review"),
    ]
    assert report.prompts == 2
    assert clock(DUE + 40 * MINUTE) == review_services.PromptReport()
    assert delivered() == []


def test_a_run_killed_after_the_server_accepted_resends_the_same_message_id(
    clock, monkeypatch, alice
):
    due_forecast(alice)
    due_forecast(alice, resolve_by=DEADLINE - DAY)
    send = LocmemBackend.send_messages

    def accepted_then_killed(self, messages):
        send(self, messages)
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(LocmemBackend, "send_messages", accepted_then_killed)
        with pytest.raises(Killed):
            clock(DUE)
    [first] = mail.outbox
    mail.outbox.clear()
    assert clock(DUE + 16 * MINUTE).prompts == 2
    [again] = mail.outbox
    # The same e-mail, not a second one: mail stores that deduplicate keep one copy.
    assert again.extra_headers["Message-ID"] == first.extra_headers["Message-ID"]
    assert again.subject == first.subject  # (the signed links carry the time they were signed)
    ids = set(ReviewPrompt.objects.values_list("message_id", flat=True))
    assert ids == {first.extra_headers["Message-ID"]}


def test_a_stale_claim_is_taken_over_and_a_fresh_one_is_left_alone(clock, alice, bob):
    forecast = due_forecast(alice, bob)
    other_run, still_running = uuid.uuid4(), uuid.uuid4()
    common = {"forecast": forecast, "deadline": DEADLINE, "step": ReviewStep.PROMPT}
    ReviewPrompt.objects.create(
        **common, recipient="alice@example.org", claim=other_run, claimed_at=DUE
    )
    ReviewPrompt.objects.create(
        **common, recipient="bob@example.org", claim=still_running, claimed_at=DUE + 55 * MINUTE
    )

    clock(DUE + HOUR)
    assert delivered() == [("alice@example.org", "1 forecast is waiting for your review")]
    bobs = ReviewPrompt.objects.get(recipient="bob@example.org")
    assert (bobs.claim, bobs.sent_at) == (still_running, None)

    clock(DUE + HOUR + 11 * MINUTE)  # Bob's claim is now 16 minutes old
    assert delivered() == [("bob@example.org", "1 forecast is waiting for your review")]
    assert ReviewPrompt.objects.filter(sent_at__isnull=True).count() == 0


def test_a_refused_recipient_is_retried_later_and_the_others_are_sent(clock, smtp_server, alice):
    bob = UserFactory(username="bob", email="bob@example.org")
    due_forecast(alice, bob)
    smtp_server.refuse["bob@example.org"] = 451

    report = clock(DUE)
    assert (report.emails_sent, report.emails_failed, report.emails_deferred) == (1, 0, 1)
    assert [message.rcpt_tos for message in smtp_server.messages] == [["alice@example.org"]]
    bobs = ReviewPrompt.objects.get(recipient="bob@example.org")
    assert bobs.sent_at is None
    assert bobs.attempts == 3  # MAIL_SEND_ATTEMPTS tries in the run, as digests get
    assert "451" in bobs.last_error
    assert "SMTPRecipientsRefused" in bobs.last_error

    smtp_server.refuse.clear()
    clock(DUE + 10 * MINUTE)
    assert len(smtp_server.messages) == 1  # not before the claim is stale
    report = clock(DUE + 16 * MINUTE)
    assert [message.rcpt_tos for message in smtp_server.messages] == [
        ["alice@example.org"],
        ["bob@example.org"],
    ]
    bobs.refresh_from_db()
    assert (bobs.sent_at, bobs.attempts, bobs.last_error) == (DUE + 16 * MINUTE, 4, "")
    assert clock(DUE + HOUR) == review_services.PromptReport()


def test_a_mail_server_that_is_down_fails_every_email_and_they_are_retried(clock, settings, alice):
    due_forecast(alice)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    report = clock(DUE)
    assert (report.emails_sent, report.emails_failed, report.emails_deferred) == (0, 0, 1)
    row = ReviewPrompt.objects.get()
    assert (row.sent_at, row.failed_at, row.attempts) == (None, None, 3)
    assert row.last_error.startswith("ConnectionRefusedError")


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_step_to_each_person_once(monkeypatch, alice, bob):
    require_postgresql("SQLite serialises concurrent writers, in memory too.")
    forecasts = [due_forecast(alice, bob) for _ in range(3)]
    barrier = threading.Barrier(2, timeout=10)
    bulk_create = ReviewPrompt.objects.bulk_create

    def claim_together(*args, **kwargs):
        barrier.wait()  # both runs have planned the same steps before either claims
        return bulk_create(*args, **kwargs)

    monkeypatch.setattr(ReviewPrompt.objects, "bulk_create", claim_together)

    def run_twice_at_once(now):
        reports, errors = [], []

        def run():
            try:
                reports.append(review_services.reviews_prompt_due(now=now))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors
        return reports

    for now, step in [(DUE, ReviewStep.PROMPT), (DUE + 3 * DAY, ReviewStep.REMINDER)]:
        reports = run_twice_at_once(now)
        received = Counter(
            (message.to[0], statement)
            for message in mail.outbox
            for statement in statements_in(message, forecasts)
        )
        assert received == {
            (person, forecast.statement): 1
            for person in ["alice@example.org", "bob@example.org"]
            for forecast in forecasts
        }
        assert sum(report.prompts + report.reminders for report in reports) == 6
        assert ReviewPrompt.objects.filter(step=step, sent_at=now).count() == 6
        mail.outbox.clear()


# --- A real SMTP conversation -------------------------------------------------------------


def test_the_prompt_over_smtp_has_both_parts_and_four_working_links(clock, smtp_server, alice):
    forecast = due_forecast(
        alice,
        statement="The central bank cuts rates before the summer.",
        quote="A cut before summer looks likely.",
        resolution_criteria="YES if the policy rate is lower on 2025-03-10 than on 2025-01-01.",
    )
    clock(DUE + 2 * DAY)

    [received] = smtp_server.messages
    row = ReviewPrompt.objects.get()
    message = received.message
    assert received.rcpt_tos == ["alice@example.org"]
    assert received.mail_from == "forecasts@example.org"
    assert message["To"] == "alice@example.org"
    assert message["Subject"] == "1 forecast is waiting for your review"
    assert message["Message-ID"] == row.message_id
    assert row.message_id.endswith("@forecasts.example.org>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = received.part("text/plain"), received.part("text/html")
    for part in (text, html):
        assert "Hello Alice" in part
        assert forecast.statement in part
        assert "A cut before summer looks likely." in part
        assert forecast.source.title in part
        assert forecast.source.url in part
        assert "70%" in part
        assert "2025-03-10" in part
        assert "3 days overdue" in part
        assert forecast.resolution_criteria in part
        assert f"{SITE}/review/" in part  # the queue
    assert "<a href=" in html
    assert "<a href=" not in text

    text_links = [url for url in re.findall(r"https?://\S+", text) if "/review/link/" in url]
    html_links = [url for url in re.findall(r'href="([^"]+)"', html) if "/review/link/" in url]
    assert text_links == html_links
    actions = {}
    for url in text_links:
        assert url.startswith(SITE + "/")
        match = resolve(urlsplit(url).path)
        assert match.view_name == "forecasts:review-link"
        link = links.review_link_check(match.kwargs["token"], slug=match.kwargs["slug"])
        assert (link.reviewer, link.forecast) == (alice, forecast)
        actions[link.action] = url
    assert sorted(actions) == ["annul", "extend", "no", "yes"]
    for action, label in links.ACTIONS.items():
        assert f"{label}: {actions[action]}" in text


def test_the_escalation_lists_who_was_prompted_and_links_each_admin_right(clock, settings, alice):
    root = UserFactory(username="root", email="ROOT@example.org", is_superuser=True)
    settings.ADMINS = [("Ops", "ops@example.org"), ("Root", "root@example.org")]
    forecast = due_forecast(alice)
    for day in (0, 3, 7, 14):
        clock(DUE + day * DAY)
    escalations = {m.to[0]: m for m in mail.outbox if m.subject.startswith("Escalation")}
    assert sorted(escalations) == ["ops@example.org", "root@example.org"]
    admin_url = f"{SITE}/admin/forecasts/forecast/{forecast.pk}/change/"
    for message in escalations.values():
        assert forecast.statement in message.body
        assert "Prompt to alice@example.org on 2025-03-11 00:00 UTC" in message.body
        assert "First reminder to alice@example.org on 2025-03-14 00:00 UTC" in message.body
        [(html, _)] = message.alternatives
        assert "Prompt to alice@example.org on 2025-03-11 00:00 UTC" in html
    # Ops has no account: the admin page. Root is a superuser: one-click links of his own.
    assert admin_url in escalations["ops@example.org"].body
    assert "/review/link/" not in escalations["ops@example.org"].body
    root_links = re.findall(rf"{SITE}(/review/link/\S+)", escalations["root@example.org"].body)
    assert len(root_links) == 4
    assert {
        links.review_link_check(resolve(path).kwargs["token"], slug=forecast.slug).reviewer
        for path in root_links
    } == {root}
    users = dict(
        ReviewPrompt.objects.filter(step=ReviewStep.ESCALATION).values_list("recipient", "user")
    )
    assert users == {"ops@example.org": None, "root@example.org": root.pk}


# --- Who is prompted ----------------------------------------------------------------------


def test_users_without_an_address_are_skipped_and_inactive_ones_not_prompted(clock, caplog):
    in_reviewers_group(UserFactory(username="dave", email=""))
    in_reviewers_group(UserFactory(username="erin", email="erin@example.org", is_active=False))
    in_reviewers_group(UserFactory(username="frank", email="frank@example.org"))
    due_forecast()  # nobody assigned: the Reviewers group covers it
    clock(DUE)
    assert delivered() == [("frank@example.org", "1 forecast is waiting for your review")]
    assert "not prompted: dave" in caplog.text
    assert set(ReviewPrompt.objects.values_list("recipient", flat=True)) == {"frank@example.org"}


def test_a_forecast_nobody_can_be_prompted_about_goes_to_the_superusers_at_once(clock, settings):
    settings.ADMINS = []
    root = UserFactory(username="root", email="root@example.org", is_superuser=True)
    UserFactory(username="old", email="old@example.org", is_superuser=True, is_active=False)
    UserFactory(username="nomail", email="", is_superuser=True)
    UserFactory(username="staff", email="staff@example.org", is_staff=True)
    in_reviewers_group(UserFactory(username="dave", email=""))
    forecast = due_forecast()
    report = clock(DUE)
    assert delivered() == [("root@example.org", "Escalation: 1 forecast is still unresolved")]
    assert report.escalations == 1
    row = ReviewPrompt.objects.get()
    assert (row.forecast, row.step, row.user) == (forecast, ReviewStep.ESCALATION, root)
    assert clock(DUE + 20 * DAY) == review_services.PromptReport()


def test_a_resolved_forecast_gets_no_further_steps(clock, alice):
    forecast = due_forecast(alice)
    clock(DUE)
    delivered()
    core_services.forecast_resolve(
        forecast=forecast, outcome="YES", known_on=DEADLINE, resolved_by=alice, note="Reported."
    )
    for day in (3, 7, 14, 30):
        assert clock(DUE + day * DAY) == review_services.PromptReport()
    assert delivered() == []


def test_an_extension_stops_the_steps_and_starts_them_again_for_the_new_deadline(clock, alice, bob):
    forecast = due_forecast(alice, bob)
    clock(DUE)
    delivered()
    core_services.forecast_extend(
        forecast=forecast,
        new_resolve_by=DEADLINE + 10 * DAY,
        reason="The figures come out later.",
        extended_by=alice,
    )
    for day in (3, 7, 9):
        assert clock(DUE + day * DAY) == review_services.PromptReport()
    report = clock(DUE + 10 * DAY)  # the new deadline has passed
    assert sorted(delivered()) == [
        ("alice@example.org", "1 forecast is waiting for your review"),
        ("bob@example.org", "1 forecast is waiting for your review"),
    ]
    assert report.prompts == 2
    prompts = ReviewPrompt.objects.filter(step=ReviewStep.PROMPT)
    assert (
        sorted(prompts.values_list("deadline", flat=True))
        == [DEADLINE] * 2 + [DEADLINE + 10 * DAY] * 2
    )
    clock(DUE + 13 * DAY)
    assert [subject for _, subject in delivered()] == [
        "Reminder: 1 forecast is waiting for your review"
    ] * 2
    # The escalation counts from the first prompt about the new deadline.
    assert clock(DUE + 14 * DAY).escalations == 0
    assert clock(DUE + 24 * DAY).escalations == 1


def test_queries_do_not_grow_with_the_number_of_forecasts(clock, alice, bob):
    due_forecast(alice, bob)
    with CaptureQueriesContext(connection) as one:
        assert clock(DUE).prompts == 2
    for _ in range(4):
        due_forecast(alice, bob, resolve_by=DEADLINE + DAY)
    with CaptureQueriesContext(connection) as four:
        assert clock(DUE + DAY).prompts == 8
    assert len(four) == len(one)


# --- The e-mail builder, the command, the task --------------------------------------------


def test_the_subject_is_one_line_whatever_the_context_holds():
    message = emails.build_message(
        "review_escalation",
        {"count": "2\nBcc: eve@example.org", "items": [], "escalation_days": 14},
        to=["ops@example.org"],
    )
    assert "\n" not in message.subject
    parsed = message.message()
    assert parsed["Bcc"] is None
    assert message.recipients() == ["ops@example.org"]
    assert [mimetype for _, mimetype in message.alternatives] == ["text/html"]


def test_the_command_prints_the_one_line_report(time_machine, alice, bob):
    due_forecast(alice, bob)
    time_machine.move_to(DUE, tick=False)
    out = io.StringIO()
    call_command("prompt_reviews", stdout=out)
    assert out.getvalue() == (
        "Review prompts: 2 prompts, 0 reminders, 0 second reminders, 0 escalations "
        "in 2 e-mails; 0 e-mails failed, 0 deferred to a later run.\n"
    )
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(("failed", "retried"), [(2, [{"countdown": 960}]), (0, [])])
def test_a_run_whose_emails_failed_retries_once_its_claims_are_stale(
    settings, monkeypatch, failed, retried
):
    settings.REVIEW_CLAIM_STALE_MINUTES = 15  # 900 s, plus a minute's margin
    report = review_services.PromptReport(prompts=2, emails_sent=0, emails_failed=failed)
    monkeypatch.setattr(review_services, "reviews_prompt_due", lambda now: report)
    calls = []

    def retry(**options):
        calls.append(options)
        return RuntimeError("retry")

    monkeypatch.setattr(reviews_prompt, "retry", retry)
    if failed:
        with pytest.raises(RuntimeError):
            reviews_prompt.run()
    else:
        assert reviews_prompt.run() == str(report)
    assert calls == retried


def test_the_task_runs_hourly_and_once_when_a_worker_starts(time_machine, settings, monkeypatch):
    schedule = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "forecasts.tasks.reviews_prompt"
    ]
    assert [entry["schedule"] for entry in schedule] == [crontab(minute=0)]
    time_machine.move_to(DUE, tick=False)
    due_forecast(UserFactory(username="alice", email="alice@example.org"))
    assert reviews_prompt.apply().get().startswith("1 prompts")

    queued = []
    monkeypatch.setattr(tracker_celery.app, "send_task", lambda name: queued.append(name))
    tracker_celery.prompt_reviews_on_start(sender=types.SimpleNamespace(app=tracker_celery.app))
    tracker_celery.prompt_reviews_on_start(sender=types.SimpleNamespace(app=object()))
    assert queued == ["forecasts.tasks.reviews_prompt"]


def test_the_html_part_escapes_what_the_text_part_keeps_verbatim(clock, alice):
    due_forecast(alice, statement="Tom & Jerry <b>win</b> the cup.")
    clock(DUE)
    [message] = mail.outbox
    [(html, _)] = message.alternatives
    assert "Tom & Jerry <b>win</b> the cup." in message.body
    assert "Tom &amp; Jerry &lt;b&gt;win&lt;/b&gt; the cup." in html
    assert "<b>win</b>" not in html
