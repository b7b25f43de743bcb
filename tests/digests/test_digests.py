"""E-mail digests: subscribing, the pages behind the links, and sending each digest once."""

import datetime as dt
import io
import json
import re
import threading
import zoneinfo
from collections import Counter

import pytest
from celery.schedules import crontab
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forecasts.digests import links as digest_links
from forecasts.digests import periods, subscriptions
from forecasts.digests import sending as digest_services
from forecasts.digests.report import digest_period_report
from forecasts.mail import outbox
from forecasts.models import (
    DeliveryStatus,
    DigestDelivery,
    ReviewerAssignment,
    ScopeKind,
    ScoreSnapshot,
    Subscriber,
    SubscriberStatus,
)
from forecasts.tasks import digests_send as digests_send_task
from forecasts.tasks import digests_subscribe as digests_subscribe_task
from tests.conftest import require_postgresql
from tests.factories import (
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    TagFactory,
    UserFactory,
)
from tracker import celery as tracker_celery

pytestmark = pytest.mark.django_db

SITE = "https://forecasts.example.org"
UTC = dt.UTC
# Monday 30 November 2026: the week 23–30 November has just ended (TIME_ZONE=UTC).
MONDAY = dt.datetime(2026, 11, 30, 6, 15, tzinfo=UTC)
WEEK_START = dt.datetime(2026, 11, 23, tzinfo=UTC)
IN_WEEK = dt.datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
URL = re.compile(r"https://forecasts\.example\.org/\S+")


@pytest.fixture(autouse=True)
def digest_settings(settings):
    settings.TIME_ZONE = "UTC"
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "Forecast tracker <forecasts@example.org>"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DIGEST_BATCH_SIZE = 3
    settings.MAIL_SEND_ATTEMPTS = 3
    settings.MAIL_RETRY_BACKOFF_SECONDS = 0
    settings.DIGEST_CLAIM_STALE_MINUTES = 30
    settings.DIGEST_PAUSE_AFTER_FAILURES = 3
    settings.DIGEST_CONFIRM_RESEND_MINUTES = 10
    settings.DIGEST_SUBSCRIBE_RATE_PER_HOUR = 5


def subscriber(email, *, cadence="weekly", tags=(), forecasters=(), **fields):
    fields.setdefault("confirmed_at", WEEK_START - 30 * DAY)
    row = Subscriber.objects.create(
        email=email, cadence=cadence, status=SubscriberStatus.CONFIRMED, **fields
    )
    row.tags.set(tags)
    row.forecasters.set(forecasters)
    return row


@pytest.fixture
def news():
    """A week's worth of news: two topics, two forecasters."""
    korea, trade = TagFactory(name="Korea", slug="korea"), TagFactory(name="Trade", slug="trade")
    analyst = ForecasterFactory(name="Ann Analyst", slug="ann")
    pundit = ForecasterFactory(name="Pete Pundit", slug="pete")
    resolved = ForecastFactory(
        statement="Talks resume before the end of the term.",
        forecaster=analyst,
        resolve_by=dt.date(2026, 11, 20),
        published_at=WEEK_START - 60 * DAY,
    )
    resolved.tags.add(korea)
    ResolutionFactory(
        forecast=resolved,
        outcome="NO",
        known_on=dt.date(2026, 11, 21),
        evidence_url="https://news.example.org/talks-stalled",
        resolved_at=IN_WEEK,
    )
    new_korea = ForecastFactory(
        statement="A summit is held in Pyongyang.",
        forecaster=pundit,
        resolve_by=dt.date(2027, 6, 30),
        published_at=IN_WEEK,
    )
    new_korea.tags.add(korea)
    new_trade = ForecastFactory(
        statement="Tariffs on steel are lifted.",
        forecaster=pundit,
        resolve_by=dt.date(2027, 3, 31),
        published_at=IN_WEEK,
    )
    new_trade.tags.add(trade)
    due_next = ForecastFactory(
        statement="The trade deal is signed.",
        forecaster=analyst,
        resolve_by=dt.date(2026, 12, 3),
        published_at=WEEK_START - 90 * DAY,
    )
    due_next.tags.add(trade)
    return {"korea": korea, "trade": trade, "analyst": analyst, "pundit": pundit}


def run(moment=MONDAY):
    return digest_services.digests_send(now=moment)


def delivered():
    sent = [(message.to[0], message) for message in mail.outbox]
    mail.outbox.clear()
    return sent


# --- Periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "moment", "start", "hours"),
    [
        # Clocks go forward on 29 March 2026 in London: that week is an hour short.
        ("Europe/London", dt.datetime(2026, 3, 30, 9, 0), dt.datetime(2026, 3, 23), 167),
        # And back on 25 October: an hour long.
        ("Europe/London", dt.datetime(2026, 10, 26, 9, 0), dt.datetime(2026, 10, 19), 169),
        # New York springs forward on 8 March 2026 and falls back on 1 November.
        ("America/New_York", dt.datetime(2026, 3, 9, 0, 30), dt.datetime(2026, 3, 2), 167),
        ("America/New_York", dt.datetime(2026, 3, 16, 0, 30), dt.datetime(2026, 3, 9), 168),
        ("America/New_York", dt.datetime(2026, 11, 2, 0, 30), dt.datetime(2026, 10, 26), 169),
    ],
)
def test_a_week_is_monday_to_monday_local_time_across_daylight_saving(zone, moment, start, hours):
    tz = zoneinfo.ZoneInfo(zone)
    period = periods.period_last_ended(moment.replace(tzinfo=tz), cadence="weekly", time_zone=zone)
    assert period.start == start.replace(tzinfo=tz)
    assert period.start.astimezone(tz).time() == dt.time(0)
    assert period.end.astimezone(tz) == (start + 7 * DAY).replace(tzinfo=tz)
    assert (period.end - period.start) == dt.timedelta(hours=hours)


def test_a_month_is_a_calendar_month_local_time():
    tz = zoneinfo.ZoneInfo("Europe/London")
    period = periods.period_last_ended(
        dt.datetime(2026, 4, 1, 0, 5, tzinfo=tz), cadence="monthly", time_zone="Europe/London"
    )
    assert (period.start, period.end) == (
        dt.datetime(2026, 3, 1, tzinfo=tz),
        dt.datetime(2026, 4, 1, tzinfo=tz),
    )
    assert period.end - period.start == dt.timedelta(days=31, hours=-1)
    december = periods.period_last_ended(
        dt.datetime(2027, 1, 1, tzinfo=UTC), cadence="monthly", time_zone="UTC"
    )
    assert (december.first_day, december.last_day) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert periods.period_after(december, time_zone="UTC").first_day == dt.date(2027, 1, 1)


def test_five_minutes_before_local_midnight_the_week_has_not_ended(settings, time_machine):
    settings.TIME_ZONE = "Europe/London"
    tz = zoneinfo.ZoneInfo("Europe/London")
    # Summer time: local midnight on Monday 31 August 2026 is 23:00 UTC on Sunday.
    subscriber("reader@example.org", confirmed_at=dt.datetime(2026, 8, 1, tzinfo=UTC))
    ForecastFactory(published_at=dt.datetime(2026, 8, 19, 12, tzinfo=UTC))
    ForecastFactory(published_at=dt.datetime(2026, 8, 26, 12, tzinfo=UTC))
    assert run(dt.datetime(2026, 8, 30, 22, 55, tzinfo=UTC)).sent == 1
    delivery = DigestDelivery.objects.get()
    # 22:55 UTC is still Sunday in London: the digest was for the week before.
    assert delivery.period_start.astimezone(tz) == dt.datetime(2026, 8, 17, tzinfo=tz)
    assert run(dt.datetime(2026, 8, 30, 23, 5, tzinfo=UTC)).sent == 1
    latest = DigestDelivery.objects.order_by("-period_start").first()
    assert latest.period_start.astimezone(tz) == dt.datetime(2026, 8, 24, tzinfo=tz)
    assert latest.period_end - latest.period_start == dt.timedelta(days=7)


# --- Double opt-in, preferences, unsubscribe ----------------------------------------------


def post_subscribe(client, email="reader@example.org", **data):
    """The request alone (the task it queues runs only on commit, which a test never reaches)."""
    return client.post(
        "/digests/subscribe/", {"email": email, "cadence": "weekly", **data}, REMOTE_ADDR="10.0.0.1"
    )


def subscribe(client, email="reader@example.org", **data):
    """The request, then the task it queued, as a worker runs it after the response."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return post_subscribe(client, email, **data)


def link_in(message, path):
    [link] = [url for url in URL.findall(message.body) if path in url]
    return link.removeprefix(SITE)


def test_double_opt_in_sends_only_the_confirmation_until_the_link_is_followed(
    client, news, time_machine
):
    time_machine.move_to(IN_WEEK - DAY, tick=False)
    response = subscribe(client, "Reader@Example.org", tags=[news["korea"].pk])
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    [(to, confirmation)] = delivered()
    assert to == "reader@example.org"
    assert confirmation.subject == "Confirm your forecast digest subscription"
    assert [kind for _, kind in confirmation.alternatives] == ["text/html"]
    row = Subscriber.objects.get()
    assert (row.email, row.status) == ("reader@example.org", SubscriberStatus.PENDING)

    assert run() == digest_services.DigestSendReport()  # pending: nothing is sent
    assert delivered() == []

    confirm = link_in(confirmation, "/digests/confirm/")
    page = client.get(confirm)  # a mail scanner following the link confirms nothing
    assert page.status_code == 200
    assert b"Confirm my subscription" in page.content
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    done = client.post(confirm)
    assert b"You are subscribed" in done.content
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED

    assert run().sent == 1
    [(to, digest)] = delivered()
    assert to == "reader@example.org"
    assert "A summit is held in Pyongyang." in digest.body
    assert "Tariffs on steel" not in digest.body  # only Korea


def test_the_subscribe_page_says_the_same_whoever_is_subscribed(client, news, time_machine):
    time_machine.move_to(IN_WEEK, tick=False)
    subscriber("known@example.org")
    answers = [subscribe(client, email) for email in ["known@example.org", "new@example.org"]]
    answers.append(subscribe(client, "new@example.org"))  # pending, asked again at once
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    # Only the new address got a confirmation, and only one.
    assert [to for to, _ in delivered()] == ["new@example.org"]
    assert Subscriber.objects.get(email="known@example.org").status == SubscriberStatus.CONFIRMED


def test_the_request_reads_writes_and_sends_the_same_whoever_is_subscribed(
    client, news, time_machine
):
    """Issue 16 (5): the request looked the address up, stored it and sent the confirmation
    itself, so it took 25 ms for a confirmed address and 47-160 ms for a new one (an SMTP
    round trip more in production): timing it told who is subscribed. It queues a task now
    and does nothing that depends on the address: the same queries, the same response,
    nothing stored and nothing sent until the task runs."""
    time_machine.move_to(IN_WEEK, tick=False)
    subscriber("known@example.org")
    Subscriber.objects.create(email="pending@example.org", confirmation_sent_at=IN_WEEK - DAY)
    picks = {"tags": [news["korea"].pk], "forecasters": [news["pundit"].pk]}
    requests = []
    for email in ["known@example.org", "pending@example.org", "new@example.org"]:
        with (
            CaptureQueriesContext(connection) as queries,
            TestCase.captureOnCommitCallbacks() as queued,
        ):
            response = post_subscribe(client, email, **picks)
        requests.append((response, [query["sql"] for query in queries.captured_queries], queued))

    first, sql = requests[0][0], requests[0][1]
    assert [queries for _, queries, _ in requests] == [sql] * 3
    assert sql, "the form checks the chosen topic and forecaster"
    assert not [query for query in sql if "subscriber" in query]
    assert mail.outbox == []
    for response, _, queued in requests:
        assert response.status_code == 200
        assert response.content == first.content
        assert {**response.headers, "X-Request-ID": ""} == {**first.headers, "X-Request-ID": ""}
        assert response.cookies.output() == first.cookies.output()
        assert len(queued) == 1  # the task, queued for when the request's transaction commits
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "known@example.org",
        "pending@example.org",
    ]

    for _, _, [task] in requests:
        task()  # the worker, after the responses
    assert sorted(to for to, _ in delivered()) == ["new@example.org", "pending@example.org"]
    row = Subscriber.objects.get(email="new@example.org")
    assert row.status == SubscriberStatus.PENDING
    assert list(row.tags.all()) == [news["korea"]]
    assert list(row.forecasters.all()) == [news["pundit"]]
    assert Subscriber.objects.get(email="known@example.org").status == SubscriberStatus.CONFIRMED


def test_the_subscribe_task_does_what_the_request_did_and_is_safe_to_run_twice(news, time_machine):
    time_machine.move_to(IN_WEEK, tick=False)
    subscriber("known@example.org", tags=[news["trade"]])
    Subscriber.objects.create(email="asked@example.org", confirmation_sent_at=IN_WEEK - 5 * MINUTE)
    Subscriber.objects.create(
        email="waited@example.org", confirmation_sent_at=IN_WEEK - 11 * MINUTE
    )
    left = Subscriber.objects.create(
        email="left@example.org",
        status=SubscriberStatus.UNSUBSCRIBED,
        unsubscribed_at=IN_WEEK - 30 * DAY,
    )

    def task(email):
        kwargs = {
            "email": email,
            "cadence": "monthly",
            "tag_ids": [news["korea"].pk],
            "forecaster_ids": [],
        }
        return digests_subscribe_task.apply(kwargs=kwargs).get()

    emails = ["new", "asked", "waited", "known", "left"]
    results = {email: task(f"{email}@example.org") for email in emails}
    assert results == {
        "new": "confirmation sent",
        "asked": "nothing to send",  # a confirmation went 5 minutes ago: not another yet
        "waited": "confirmation sent",  # 11 minutes ago: sent again
        "known": "nothing to send",  # subscribed already: nothing sent, nothing changed
        "left": "confirmation sent",  # unsubscribed: asked to confirm again
    }
    confirmations = delivered()
    assert sorted(to for to, _ in confirmations) == [
        "left@example.org",
        "new@example.org",
        "waited@example.org",
    ]
    assert {message.subject for _, message in confirmations} == {
        "Confirm your forecast digest subscription"
    }
    new = Subscriber.objects.get(email="new@example.org")
    assert (new.status, new.cadence) == (SubscriberStatus.PENDING, "monthly")
    assert list(new.tags.all()) == [news["korea"]]
    known = Subscriber.objects.get(email="known@example.org")
    assert (known.status, known.cadence) == (SubscriberStatus.CONFIRMED, "weekly")
    assert list(known.tags.all()) == [news["trade"]]
    left.refresh_from_db()
    assert (left.status, left.token_version) == (SubscriberStatus.PENDING, 2)

    # A message delivered twice (a worker killed before acknowledging it): one e-mail.
    assert task("new@example.org") == "nothing to send"
    assert delivered() == []


def test_the_queued_task_carries_no_address_where_celery_logs_it(client, news):
    """The message a worker gets: JSON arguments, and the address hidden from what a
    worker logs of them (when it receives the task, and if it fails)."""
    broker = tracker_celery.create_app(broker_url="memory://")
    broker.set_current()  # the tasks the view queues go to this app's broker
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            post_subscribe(client, "reader@example.org", tags=[news["korea"].pk])
        with broker.connection_for_read() as broker_connection:
            queue = broker_connection.SimpleQueue("celery")
            message = queue.get(timeout=5)
            message.ack()
            queue.close()
    finally:
        tracker_celery.app.set_current()
        broker.close()
    assert message.content_type == "application/json"
    assert message.headers["task"] == "forecasts.tasks.digests_subscribe"
    [args, kwargs, _] = message.payload
    assert (args, kwargs) == (
        [],
        {
            "email": "reader@example.org",
            "cadence": "weekly",
            "tag_ids": [news["korea"].pk],
            "forecaster_ids": [],
        },
    )
    assert "reader" not in json.dumps(message.headers)
    assert "[address]" in message.headers["kwargsrepr"]
    assert mail.outbox == []  # no worker here: nothing ran


def test_the_subscribe_form_is_rate_limited_per_client(client, news):
    codes = [subscribe(client, f"reader{n}@example.org").status_code for n in range(7)]
    assert codes == [200] * 5 + [429] * 2
    assert len(delivered()) == 5
    other = client.post(
        "/digests/subscribe/",
        {"email": "else@example.org", "cadence": "weekly"},
        REMOTE_ADDR="10.0.0.2",
    )
    assert other.status_code == 200


def test_filling_the_page_cache_does_not_reset_the_subscribe_limit(client, news):
    """Issue 16 (3): the counters shared a cache with the pages, whose culling (or a
    full Redis) could evict them; they live in the "state" cache now."""
    from django.core.cache import caches

    codes = [subscribe(client, f"reader{n}@example.org").status_code for n in range(5)]
    assert codes == [200] * 5
    caches["default"].clear()  # every page entry gone, as a full cache would drop them
    assert subscribe(client, "one-more@example.org").status_code == 429


def test_the_subscribe_page_has_one_heading_and_labelled_controls(client, news):
    page = client.get("/digests/subscribe/").content.decode()
    assert page.count("<h1") == 1
    assert '<html lang="en">' in page
    for control in re.findall(r'<input[^>]+id="([^"]+)"', page):
        assert f'for="{control}"' in page
    assert "Korea" in page
    assert "Ann Analyst" in page
    home = Client().get("/").content.decode()
    assert 'href="/digests/subscribe/"' in home


def test_preferences_change_through_the_signed_link(client, news):
    row = subscriber("reader@example.org")
    url = digest_links.preferences_url(row).removeprefix(SITE)
    page = client.get(url)
    assert page.status_code == 200
    assert b"Your digest preferences" in page.content
    response = client.post(
        url, {"cadence": "monthly", "forecasters": [news["analyst"].pk], "tags": []}
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.cadence == "monthly"
    assert list(row.forecasters.all()) == [news["analyst"]]
    assert list(row.tags.all()) == []


def test_one_click_unsubscribe_needs_no_cookie_and_get_only_asks(news):
    row = subscriber("reader@example.org")
    run()
    [(_, digest)] = delivered()
    link = digest.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://")
    path = link.removeprefix(SITE)

    browser = Client(enforce_csrf_checks=True)
    asked = browser.get(path)
    assert asked.status_code == 200
    assert b"Unsubscribe from the forecast digest?" in asked.content
    row.refresh_from_db()
    assert row.status == SubscriberStatus.CONFIRMED

    mail_client = Client(enforce_csrf_checks=True)  # no cookies, no CSRF token
    for _ in range(2):  # a second click changes nothing and still succeeds
        done = mail_client.post(
            path,
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert done.status_code == 200
        assert b"You are unsubscribed" in done.content
    assert mail_client.cookies == {} or "csrftoken" not in mail_client.cookies
    row.refresh_from_db()
    assert row.status == SubscriberStatus.UNSUBSCRIBED
    assert run(MONDAY + 7 * DAY) == digest_services.DigestSendReport()


def test_tampered_expired_and_superseded_links_are_refused(client, news, settings, time_machine):
    row = subscriber("reader@example.org")
    manage = digest_links.manage_token(row)
    confirm = digest_links.confirm_token(row)
    cut = manage[:-2] + ("AA" if not manage.endswith("AA") else "BB")
    other = digest_links.manage_token(subscriber("other@example.org"))
    forged = other.split(":")[0] + ":" + manage.split(":")[1]
    for path in [
        f"/digests/unsubscribe/{cut}/",
        f"/digests/unsubscribe/{forged}/",
        f"/digests/preferences/{cut}/",
        f"/digests/unsubscribe/{confirm}/",  # a confirmation token is not a manage token
        f"/digests/confirm/{manage}/",
        "/digests/unsubscribe/nonsense/",
    ]:
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 400, path
            assert b"This link cannot be used" in response.content
    row.refresh_from_db()
    assert row.status == SubscriberStatus.CONFIRMED

    time_machine.move_to(timezone.now() + dt.timedelta(days=8), tick=False)
    assert client.get(f"/digests/confirm/{confirm}/").status_code == 410

    # Unsubscribed, then subscribed again: links from before no longer work.
    subscriptions.subscriber_unsubscribe(subscriber=row, now=timezone.now())
    subscriptions.subscriber_subscribe(
        email="reader@example.org", cadence="weekly", now=timezone.now()
    )
    assert client.post(f"/digests/unsubscribe/{manage}/").status_code == 410
    row.refresh_from_db()
    assert row.status == SubscriberStatus.PENDING


# --- Content and the SMTP conversation ----------------------------------------------------


def test_the_digest_over_smtp_has_the_headers_both_parts_and_the_filtered_content(
    smtp_server, news
):
    everything = subscriber("all@example.org")
    subscriber("korea@example.org", tags=[news["korea"]])
    subscriber("pete@example.org", forecasters=[news["pundit"]])
    ScoreSnapshot.objects.create(
        scope_kind=ScopeKind.FORECASTER,
        scope_id=news["analyst"].pk,
        as_of=dt.date(2026, 11, 26),
        resolved_count=4,
        yes_count=1,
        brier=0.12,
    )
    report = run()
    assert (report.sent, report.skipped, report.failed) == (3, 0, 0)
    received = {message.rcpt_tos[0]: message for message in smtp_server.messages}
    assert set(received) == {"all@example.org", "korea@example.org", "pete@example.org"}
    # Rendered once per set of filters, then copied: each copy is the subscriber's own.
    assert len({message.message["Message-ID"] for message in received.values()}) == 3
    assert not [message for message in received.values() if b"Placeholder" in message.data]

    message = received["all@example.org"].message
    assert message["Subject"] == "Your weekly forecast digest: week of 23 Nov 2026"
    unsubscribe = digest_links.unsubscribe_url(everything)
    # Long enough to be folded onto a continuation line, which parsers keep as a space.
    assert message["List-Unsubscribe"].strip() == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    delivery = DigestDelivery.objects.get(subscriber=everything)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.message_id == message["Message-ID"]
    assert delivery.message_id.endswith("@forecasts.example.org>")
    assert (delivery.period_start, delivery.period_end) == (WEEK_START, WEEK_START + 7 * DAY)

    text = received["all@example.org"].part("text/plain")
    html = received["all@example.org"].part("text/html")
    for body in (text, html):
        assert "Talks resume before the end of the term." in body
        assert "https://news.example.org/talks-stalled" in body
        assert "A summit is held in Pyongyang." in body
        assert "Tariffs on steel are lifted." in body
        assert "The trade deal is signed." in body
        assert "Ann Analyst" in body
        assert f"{SITE}/" in body
        assert digest_links.preferences_url(everything) in body
    assert "outcome NO, known 21 Nov 2026 · probability given 70% · Brier 0.490" in text
    assert "DUE NEXT WEEK (1)" in text
    assert "Ann Analyst: Brier first scored at 0.120 (4 resolved)" in text
    assert "<h2" in html

    korea_text = received["korea@example.org"].part("text/plain")
    assert "Talks resume" in korea_text
    assert "A summit is held in Pyongyang." in korea_text
    assert "Tariffs on steel" not in korea_text
    assert "The trade deal is signed." not in korea_text
    assert "Only the topics and forecasters you follow." in korea_text

    pete_text = received["pete@example.org"].part("text/plain")
    assert "Tariffs on steel are lifted." in pete_text
    assert "A summit is held in Pyongyang." in pete_text
    assert "Talks resume" not in pete_text
    assert "Ann Analyst" not in pete_text


def test_nothing_to_report_sends_nothing_and_is_recorded_as_skipped(news):
    quiet = subscriber("quiet@example.org", forecasters=[ForecasterFactory(name="Nobody")])
    subscriber("reader@example.org")
    report = run()
    assert (report.sent, report.skipped) == (1, 1)
    assert [to for to, _ in delivered()] == ["reader@example.org"]
    assert DigestDelivery.objects.get(subscriber=quiet).status == DeliveryStatus.SKIPPED
    assert run() == digest_services.DigestSendReport()


def test_the_html_part_escapes_what_the_text_part_keeps(smtp_server, news):
    ForecastFactory(statement="Tom & Jerry <b>win</b> the cup.", published_at=IN_WEEK)
    subscriber("reader@example.org")
    run()
    [received] = smtp_server.messages
    assert "Tom & Jerry <b>win</b> the cup." in received.part("text/plain")
    assert "Tom &amp; Jerry &lt;b&gt;win&lt;/b&gt; the cup." in received.part("text/html")


def test_score_changes_list_those_too_few_to_rank_apart_after_the_ranked(smtp_server, news):
    # As on the leaderboards (LEADERBOARD_MIN_RESOLVED, 5): Pete's one lucky forecast
    # is not ranked beside Ann's ten, though his Brier moved more.
    for forecaster, resolved, brier in ((news["pundit"], 1, 0.04), (news["analyst"], 10, 0.21)):
        ScoreSnapshot.objects.create(
            scope_kind=ScopeKind.FORECASTER,
            scope_id=forecaster.pk,
            as_of=dt.date(2026, 11, 26),
            resolved_count=resolved,
            yes_count=resolved,
            brier=brier,
        )
    subscriber("reader@example.org")
    run()
    [received] = smtp_server.messages
    text, html = received.part("text/plain"), received.part("text/html")
    lines = text[text.index("SCORE CHANGES") :].splitlines()
    assert [line for line in lines if line][:4] == [
        "SCORE CHANGES",
        "- Ann Analyst: Brier first scored at 0.210 (10 resolved)",
        "Too few resolved forecasts to rank (fewer than 5):",
        "- Pete Pundit: Brier first scored at 0.040 (1 resolved)",
    ]
    section = html[html.index("Score changes") :]
    assert section.index("Ann Analyst") < section.index("Too few resolved forecasts to rank")
    assert section.index("Too few resolved forecasts to rank") < section.index("Pete Pundit")


def test_a_busy_week_lists_the_first_items_and_counts_the_rest(smtp_server, news, settings):
    settings.DIGEST_SECTION_LIMIT = 3
    for n in range(5):  # 2 + 5 new forecasts this week
        ForecastFactory(statement=f"Bulk import number {n}.", published_at=IN_WEEK)
    subscriber("reader@example.org")
    run()
    [received] = smtp_server.messages
    text, html = received.part("text/plain"), received.part("text/html")
    assert "NEW FORECASTS (7)" in text
    assert "- … and 4 more: http" in text
    assert "New forecasts (7)" in html
    assert "… and 4 more on" in html
    assert text.count("Bulk import number") + text.count("Pyongyang") + text.count("Tariffs") == 3
    assert "RESOLVED (1)" in text  # a section under the limit shows no "more" line
    assert text.count("more: http") == 1


def test_a_staff_digest_adds_their_own_overdue_review_queue(client, news, time_machine):
    time_machine.move_to(IN_WEEK, tick=False)
    staff = UserFactory(username="rita", email="Rita@Example.org", is_staff=True)
    earlier = {"resolve_by": dt.date(2026, 11, 1), "published_at": WEEK_START - 60 * DAY}
    mine = ForecastFactory(statement="Rita's overdue one.", **earlier)
    ReviewerAssignment.objects.create(forecast=mine, reviewer=staff)
    ForecastFactory(statement="Someone else's overdue one.", **earlier)
    client.force_login(staff)
    assert client.get("/digests/staff/").status_code == 200
    response = client.post("/digests/staff/", {"cadence": "weekly", "include_review_queue": "on"})
    assert response.status_code == 200
    row = Subscriber.objects.get()
    assert (row.email, row.user, row.status) == ("rita@example.org", staff, "confirmed")
    subscriber("public@example.org")
    run()
    digests = dict(delivered())
    assert "YOUR OVERDUE REVIEWS (1)" in digests["rita@example.org"].body
    assert "Rita's overdue one." in digests["rita@example.org"].body
    assert "Someone else's overdue one." not in digests["rita@example.org"].body
    assert "OVERDUE REVIEWS" not in digests["public@example.org"].body
    assert Client().get("/digests/staff/").status_code == 302  # staff only


# --- Exactly once -------------------------------------------------------------------------


def test_the_job_run_twice_sends_each_digest_once(news):
    for n in range(7):
        subscriber(f"reader{n}@example.org")
    assert run().sent == 7
    assert run().sent == 0
    assert run(MONDAY + 2 * DAY).sent == 0  # the daily job on Wednesday: same week, done
    received = Counter(to for to, _ in delivered())
    assert received == {f"reader{n}@example.org": 1 for n in range(7)}
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 7


class Killed(BaseException):
    """The worker dies (a BaseException, like the SystemExit of a killed process)."""


def test_a_run_killed_mid_batch_is_finished_by_a_later_run_without_second_copies(monkeypatch, news):
    for n in range(7):  # batches of 3: 3, 3, 1
        subscriber(f"reader{n}@example.org")
    deliver = outbox._deliver
    calls = []

    def dies_on_the_fifth(connection, message):
        calls.append(message.to[0])
        if len(calls) == 5:
            raise Killed
        return deliver(connection, message)

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_deliver", dies_on_the_fifth)
        with pytest.raises(Killed):
            run()
    first = [to for to, _ in delivered()]
    assert len(first) == 4
    claimed = DigestDelivery.objects.filter(status=DeliveryStatus.CLAIMED)
    assert claimed.count() == 2  # the rest of the second batch; the third never claimed

    assert run(MONDAY + 10 * MINUTE).sent == 1  # the unclaimed one; fresh claims wait
    assert run(MONDAY + 31 * MINUTE).sent == 2  # stale claims taken over
    assert run(MONDAY + 2 * DAY).sent == 0
    second = [to for to, _ in delivered()]
    assert Counter(first + second) == {f"reader{n}@example.org": 1 for n in range(7)}
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 7


def test_a_run_killed_after_the_server_accepted_resends_the_same_message_id(monkeypatch, news):
    for n in range(3):
        subscriber(f"reader{n}@example.org")
    deliver = outbox._deliver

    def second_accepted_then_killed(connection, message):
        result = deliver(connection, message)
        if message.to == ["reader1@example.org"]:
            raise Killed
        return result

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_deliver", second_accepted_then_killed)
        with pytest.raises(Killed):
            run()
    assert run(MONDAY + 31 * MINUTE).sent == 2
    copies = [message for to, message in delivered() if to == "reader1@example.org"]
    # Sent twice (the kill came before the mark), but as the same message: mail stores
    # that deduplicate keep one copy.
    assert len(copies) == 2
    assert len({message.extra_headers["Message-ID"] for message in copies}) == 1
    row = DigestDelivery.objects.get(subscriber__email="reader1@example.org")
    assert row.message_id == copies[0].extra_headers["Message-ID"]


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_digest_once(monkeypatch, news):
    require_postgresql("SQLite serialises concurrent writers, in memory too.")
    for n in range(8):
        subscriber(f"reader{n}@example.org")
    barrier = threading.Barrier(2, timeout=10)
    bulk_create = DigestDelivery.objects.bulk_create

    def claim_together(*args, **kwargs):
        barrier.wait()  # both runs have planned the same batch before either claims
        return bulk_create(*args, **kwargs)

    monkeypatch.setattr(DigestDelivery.objects, "bulk_create", claim_together)
    reports, errors = [], []

    def one_run():
        try:
            reports.append(digest_services.digests_send(now=MONDAY))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert Counter(message.to[0] for message in mail.outbox) == {
        f"reader{n}@example.org": 1 for n in range(8)
    }
    assert sum(report.sent for report in reports) == 8
    assert DigestDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 8


# --- SMTP failures ------------------------------------------------------------------------


def test_a_451_is_retried_with_backoff_and_delivered_once(smtp_server, monkeypatch, news, settings):
    settings.MAIL_RETRY_BACKOFF_SECONDS = 1
    waits = []
    monkeypatch.setattr(outbox.time, "sleep", waits.append)
    subscriber("reader@example.org")
    subscriber("second@example.org")
    smtp_server.data_replies = [451]
    report = run()
    assert (report.sent, report.failed, report.deferred) == (2, 0, 0)
    assert smtp_server.data_answers == [451, 250, 250]
    assert waits == [1]
    assert sorted(message.rcpt_tos[0] for message in smtp_server.messages) == [
        "reader@example.org",
        "second@example.org",
    ]
    first = DigestDelivery.objects.get(subscriber__email="reader@example.org")
    assert (first.status, first.attempts, first.last_error) == (DeliveryStatus.SENT, 2, "")


def test_a_server_answering_4xx_every_time_defers_the_digest_to_a_later_run(
    smtp_server, monkeypatch, news
):
    waits = []
    monkeypatch.setattr(outbox.time, "sleep", waits.append)
    subscriber("reader@example.org")
    smtp_server.refuse["reader@example.org"] = 450
    assert run().deferred == 1
    assert waits == [0, 0]  # two retries after the first try
    row = DigestDelivery.objects.get()
    assert (row.status, row.attempts) == (DeliveryStatus.CLAIMED, 3)
    assert "450" in row.last_error
    smtp_server.refuse.clear()
    assert run(MONDAY + 10 * MINUTE).sent == 0  # the claim is not stale yet
    assert run(MONDAY + 31 * MINUTE).sent == 1
    assert len(smtp_server.messages) == 1


def test_a_550_fails_at_once_and_repeated_failures_pause_the_subscriber(
    smtp_server, monkeypatch, news
):
    monkeypatch.setattr(outbox.time, "sleep", lambda seconds: None)
    bounced = subscriber("gone@example.org")
    subscriber("reader@example.org")
    smtp_server.refuse["gone@example.org"] = 550
    report = run()
    assert (report.sent, report.failed, report.paused) == (1, 1, 0)
    row = DigestDelivery.objects.get(subscriber=bounced)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)
    assert "550" in row.last_error
    assert run(MONDAY + DAY).failed == 0  # not retried
    assert [message.rcpt_tos for message in smtp_server.messages] == [["reader@example.org"]]

    for week in (1, 2):
        ForecastFactory(published_at=IN_WEEK + week * 7 * DAY)
        report = run(MONDAY + week * 7 * DAY)
        assert report.failed == 1
    assert report.paused == 1
    bounced.refresh_from_db()
    assert (bounced.status, bounced.permanent_failures) == (SubscriberStatus.PAUSED, 3)
    ForecastFactory(published_at=IN_WEEK + 21 * DAY)
    assert run(MONDAY + 21 * DAY).failed == 0


def test_a_data_550_fails_the_delivery(smtp_server, news):
    subscriber("reader@example.org")
    smtp_server.reply_code = 550
    report = run()
    assert report.failed == 1
    assert DigestDelivery.objects.get().status == DeliveryStatus.FAILED
    assert smtp_server.data_answers == [550]


# --- Command, task, beat, admin -----------------------------------------------------------


def test_the_command_prints_progress_and_a_one_line_summary(news):
    subscriber("reader@example.org")
    out = io.StringIO()
    call_command("send_digests", "--now", "2026-11-30T06:15:00+00:00", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[-1] == (
        "Digests: 1 digests sent, 0 skipped (nothing to report), 0 failed, "
        "0 deferred to the next run, 0 subscribers paused."
    )
    assert "weekly: 1/1 subscribers" in out.getvalue()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(("stale_minutes", "countdown"), [(30, 1860), (0.1, 9)])
def test_a_run_that_deferred_digests_retries_once_its_claims_are_stale(
    settings, monkeypatch, stale_minutes, countdown
):
    settings.DIGEST_CLAIM_STALE_MINUTES = stale_minutes
    monkeypatch.setattr(
        digest_services,
        "digests_send",
        lambda now, until: digest_services.DigestSendReport(deferred=2),
    )
    retried = []

    def retry(**options):
        retried.append(options)
        return RuntimeError("retry")

    monkeypatch.setattr(digests_send_task, "retry", retry)
    with pytest.raises(RuntimeError):
        digests_send_task.run()
    assert retried == [{"countdown": countdown}]


def test_the_task_runs_daily_from_beat(settings, news, time_machine):
    [entry] = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "forecasts.tasks.digests_send"
    ]
    assert entry["schedule"] == crontab(hour=settings.DIGEST_SEND_HOUR, minute=15)
    subscriber("reader@example.org")
    time_machine.move_to(MONDAY, tick=False)
    assert digests_send_task.apply().get().startswith("1 digests sent")
    assert digests_send_task.apply(kwargs={"now": MONDAY.isoformat()}).get().startswith("0 ")


def test_a_run_past_its_time_budget_claims_no_more_and_says_how_many_are_left(news):
    readers = [subscriber(f"reader{i}@example.org") for i in range(7)]  # batches of 3
    spent = digest_services.digests_send(now=MONDAY, until=0.0)  # a budget long gone
    assert (spent.sent, spent.left) == (3, 4)  # the first batch always: progress
    assert DigestDelivery.objects.count() == 3  # the rest are not even claimed
    assert "4 left to a new run" in str(spent)
    rest = digest_services.digests_send(now=MONDAY)
    assert (rest.sent, rest.left) == (4, 0)
    assert sorted(to for to, _ in delivered()) == sorted(r.email for r in readers)


def test_the_task_hands_what_its_budget_leaves_to_a_new_run(news, monkeypatch, time_machine):
    """Half the soft time limit spent, the task queues a run of its own for the rest
    instead of being stopped by the limit in the middle of a batch."""
    from forecasts.digests import tasks as digest_tasks

    readers = [subscriber(f"reader{i}@example.org") for i in range(5)]
    time_machine.move_to(MONDAY, tick=False)
    queued = []
    monkeypatch.setattr(digest_tasks, "time_budget", lambda task, **_: -1.0)  # already spent
    monkeypatch.setattr(digests_send_task, "apply_async", lambda kwargs: queued.append(kwargs))
    assert "2 left to a new run" in digests_send_task.apply().get()
    assert queued == [{"now": None}]  # the new run takes its own moment, as beat's would
    monkeypatch.undo()
    time_machine.move_to(MONDAY, tick=False)
    assert digests_send_task.apply(kwargs=queued[0]).get().startswith("2 digests sent")
    assert sorted(to for to, _ in delivered()) == sorted(r.email for r in readers)


def test_the_time_budget_is_half_the_soft_limit_or_half_the_claims_freshness(settings):
    from forecasts.digests.tasks import time_budget

    soft = digests_send_task.app.conf.task_soft_time_limit
    assert time_budget(digests_send_task, stale_seconds=1800) == soft / 2
    assert time_budget(digests_send_task, stale_seconds=6) == 3.0  # the fault suite's
    digests_send_task.request_stack.push(type("Request", (), {"timelimit": (60, 40)})())
    try:
        assert time_budget(digests_send_task, stale_seconds=1800) == 20.0
    finally:
        digests_send_task.request_stack.pop()


def test_the_admin_shows_subscribers_deliveries_and_the_schedule(admin_client, news):
    row = subscriber("reader@example.org", tags=[news["korea"]])
    run()
    page = admin_client.get("/admin/forecasts/subscriber/").content.decode()
    assert "reader@example.org" in page
    assert "Korea" in page
    assert "sent" in page.lower()
    deliveries = admin_client.get("/admin/forecasts/digestdelivery/").content.decode()
    assert "reader@example.org" in deliveries
    assert "Digest schedule" in deliveries
    assert "daily at 06:15" in deliveries
    assert admin_client.get(f"/admin/forecasts/subscriber/{row.pk}/change/").status_code == 200


def test_a_new_subscriber_gets_the_latest_digest_once_and_no_backlog(news):
    late = subscriber("late@example.org", confirmed_at=MONDAY - 2 * MINUTE)
    ForecastFactory(published_at=IN_WEEK - 14 * DAY)  # an older week's news
    assert run(MONDAY + DAY).sent == 1
    assert list(late.deliveries.values_list("period_start", flat=True)) == [WEEK_START]
    assert run(MONDAY + 2 * DAY).sent == 0


def test_a_mail_server_that_is_down_stops_the_run_and_a_later_run_sends_everything_once(
    smtp_server, settings, monkeypatch, news
):
    waits = []
    monkeypatch.setattr(outbox.time, "sleep", waits.append)
    for n in range(7):  # batches of 3
        subscriber(f"reader{n}@example.org")
    port = smtp_server.port
    settings.EMAIL_PORT = 9  # nothing listens there
    report = run()
    assert (report.sent, report.deferred, report.failed) == (0, 3, 0)
    assert waits == [0, 0]  # only the first message waited out its retries
    rows = DigestDelivery.objects.order_by("subscriber__email")
    assert [row.attempts for row in rows] == [3, 0, 0]  # the first batch; the rest unclaimed
    assert rows[0].last_error.startswith("ConnectionRefusedError")
    assert rows[1].last_error.startswith("Not tried: the mail server was failing")
    assert Subscriber.objects.filter(permanent_failures__gt=0).count() == 0

    settings.EMAIL_PORT = port
    assert run(MONDAY + 5 * MINUTE).sent == 4  # the unclaimed ones at once
    assert run(MONDAY + 31 * MINUTE).sent == 3  # the stale claims
    assert Counter(message.rcpt_tos[0] for message in smtp_server.messages) == {
        f"reader{n}@example.org": 1 for n in range(7)
    }


def test_the_period_report_reads_a_fixed_number_of_queries(news, django_assert_max_num_queries):
    week = periods.period_last_ended(MONDAY, cadence="weekly", time_zone="UTC")
    following = periods.period_after(week, time_zone="UTC")
    with CaptureQueriesContext(connection) as few:
        small = digest_period_report(period=week, next_period=following)
    for n in range(6):
        forecast = ForecastFactory(published_at=IN_WEEK, resolve_by=dt.date(2026, 12, 2 + n))
        forecast.tags.add(news["trade"])
        ResolutionFactory(forecast=ForecastFactory(published_at=IN_WEEK), resolved_at=IN_WEEK)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = digest_period_report(period=week, next_period=following)
    assert (len(small.new), len(large.new)) == (2, 14)
    # The six are recorded this week with outcomes known at their deadlines, long before.
    assert (len(small.resolved), len(large.resolved) + len(large.recorded_late)) == (1, 7)


def test_a_confirmation_that_cannot_be_sent_is_not_recorded_as_sent_and_can_be_asked_again(
    client, news, settings, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with TestCase.captureOnCommitCallbacks() as queued:
        response = post_subscribe(client, "reader@example.org")
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    [task] = queued
    task()  # the first try and its five retries (at once here): nobody listens on port 9
    assert caplog.text.count("could not be sent") == 6
    assert "reader@example.org" not in caplog.text
    assert Subscriber.objects.get().confirmation_sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    subscribe(client, "reader@example.org")
    assert [to for to, _ in delivered()] == ["reader@example.org"]


def test_the_subscribe_task_tries_a_refused_confirmation_again(client, news, smtp_server):
    smtp_server.data_replies = [451]  # the mail server refuses once, then recovers
    subscribe(client, "reader@example.org")
    [received] = smtp_server.messages
    assert received.rcpt_tos == ["reader@example.org"]
    assert received.message["Subject"] == "Confirm your forecast digest subscription"
    assert Subscriber.objects.get().confirmation_sent_at is not None
