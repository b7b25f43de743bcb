"""Markup stored in every text field is escaped wherever it is shown: the public pages,
the feeds, the reviewers' pages and the e-mails (whose headers it cannot reach either).

Editors type these fields, extraction copies them from articles: a statement
that says ``<script>`` is text to show, never markup to run.
"""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from forecasts.core import services as core_services
from forecasts.digests import sending as digest_services
from forecasts.models import (
    EARLIEST_DATE,
    LATEST_DATE,
    ReviewerAssignment,
    Subscriber,
    SubscriberStatus,
)
from forecasts.reviews import links
from forecasts.reviews import services as review_services
from forecasts.scores import services as score_services
from tests.bad_input import MARKUP_URL, SCRIPTS, assert_clean_headers, assert_not_echoed_raw
from tests.factories import (
    ForecasterFactory,
    ForecastFactory,
    SourceFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)  # a Monday: last week's digest is due
SITE = "https://forecasts.example.org"
INJECTION = "\r\nBcc: evil@x.org\r\n"


@pytest.fixture(autouse=True)
def setup(settings, time_machine):
    time_machine.move_to(NOW, tick=False)
    settings.SITE_URL = SITE
    settings.TIME_ZONE = "UTC"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(params=SCRIPTS[:3])
def payload(request):
    return request.param


@pytest.fixture
def stage(payload, time_machine):
    """A forecast with markup in every text field: resolved, and one due, extended once."""
    text = f"Intro. {payload} It is likely that {payload} happens. End."
    source = SourceFactory(
        title=payload, publisher=payload, author=payload, text=text, key="marked-up"
    )
    forecaster = ForecasterFactory(name=payload + INJECTION.strip(), description=payload)
    tag = TagFactory(name=payload[:80])
    reviewer = UserFactory(username="rita", first_name=payload, email="rita@example.org")
    common = {
        "source": source,
        "forecaster": forecaster,
        "quote": f"It is likely that {payload} happens.",
        "resolution_criteria": payload,
        "condition": payload,
        "resolve_by_note": payload,
        "made_on": dt.date(2024, 1, 10),
    }
    resolved = ForecastFactory(
        statement=payload + INJECTION, resolve_by=dt.date(2024, 12, 31), **common
    )
    due = ForecastFactory(statement=payload + " due", resolve_by=dt.date(2025, 1, 31), **common)
    for forecast in (resolved, due):
        forecast.tags.set([tag])
        ReviewerAssignment.objects.create(forecast=forecast, reviewer=reviewer)
        forecast.quote_start = text.index(forecast.quote)
        forecast.quote_end = forecast.quote_start + len(forecast.quote)
        forecast.save()
    # Recorded on 1 June 2024: an estimate is dated the day it is recorded.
    time_machine.move_to(dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC), tick=False)
    core_services.estimate_record(forecast=resolved, probability=0.4, note=payload)
    time_machine.move_to(NOW, tick=False)
    core_services.forecast_resolve(
        forecast=resolved,
        outcome="YES",
        known_on=dt.date(2025, 1, 5),
        evidence_url=MARKUP_URL,
        note=payload,
        resolved_by=reviewer,
    )
    core_services.forecast_extend(
        forecast=due, new_resolve_by=dt.date(2025, 2, 20), reason=payload, extended_by=reviewer
    )
    score_services.scores_snapshot(as_of=NOW.date())  # the scorecard and leaderboards name them
    return {"resolved": resolved, "due": due, "reviewer": reviewer, "tag": tag}


def test_public_pages_and_feeds_escape_it(client, stage, payload):
    resolved, due, tag = stage["resolved"], stage["due"], stage["tag"]
    pages = [
        resolved.get_absolute_url(),
        due.get_absolute_url(),
        reverse("forecasts:list"),
        reverse("forecasts:list") + "?status=resolved",
        reverse("forecasts:home"),
        reverse("forecasts:scores"),
        reverse("forecasts:forecaster", args=[resolved.forecaster.slug]),
        reverse("forecasts:source", args=[resolved.source.key]),
        reverse("forecasts:tag", args=[tag.slug]),
        reverse("forecasts:leaderboard", args=["forecasters"]),
        reverse("feed-forecasts"),
        reverse("feed-resolutions"),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert_not_echoed_raw(html, payload, MARKUP_URL)
        assert escape(payload) in html or page.endswith(".atom"), page  # shown, as text
    detail = client.get(resolved.get_absolute_url()).content.decode()
    assert 'href="javascript:' not in detail


def test_reviewer_pages_escape_it(client, stage, payload):
    due, reviewer = stage["due"], stage["reviewer"]
    client.force_login(reviewer)
    for page in (
        reverse("forecasts:review-queue"),
        reverse("forecasts:review-forecast", args=[due.slug]),
        links.review_url(reviewer=reviewer, forecast=due, action="yes").removeprefix(SITE),
        links.review_url(reviewer=reviewer, forecast=due, action="extend").removeprefix(SITE),
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert_not_echoed_raw(response.content.decode(), payload)


def test_review_prompts_escape_it_and_keep_their_headers(stage, payload):
    review_services.reviews_prompt_due(now=NOW)
    assert mail.outbox
    for message in mail.outbox:
        assert "\n" not in str(message.subject)
        [(html, _)] = message.alternatives
        assert escape(payload) in str(html)  # shown, as text
        assert_not_echoed_raw(str(html), payload)
        assert_clean_headers(message, to=list(message.to))
        assert message.to
        assert not any("evil" in address for address in message.to)


def test_digests_escape_it_and_keep_their_headers(stage, payload, time_machine):
    time_machine.move_to(NOW - dt.timedelta(days=4), tick=False)  # during last week
    Subscriber.objects.create(
        email="sam@example.org",
        status=SubscriberStatus.CONFIRMED,
        confirmed_at=NOW - dt.timedelta(days=60),
    )
    core_services.forecast_resolve(
        forecast=stage["due"],
        outcome="NO",
        known_on=dt.date(2025, 2, 26),
        note=payload,
        resolved_by=stage["reviewer"],
    )
    time_machine.move_to(NOW, tick=False)
    digest_services.digests_send(now=NOW)
    [message] = [m for m in mail.outbox if m.to == ["sam@example.org"]]
    assert_clean_headers(message, to=["sam@example.org"])
    assert "\n" not in str(message.subject)
    [(html, _)] = message.alternatives
    assert escape(payload) in str(html)  # shown, as text
    assert_not_echoed_raw(str(html), payload)


@pytest.mark.parametrize(
    ("made_on", "resolve_by"),
    [(EARLIEST_DATE, LATEST_DATE), (EARLIEST_DATE, EARLIEST_DATE), (LATEST_DATE, LATEST_DATE)],
)
def test_the_extreme_dates_allowed_still_render(client, made_on, resolve_by):
    # The range exists because 9999-12-31 broke the chart and the review page.
    forecast = ForecastFactory(made_on=made_on, resolve_by=resolve_by)
    reviewer = UserFactory(username="rex")
    ReviewerAssignment.objects.create(forecast=forecast, reviewer=reviewer)
    client.force_login(reviewer)
    assert client.get(forecast.get_absolute_url()).status_code == 200
    review = reverse("forecasts:review-forecast", args=[forecast.slug])
    assert client.get(review).status_code == 200
