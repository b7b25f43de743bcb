"""A digest reports what became known in its period, says when each outcome became known
and opens with a summary line; outcomes recorded in the period but known long before (a
fresh install's historical seed) are listed apart with their dates, never as the period's
news (issue 17, 11). Delivered over SMTP and read back."""

from __future__ import annotations

import datetime as dt

import pytest

from forecasts.digests import sending as digest_services
from forecasts.models import (
    Forecast,
    Resolution,
    ScopeKind,
    ScoreSnapshot,
    Subscriber,
    SubscriberStatus,
)
from forecasts.scores import services as score_services
from tests.factories import ForecasterFactory, ForecastFactory, ResolutionFactory, TagFactory

pytestmark = pytest.mark.django_db

SITE = "https://forecasts.example.org"
UTC = dt.UTC
# Monday 30 November 2026: the week 23–29 November has just ended (TIME_ZONE=UTC).
MONDAY = dt.datetime(2026, 11, 30, 6, 15, tzinfo=UTC)
WEEK_START = dt.datetime(2026, 11, 23, tzinfo=UTC)
IN_WEEK = dt.datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def digest_settings(settings):
    settings.TIME_ZONE = "UTC"
    settings.SITE_URL = SITE
    settings.DEFAULT_FROM_EMAIL = "Forecast tracker <forecasts@example.org>"
    settings.DIGEST_SECTION_LIMIT = 20


def subscriber(email, *, tags=(), forecasters=()):
    row = Subscriber.objects.create(
        email=email,
        cadence="weekly",
        status=SubscriberStatus.CONFIRMED,
        confirmed_at=WEEK_START - 30 * DAY,
    )
    row.tags.set(tags)
    row.forecasters.set(forecasters)
    return row


def _first_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()][:2]


def test_a_fresh_installs_first_digest_lists_the_seeds_old_outcomes_apart_with_their_dates(
    smtp_server, seed_text, time_machine
):
    from forecasts.core.seed import seed_forecasts_load

    time_machine.move_to(IN_WEEK, tick=False)
    seed_forecasts_load(text=seed_text)
    score_services.scores_snapshot(as_of=IN_WEEK.date())
    subscriber("reader@example.org")
    time_machine.move_to(MONDAY, tick=False)
    assert digest_services.digests_send(now=MONDAY).sent == 1

    [received] = smtp_server.messages
    text, html = received.part("text/plain"), received.part("text/html")
    recorded = Resolution.objects.filter(is_current=True).order_by("known_on", "forecast__slug")
    assert recorded.count() == 10
    assert all(r.known_on.year < 2022 for r in recorded)  # all long before the week
    due = Forecast.objects.published().filter(
        resolve_by__gte=dt.date(2026, 11, 23), resolve_by__lte=dt.date(2026, 11, 29)
    )
    overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL)
    summary = (
        f"This week: 0 outcomes became known, {due.count()} forecasts reached their deadline, "
        "0 new forecasts, 10 older outcomes newly recorded. "
        f"Brier {overall.brier:.3f} over all 10 resolved forecasts."
    )
    assert _first_lines(text) == ["Your weekly forecast digest: week of 23 Nov 2026", summary]
    assert summary in html
    assert "RESOLVED (" not in text  # none of them is this week's news
    assert ">Resolved (" not in html
    assert "OLDER OUTCOMES NEWLY RECORDED (10)" in text
    assert "Known before 16 Nov 2026 and added to the record this week" in text
    section = text[text.index("OLDER OUTCOMES") :]
    for resolution in recorded:
        line = f"· outcome {resolution.outcome}, known {resolution.known_on:%-d %b %Y}"
        assert line in section
        assert (
            line.replace("outcome ", "outcome <strong>").replace(
                f"{resolution.outcome},", f"{resolution.outcome}</strong>,"
            )
            in html
        )
    # Oldest first.
    dates = [
        dt.datetime.strptime(part.split("known ")[1].strip(), "%d %b %Y").date()
        for part in section.splitlines()
        if "known " in part and "Known before" not in part
    ]
    assert dates == sorted(dates) == [r.known_on for r in recorded]


def test_what_became_known_this_week_or_last_is_news_and_older_is_apart(smtp_server, time_machine):
    korea, trade = TagFactory(name="Korea", slug="korea"), TagFactory(name="Trade", slug="trade")
    ann = ForecasterFactory(name="Ann Analyst", slug="ann")
    pete = ForecasterFactory(name="Pete Pundit", slug="pete")
    cases = [
        # statement, forecaster, tag, known on, outcome
        ("Known this week.", ann, korea, dt.date(2026, 11, 24), "YES"),
        ("Known the week before, recorded this week.", pete, trade, dt.date(2026, 11, 18), "NO"),
        ("Known in the spring, recorded this week.", ann, trade, dt.date(2026, 4, 2), "NO"),
    ]
    for statement, forecaster, tag, known_on, outcome in cases:
        forecast = ForecastFactory(
            statement=statement,
            forecaster=forecaster,
            resolve_by=known_on,
            made_on=dt.date(2026, 1, 5),
            published_at=WEEK_START - 300 * DAY,
        )
        forecast.tags.add(tag)
        ResolutionFactory(
            forecast=forecast, outcome=outcome, known_on=known_on, resolved_at=IN_WEEK
        )
    falls_due = ForecastFactory(
        statement="Falls due this week.",
        forecaster=pete,
        resolve_by=dt.date(2026, 11, 27),
        published_at=WEEK_START - 30 * DAY,
    )
    falls_due.tags.add(korea)
    subscriber("all@example.org")
    subscriber("trade@example.org", tags=[trade])
    time_machine.move_to(MONDAY, tick=False)
    assert digest_services.digests_send(now=MONDAY).sent == 2

    received = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    text = received["all@example.org"].part("text/plain")
    assert _first_lines(text)[1] == (
        # "Known this week." reached its deadline in the week too, as "Falls due" did.
        "This week: 2 outcomes became known, 2 forecasts reached their deadline, "
        "0 new forecasts, 1 older outcome newly recorded."
    )
    news = text[text.index("RESOLVED (2)") : text.index("OLDER OUTCOMES NEWLY RECORDED (1)")]
    assert "Known this week." in news
    assert "outcome YES, known 24 Nov 2026" in news
    assert "Known the week before, recorded this week." in news
    assert "outcome NO, known 18 Nov 2026" in news
    older = text[text.index("OLDER OUTCOMES NEWLY RECORDED (1)") :]
    assert "Known in the spring, recorded this week." in older
    assert "outcome NO, known 2 Apr 2026" in older
    assert "Known in the spring" not in news

    # A subscriber's filters narrow every part, the summary's counts included.
    trade_text = received["trade@example.org"].part("text/plain")
    lines = [line for line in trade_text.splitlines() if line.strip()]
    assert lines[1] == "(Only the topics and forecasters you follow.)"
    assert lines[2] == (
        "This week: 1 outcome became known, 0 forecasts reached their deadline, "
        "0 new forecasts, 1 older outcome newly recorded."
    )
    assert "Known this week." not in trade_text
    assert "Known the week before" in trade_text
    assert "Known in the spring" in trade_text
