"""Honest leaderboards: nobody with fewer than LEADERBOARD_MIN_RESOLVED resolved forecasts
is ranked, on any board the pages, the API or the digests show.

The counter-example that made the old sentence false: one 80 % forecast that came true
has a ranking score (shrunk Brier) of 0.215, ahead of an analyst with ten resolved
forecasts at 0.223.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from forecasts.models import ScopeKind, ScoreSnapshot
from forecasts.scores import boards, ranking
from forecasts.scores import services as score_services
from forecasts.scores.additive import SHRINK_PSEUDOCOUNT
from forecasts.scores.selectors import scores_latest
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)
NOON = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
KNOWN = dt.date(2026, 6, 1)


def _resolved(forecaster, probability, outcome, tag):
    forecast = ForecastFactory(
        forecaster=forecaster, estimate=None, made_on=dt.date(2026, 1, 5), resolve_by=KNOWN
    )
    # Recorded on time: the estimate the day it was made, the outcome the day after it
    # became known (snapshots count what was on record by their date).
    EstimateFactory(
        forecast=forecast,
        probability=probability,
        created_at=dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC),
    )
    forecast.tags.add(tag)
    ResolutionFactory(
        forecast=forecast,
        outcome=outcome,
        known_on=KNOWN,
        resolved_at=dt.datetime(2026, 6, 2, 12, tzinfo=dt.UTC),
    )


@pytest.fixture
def counter_example(time_machine):
    """Lucky: one 80 % forecast that came true. Analyst: ten at 70 %, seven came true.

    Written on TODAY: the live scores keep the snapshot of the day they change."""
    time_machine.move_to(NOON, tick=False)
    tag = TagFactory(name="Politics", slug="politics")
    lucky = ForecasterFactory(name="Lucky Once", slug="lucky")
    analyst = ForecasterFactory(name="Steady Analyst", slug="analyst")
    _resolved(lucky, 0.8, "YES", tag)
    for outcome in ["YES"] * 7 + ["NO"] * 3:
        _resolved(analyst, 0.7, outcome, tag)
    score_services.scores_snapshot(as_of=TODAY)
    return {"lucky": lucky, "analyst": analyst, "tag": tag}


def _snapshot(forecaster):
    return ScoreSnapshot.objects.get(
        scope_kind=ScopeKind.FORECASTER, scope_id=forecaster.pk, as_of=TODAY
    )


def _names(table):
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', table)


def _tables(html, caption):
    """The ranked names and the too-few-to-rank rows (name, n) of a board."""
    ranked = html[html.index(f"<caption>{caption}") :].split("</table>")[0]
    start = html.find(f"<caption>Too few to rank: {caption.lower()} ")
    too_few = html[start:].split("</table>")[0] if start >= 0 else ""
    rows = re.findall(
        r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>\s*<td class="num">(\d+)</td>', too_few
    )
    return _names(ranked), [(name, int(n)) for name, n in rows]


def test_the_ranking_score_alone_puts_the_lucky_forecast_first(counter_example):
    """Why a minimum is needed: shrinkage by itself does not keep luck off the top."""
    lucky, analyst = _snapshot(counter_example["lucky"]), _snapshot(counter_example["analyst"])
    assert SHRINK_PSEUDOCOUNT == 5
    assert (lucky.resolved_count, analyst.resolved_count) == (1, 10)
    assert lucky.shrunk_brier == pytest.approx((0.04 + 5 * 0.25) / 6)  # 0.215
    assert analyst.shrunk_brier == pytest.approx((7 * 0.09 + 3 * 0.49 + 5 * 0.25) / 15)
    assert f"{lucky.shrunk_brier:.3f}" == "0.215"
    assert f"{analyst.shrunk_brier:.3f}" == "0.223"
    assert lucky.shrunk_brier < analyst.shrunk_brier


@time_machine.travel(NOON, tick=False)
@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/", {}),
        ("/", {"tag": "politics"}),  # a filtered board is scored afresh
        ("/", {"period": "12m", "sort": "brier"}),
        ("/leaderboards/forecasters/", {}),
        ("/leaderboards/forecasters/", {"sort": "skill"}),
        ("/scores/", {}),
    ],
)
def test_the_analyst_is_ranked_and_the_lucky_one_is_too_few_to_rank(
    client, counter_example, url, params
):
    html = client.get(url, params).content.decode()
    assert _tables(html, "Forecasters") == (["Steady Analyst"], [("Lucky Once", 1)])
    assert "Only those with at least 5 resolved forecasts" in html
    assert "so one lucky forecast cannot top a table" in html
    assert "as if 5 more forecasts at 50 % had been made" in html


@time_machine.travel(NOON, tick=False)
def test_the_tags_board_applies_the_same_minimum(
    client, counter_example, django_capture_on_commit_callbacks
):
    html = client.get(reverse("forecasts:leaderboard", args=["tags"])).content.decode()
    assert _tables(html, "Tags") == (["Politics"], [])  # eleven resolved forecasts
    only_lucky = TagFactory(name="Luck", slug="luck")
    _resolved(counter_example["lucky"], 0.9, "YES", only_lucky)
    with django_capture_on_commit_callbacks(execute=True):  # the cached page is replaced
        score_services.scores_snapshot(as_of=TODAY)
    html = client.get(reverse("forecasts:leaderboard", args=["tags"])).content.decode()
    assert _tables(html, "Tags") == (["Politics"], [("Luck", 1)])


@time_machine.travel(NOON, tick=False)
def test_with_nobody_ranked_the_board_says_so_and_lists_everyone_as_too_few(client, db):
    tag = TagFactory(slug="politics")
    _resolved(ForecasterFactory(name="Lucky Once"), 0.8, "YES", tag)
    score_services.scores_snapshot(as_of=TODAY)
    html = client.get("/").content.decode()
    assert _tables(html, "Forecasters") == ([], [("Lucky Once", 1)])
    assert "None has at least 5 resolved forecasts, so none is ranked." in html


def test_the_board_puts_the_too_few_after_the_ranked_most_resolved_first(counter_example):
    tag = counter_example["tag"]
    four = ForecasterFactory(name="Four Times")
    for _ in range(4):
        _resolved(four, 0.5, "NO", tag)
    score_services.scores_snapshot(as_of=TODAY)
    for filters in (None, boards.board_filters(tag="politics", period=None, today=TODAY)):
        board = boards.leaderboard(ScopeKind.FORECASTER, filters=filters, today=TODAY)
        assert [(row.name, row.ranked) for row in board.rows] == [
            ("Steady Analyst", True),
            ("Four Times", False),
            ("Lucky Once", False),
        ]
        assert (board.total, board.ranked_total, board.too_few_total) == (3, 1, 2)
        # Paged: the second row alone, and the count of the whole board.
        page = boards.leaderboard(
            ScopeKind.FORECASTER, filters=filters, today=TODAY, limit=1, offset=1
        )
        assert [row.name for row in page.rows] == ["Four Times"]
        assert (page.total, page.ranked_total) == (3, 1)


def test_the_minimum_is_a_setting(counter_example, settings):
    settings.LEADERBOARD_MIN_RESOLVED = 11
    board = boards.leaderboard(ScopeKind.FORECASTER)
    assert [row.ranked for row in board.rows] == [False, False]
    settings.LEADERBOARD_MIN_RESOLVED = 2  # the least it may be: one forecast never ranks
    board = boards.leaderboard(ScopeKind.FORECASTER)
    assert [(row.name, row.ranked) for row in board.rows] == [
        ("Steady Analyst", True),
        ("Lucky Once", False),
    ]


def test_the_api_says_who_is_ranked_and_where(client, counter_example):
    body = client.get("/api/scores", {"kind": "forecaster"}).json()
    found = [(i["name"], i["ranked"], i["rank"], i["resolved_count"]) for i in body["items"]]
    assert found == [("Steady Analyst", True, 1, 10), ("Lucky Once", False, None, 1)]
    # Every item still carries the fields it always had.
    assert body["items"][1]["shrunk_brier"] == pytest.approx(0.215)
    everything = client.get("/api/scores", {"kind": "all"}).json()["items"][0]
    assert (everything["ranked"], everything["rank"]) == (False, None)


def test_equal_ranking_scores_share_a_rank(counter_example):
    twin = ForecasterFactory(name="Analyst Twin")
    for outcome in ["YES"] * 7 + ["NO"] * 3:
        _resolved(twin, 0.7, outcome, counter_example["tag"])
    score_services.scores_snapshot(as_of=TODAY)
    items = scores_latest(kind=ScopeKind.FORECASTER).items
    assert [(i.scope.name, i.rank) for i in items] == [
        ("Analyst Twin", 1),
        ("Steady Analyst", 1),
        ("Lucky Once", None),
    ]
    assert ranking.competition_ranks([0.1, 0.2, 0.2, 0.3]) == [1, 2, 2, 4]
    with pytest.raises(ValueError, match="sorted"):
        ranking.competition_ranks([0.2, 0.1])


@time_machine.travel(NOON, tick=False)
def test_a_scope_page_says_when_it_has_too_few_to_rank(client, counter_example):
    lucky = client.get(reverse("forecasts:forecaster", args=["lucky"])).content.decode()
    assert "too few to rank: leaderboards rank only those with at least 5" in lucky
    assert "ranking score" not in lucky
    analyst = client.get(reverse("forecasts:forecaster", args=["analyst"])).content.decode()
    assert "ranking score 0.223" in analyst
