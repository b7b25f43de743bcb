"""Leaderboards: top rows on the scorecard, full paged boards, tag and period filters."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from forecasts.core import services as core_services
from forecasts.models import Forecaster
from forecasts.scores import boards
from forecasts.scores import services as score_services
from forecasts.web.views import TOP_ROWS
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)


def _resolved(forecaster, probability, outcome, known_on, tags=()):
    forecast = ForecastFactory(
        forecaster=forecaster,
        estimate=None,
        made_on=known_on - dt.timedelta(days=30),
        resolve_by=known_on,
    )
    EstimateFactory(forecast=forecast, probability=probability)
    forecast.tags.set(tags)
    ResolutionFactory(forecast=forecast, outcome=outcome, known_on=known_on)
    return forecast


def _board_names(html, caption):
    """The ranked rows of the board captioned ``caption``."""
    table = html[html.index(f"<caption>{caption}") :].split("</table>")[0]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', table)


def _too_few_names(html, caption):
    """The rows listed as too few to rank under the board captioned ``caption``."""
    start = html.find(f"<caption>Too few to rank: {caption.lower()} ")
    if start < 0:
        return []
    table = html[start:].split("</table>")[0]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', table)


@pytest.fixture
def many_forecasters(time_machine):
    """TOP_ROWS + 5 forecasters; forecaster i said 0.9 on i+1 events that happened,
    recorded on TODAY (a snapshot as of TODAY counts what was recorded by then)."""
    time_machine.move_to(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    people = []
    for i in range(TOP_ROWS + 5):
        person = ForecasterFactory(name=f"Pundit {i:02d}", slug=f"pundit-{i:02d}")
        for _ in range(i + 1):
            _resolved(person, 0.9, "YES", dt.date(2024, 6, 1))
        people.append(person)
    score_services.scores_snapshot(as_of=TODAY)
    return people


@time_machine.travel(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC), tick=False)
def test_scorecard_shows_the_top_rows_and_links_to_the_full_board(client, many_forecasters):
    html = client.get("/").content.decode()
    names = _board_names(html, "Forecasters")
    assert len(names) == TOP_ROWS
    # Same Brier (0.01) for everyone: more forecasts shrink less, so rank by count.
    assert names[0] == "Pundit 14"
    assert names[-1] == f"Pundit {14 - TOP_ROWS + 1:02d}"
    full = reverse("forecasts:leaderboard", args=["forecasters"])
    assert f'href="{full}?">All {TOP_ROWS + 5} forecasters</a>' in html


@time_machine.travel(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC), tick=False)
def test_full_board_pages(client, many_forecasters, settings, monkeypatch):
    monkeypatch.setattr("forecasts.web.views.PAGE_SIZE", 10)
    url = reverse("forecasts:leaderboard", args=["forecasters"])
    first = client.get(url, {"sort": "resolved"}).content.decode()
    second = client.get(url, {"sort": "resolved", "page": 2}).content.decode()
    assert len(_board_names(first, "Forecasters")) == 10
    # Pundits 00-03 have fewer than 5 resolved forecasts: listed after the ranked.
    assert _board_names(second, "Forecasters") == ["Pundit 04"]
    assert _too_few_names(second, "Forecasters") == [f"Pundit {i:02d}" for i in range(3, -1, -1)]
    assert "Page 2 of 2" in second
    assert 'href="?sort=resolved&amp;page=1"' in second
    response = client.get(url, {"page": 3})
    assert response.status_code == 400
    assert "past the last page" in response.content.decode()


@time_machine.travel(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC), tick=False)
def test_tag_filter_scores_only_the_tagged_forecasts(client, db, settings):
    settings.LEADERBOARD_MIN_RESOLVED = 2  # two forecasts make a ranked record here
    economy, sport = TagFactory(name="Economy", slug="economy"), TagFactory(slug="sport")
    alice = ForecasterFactory(name="Alice", slug="alice")
    bob = ForecasterFactory(name="Bob", slug="bob")
    # Alice is right on the economy and wrong on sport; Bob the other way round.
    _resolved(alice, 0.8, "YES", dt.date(2025, 3, 1), [economy])
    _resolved(alice, 0.6, "NO", dt.date(2025, 3, 1), [economy])
    _resolved(alice, 0.9, "NO", dt.date(2025, 3, 1), [sport])
    _resolved(bob, 0.3, "YES", dt.date(2025, 3, 1), [economy])
    _resolved(bob, 0.1, "NO", dt.date(2025, 3, 1), [sport])
    score_services.scores_snapshot(as_of=TODAY)

    html = client.get("/", {"tag": "economy", "sort": "brier"}).content.decode()
    # Bob has one economy forecast: too few to rank on the economy board.
    assert _board_names(html, "Forecasters") == ["Alice"]
    assert _too_few_names(html, "Forecasters") == ["Bob"]
    table = html[html.index("<caption>Forecasters") :].split("</table>")[0]
    alice_brier = ((0.8 - 1) ** 2 + (0.6 - 0) ** 2) / 2  # 0.2
    bob_brier = (0.3 - 1) ** 2  # 0.49
    assert f'<td class="num">{alice_brier:.3f}</td>' in table
    too_few = html[html.index("<caption>Too few to rank: forecasters") :].split("</table>")[0]
    assert f'<td class="num">{bob_brier:.3f}</td>' in too_few
    assert "tagged “Economy”" in html
    # Unfiltered, Bob's sport forecast lifts him above Alice.
    everything = client.get("/", {"sort": "brier"}).content.decode()
    assert _board_names(everything, "Forecasters") == ["Bob", "Alice"]


@time_machine.travel(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC), tick=False)
def test_period_filter_keeps_outcomes_known_in_it(client, db):
    carol = ForecasterFactory(name="Carol", slug="carol")
    dave = ForecasterFactory(name="Dave", slug="dave")
    _resolved(carol, 0.9, "YES", dt.date(2020, 5, 1))
    _resolved(dave, 0.9, "YES", dt.date(2026, 5, 1))
    score_services.scores_snapshot(as_of=TODAY)
    # One forecast each: listed, too few to rank.
    html = client.get("/", {"period": "2020"}).content.decode()
    assert _too_few_names(html, "Forecasters") == ["Carol"]
    html = client.get("/", {"period": "12m"}).content.decode()
    assert _too_few_names(html, "Forecasters") == ["Dave"]
    assert _board_names(html, "Forecasters") == []
    nobody = "None has at least 5 resolved forecasts that match these filters, so none is ranked."
    assert nobody in html
    html = client.get("/", {"period": "2019"}).content.decode()
    assert "No resolved forecasts match these filters." in html
    # The period menu offers the years that have outcomes.
    assert '<option value="2020">2020</option>' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tag": "no-such-tag"}, "There is no tag"),
        ({"period": "last-week"}, "Unknown period"),
        ({"period": "1066"}, "Unknown period"),
        ({"period": "99999999999999999999"}, "Unknown period"),
        ({"sort": "name"}, "Unknown sort"),
        ({"page": "0"}, "Page must be a whole number"),
        ({"page": "x"}, "Page must be a whole number"),
    ],
)
def test_bad_parameters_are_400_with_a_message(client, time_machine, params, message):
    time_machine.move_to(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    for name in ("Ann", "Bob"):  # boards with rows (a 400 is not an empty board's)
        _resolved(ForecasterFactory(name=name), 0.7, "YES", dt.date(2024, 6, 1))
    score_services.scores_snapshot(as_of=TODAY)
    for url in ("/", reverse("forecasts:leaderboard", args=["sources"])):
        if "page" in params and url == "/":
            continue
        response = client.get(url, params)
        assert response.status_code == 400, (url, params)
        assert message in response.content.decode()


def test_unknown_board_is_404(client, db):
    assert client.get(reverse("forecasts:leaderboard", args=["people"])).status_code == 404


@pytest.mark.parametrize("forecasters", [3, 30])
def test_boards_run_a_bounded_number_of_queries(
    client, db, django_assert_max_num_queries, forecasters
):
    tag = TagFactory(slug="economy")
    for i in range(forecasters):
        person = ForecasterFactory()
        _resolved(person, 0.7, "YES" if i % 2 else "NO", dt.date(2025, 1, 1), [tag])
    score_services.scores_snapshot(as_of=dt.date(2025, 6, 1))
    score_services.scores_snapshot(as_of=TODAY)
    board = reverse("forecasts:leaderboard", args=["forecasters"])
    for url, params in [
        ("/", {}),
        ("/", {"tag": "economy", "period": "2025"}),
        (board, {}),
        (board, {"tag": "economy"}),
        (reverse("forecasts:scores"), {}),
    ]:
        with django_assert_max_num_queries(20):
            assert client.get(url, params).status_code == 200


def test_forecaster_page_is_paged(client, db):
    person = ForecasterFactory(name="Prolific", slug="prolific")
    for i in range(55):
        ForecastFactory(forecaster=person, statement=f"Numbered event {i:02d}.")
    url = reverse("forecasts:forecaster", args=["prolific"])
    first = client.get(url).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert "55 published forecasts; page 1 of 2" in first
    assert first.count("Numbered event") == 50
    assert second.count("Numbered event") == 5
    assert client.get(url, {"page": 3}).status_code == 400
    assert Forecaster.objects.filter(slug="prolific").exists()


@time_machine.travel(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC), tick=False)
def test_status_counts_agree_with_each_forecasts_status(db):
    from django.db.models import Count
    from django.utils import timezone

    from forecasts.core.selectors import forecast_status_counts
    from forecasts.models import Forecast

    ForecastFactory(published_at=None)  # draft
    ForecastFactory(resolve_by=dt.date(2027, 1, 1))  # open
    ForecastFactory(resolve_by=dt.date(2026, 11, 28))  # open: due tomorrow
    ForecastFactory(resolve_by=dt.date(2026, 11, 27))  # due
    ResolutionFactory(outcome="NO")  # resolved
    ResolutionFactory(outcome="ANNULLED")  # annulled
    corrected = ResolutionFactory(outcome="YES")
    core_services.forecast_resolve(  # a correction supersedes; resolutions are never updated
        forecast=corrected.forecast,
        outcome="NO",
        known_on=corrected.known_on,
        note="Misread.",
        correction_reason="Misread.",
    )
    now = timezone.now()
    expected = dict.fromkeys(("draft", "open", "due", "resolved", "annulled"), 0)
    rows = Forecast.objects.with_status(at=now).values("status").annotate(n=Count("pk"))
    expected.update({row["status"]: row["n"] for row in rows})
    assert forecast_status_counts(at=now) == expected
    assert expected == {"draft": 1, "open": 2, "due": 1, "resolved": 2, "annulled": 1}


@pytest.mark.parametrize(
    ("today", "first_day", "days"),
    [
        (dt.date(2024, 2, 29), dt.date(2023, 3, 1), 366),  # ends on a 29 February
        (dt.date(2024, 3, 1), dt.date(2023, 3, 2), 366),  # holds 29 February 2024
        (dt.date(2025, 3, 1), dt.date(2024, 3, 2), 365),  # 29 February 2024 just left
        (dt.date(2025, 2, 28), dt.date(2024, 2, 29), 366),  # starts on a 29 February
        (dt.date(2026, 11, 28), dt.date(2025, 11, 29), 365),
        (dt.date(2026, 1, 1), dt.date(2025, 1, 2), 365),
    ],
)
def test_the_last_twelve_months_are_365_or_366_days_ending_today(today, first_day, days):
    start, end = boards.last_twelve_months(today)
    assert (start, end) == (first_day, today)
    assert (end - start).days + 1 == days
    leap_day_inside = any(
        (start + dt.timedelta(days=n)).timetuple()[1:3] == (2, 29) for n in range(days)
    )
    assert days == (366 if leap_day_inside else 365)


def test_the_12m_filter_keeps_outcomes_known_from_its_first_day_through_today(db):
    today = dt.date(2025, 3, 1)
    filters = boards.board_filters(tag=None, period="12m", today=today)
    assert (filters.known_from, filters.known_until) == boards.last_twelve_months(today)
    edge, outside = ForecasterFactory(name="Edge"), ForecasterFactory(name="Outside")
    _resolved(edge, 0.9, "YES", dt.date(2024, 3, 2))
    _resolved(edge, 0.9, "YES", today)
    _resolved(outside, 0.9, "YES", dt.date(2024, 3, 1))  # a year ago to the day: out
    scored = boards.filtered_snapshots(filters, today=today)
    counts = {s.scope_id: s.resolved_count for s in scored if s.scope_kind == "forecaster"}
    assert counts == {edge.pk: 2}
