"""The scores page (issue 17, 7 and 8): the history table keeps the dates on which the
scores changed, the Murphy decomposition is explained beside its numbers, and the
leaderboards lead with the place and the ranking score."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from fractions import Fraction
from html import unescape

import pytest
from django.utils.html import strip_tags

from forecasts.core import services as core_services
from forecasts.models import Forecast, Outcome, ScopeKind, ScoreSnapshot
from forecasts.scores import services as score_services
from forecasts.scores.models import ForecastScore

pytestmark = pytest.mark.django_db

LOADED = dt.date(2025, 6, 2)
CHANGED = dt.date(2025, 10, 6)
TODAY = dt.date(2026, 6, 1)


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def a_year_of_history(seeded, time_machine):
    """The seed recorded on LOADED, one more outcome on CHANGED, a weekly backfill to
    TODAY: some fifty snapshots, of which the scores changed on two dates."""
    time_machine.move_to(_noon(CHANGED))
    due = Forecast.objects.published().unresolved().order_by("resolve_by", "pk").first()
    core_services.forecast_resolve(
        forecast=due, outcome=Outcome.NO, known_on=CHANGED, note="Reported."
    )
    time_machine.move_to(_noon(TODAY))
    score_services.scores_backfill(until=TODAY)
    return seeded


@pytest.fixture
def seeded(db, seed_text, time_machine):
    from forecasts.core.seed import seed_forecasts_load

    time_machine.move_to(_noon(LOADED))
    return seed_forecasts_load(text=seed_text)


def _table_rows(html: str, table_class: str) -> list[list[str]]:
    table = re.search(rf'<table class="{table_class}">(.*?)</table>', html, re.S)
    assert table, table_class
    body = table.group(1).split("<tbody>")[1]
    return [
        [
            unescape(strip_tags(cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_history_table_keeps_only_the_dates_the_scores_changed(client, a_year_of_history):
    history = list(
        ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL)
        .order_by("as_of")
        .values_list("as_of", "resolved_count", "brier", "skill_vs_coin")
    )
    assert len(history) > 40  # weekly for a year
    # Independently: a row starts each run of equal scores, and the latest is always shown.
    expected = [history[0]] + [b for a, b in itertools.pairwise(history) if a[1:] != b[1:]]
    if expected[-1] != history[-1]:
        expected.append(history[-1])
    assert [row[1] for row in expected] == [10, 11, 11]  # loaded, one more, today

    html = client.get("/scores/").content.decode()
    rows = _table_rows(html, "history")
    assert len(rows) == len(expected) == 3
    assert [row[0] for row in rows] == [f"{day.day} {day:%b %Y}" for day, *_ in expected]
    assert [int(row[1]) for row in rows] == [count for _, count, _, _ in expected]
    assert [row[2] for row in rows] == [f"{brier:.3f}" for _, _, brier, _ in expected]
    text = unescape(strip_tags(html))
    assert f"The 3 dates on which the overall scores changed, of {len(history)} snapshots" in text
    assert 'href="/api/snapshots?scope_kind=all"' in html


def _murphy_by_hand(rows: list[tuple[float, bool]]) -> tuple[Fraction, Fraction, Fraction]:
    """Reliability, resolution and uncertainty in exact fractions, grouping by probability."""
    n = len(rows)
    base = Fraction(sum(happened for _, happened in rows), n)
    groups: dict[float, list[bool]] = {}
    for probability, happened in rows:
        groups.setdefault(probability, []).append(happened)
    reliability = resolution = Fraction(0)
    for probability, outcomes in groups.items():
        frequency = Fraction(sum(outcomes), len(outcomes))
        reliability += len(outcomes) * (Fraction(probability) - frequency) ** 2
        resolution += len(outcomes) * (frequency - base) ** 2
    return reliability / n, resolution / n, base * (1 - base)


def test_the_seeds_murphy_numbers_are_right_and_explained(client, seeded, time_machine):
    """The seed's reliability 0.21 beside calibration bins all "consistent" is no bug:
    each of its probabilities was given to one or two forecasts whose outcomes agreed, so
    reliability is the Brier score itself and resolution equals uncertainty; the page
    says so."""
    score_services.scores_snapshot(as_of=LOADED)
    rows = list(ForecastScore.objects.values_list("probability", "happened"))
    assert len(rows) == 10
    reliability, resolution, uncertainty = _murphy_by_hand(rows)
    brier = sum((Fraction(p) - happened) ** 2 for p, happened in rows) / len(rows)
    assert reliability - resolution + uncertainty == brier  # exactly, in fractions
    overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=LOADED)
    assert overall.murphy["reliability"] == pytest.approx(float(reliability), abs=1e-12)
    assert overall.murphy["resolution"] == pytest.approx(float(resolution), abs=1e-12)
    assert overall.murphy["uncertainty"] == pytest.approx(float(uncertainty), abs=1e-12)
    assert float(reliability) == pytest.approx(0.21) == pytest.approx(overall.brier)
    assert resolution == uncertainty == Fraction(6, 25)
    # And every non-empty calibration bin's 95 % interval does hold its mean probability:
    # both are true at once because the bins hold one to three forecasts each.
    filled = [b for b in overall.calibration if b["count"]]
    assert all(b["interval_low"] <= b["mean_probability"] <= b["interval_high"] for b in filled)
    assert max(b["count"] for b in filled) <= 3

    text = unescape(strip_tags(client.get("/scores/").content.decode()))
    text = " ".join(text.split())
    assert "reliability 0.2100 − resolution 0.2400 + uncertainty 0.2400 = Brier 0.2100" in text
    groups = len({p for p, _ in rows})
    assert f"The 10 resolved forecasts gave {groups} different probabilities" in text
    assert "so reliability equals the Brier score and resolution equals uncertainty" in text


def test_a_ranked_board_leads_with_place_and_ranking_score_then_the_name(client, seeded):
    score_services.scores_snapshot(as_of=LOADED)
    overall_board = ScoreSnapshot.objects.get(scope_kind=ScopeKind.FORECASTER, as_of=LOADED)
    for url in ("/", "/scores/", "/leaderboards/forecasters/"):
        html = client.get(url).content.decode()
        table = re.search(r'<table class="scores ranked">(.*?)</table>', html, re.S).group(1)
        head = [
            unescape(strip_tags(cell)).strip()
            for cell in re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table, re.S)
        ]
        assert head[:4] == ["#", "Ranking score", "Forecaster", "Resolved"], url
        first = _table_rows(f'<table class="scores ranked">{table}</table>', "scores ranked")[0]
        assert first[0] == "1", url
        assert first[1] == f"{overall_board.shrunk_brier:.3f}", url
        assert first[2] == "Unnamed analyst (seed article)", url
        assert first[3] == str(overall_board.resolved_count), url
        # The name is the header kept in view on a phone (site.css).
        assert '<th scope="col" class="name">Forecaster</th>' in table


def test_the_scores_pages_column_headings_sort_its_boards(client, seeded):
    score_services.scores_snapshot(as_of=LOADED)
    html = client.get("/scores/").content.decode()
    assert 'href="?sort=resolved"' in html
    assert client.get("/scores/?sort=resolved").status_code == 200
    refused = client.get("/scores/?sort=sideways")
    assert refused.status_code == 400
    assert "Unknown sort 'sideways'" in unescape(refused.content.decode())
