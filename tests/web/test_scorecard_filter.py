"""A scorecard filter changes the headline, both charts, the leaderboards and the phrase
table, and the page says what it is filtered by (issue 17, 6). Every number is checked
against a computation straight from the forecasts, their first estimates and outcomes."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from html import unescape

import pytest
from django.utils.html import strip_tags

from forecasts.models import Forecast
from forecasts.scores import services as score_services
from forecasts.scores.maths import calibration_bins

pytestmark = pytest.mark.django_db


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def seeded_on(db, seed_text, time_machine):
    """The seed loaded, and scored, on a given day (its outcomes known 2019 to 2021)."""
    from forecasts.core.seed import seed_forecasts_load

    def load(day: dt.date) -> None:
        time_machine.move_to(_noon(day), tick=False)
        seed_forecasts_load(text=seed_text)
        score_services.scores_snapshot(as_of=day)

    return load


def _scored() -> list[dict[str, object]]:
    """Each scored forecast from the record itself: the first estimate's probability and
    phrase, the current outcome, when it became known, its tags."""
    rows = []
    for forecast in Forecast.objects.published().prefetch_related(
        "tags", "estimates", "resolutions"
    ):
        current = [r for r in forecast.resolutions.all() if r.is_current]
        if not current or current[0].outcome not in ("YES", "NO"):
            continue
        first = min(forecast.estimates.all(), key=lambda e: (e.made_on, e.pk))
        rows.append(
            {
                "p": first.probability,
                "phrase": "" if first.negated else first.phrase.strip().lower(),
                "o": current[0].outcome == "YES",
                "known": current[0].known_on,
                "tags": {tag.slug for tag in forecast.tags.all()},
            }
        )
    return rows


def _kept(rows, *, tag=None, first=None, last=None):
    return [
        r
        for r in rows
        if (tag is None or tag in r["tags"])
        and (first is None or r["known"] >= first)
        and (last is None or r["known"] <= last)
    ]


def _brier(rows) -> float:
    return sum((r["p"] - r["o"]) ** 2 for r in rows) / len(rows)


def _text(html: str) -> str:
    html = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    return " ".join(unescape(strip_tags(html)).split())


def _chart_rows(html: str, title_start: str) -> list[list[str]]:
    """The data table of the chart whose title starts so."""
    match = re.search(
        rf"<caption>Data: {re.escape(title_start)}.*?</caption>.*?<tbody>(.*?)</tbody>",
        html,
        re.S,
    )
    assert match, title_start
    return [
        [unescape(strip_tags(c)).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
    ]


def _percent(value: float) -> str:
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}\u00a0%"


CASES = [
    # query, tag, first day, last day (known_on, inclusive)
    ("tag=north-korea", "north-korea", None, None),
    ("period=2020", None, dt.date(2020, 1, 1), dt.date(2020, 12, 31)),
    (
        "tag=us-election-2020&period=2020",
        "us-election-2020",
        dt.date(2020, 1, 1),
        dt.date(2020, 12, 31),
    ),
    (
        "tag=diplomacy&period=2021&sort=brier",
        "diplomacy",
        dt.date(2021, 1, 1),
        dt.date(2021, 12, 31),
    ),
]


@pytest.mark.parametrize(("query", "tag", "first", "last"), CASES)
def test_the_headline_charts_and_phrases_are_of_the_filtered_forecasts(
    client, seeded_on, query, tag, first, last
):
    seeded_on(dt.date(2026, 11, 21))
    everything = _scored()
    kept = _kept(everything, tag=tag, first=first, last=last)
    assert 0 < len(kept) < len(everything)
    html = client.get(f"/?{query}").content.decode()
    text = _text(html)

    # The headline.
    brier = _brier(kept)
    assert (
        f"{len(kept)} resolved forecast{'s' if len(kept) > 1 else ''} "
        f"match{'es' if len(kept) == 1 else ''} this filter, of {len(everything)} resolved in all"
    ) in text
    assert f"Brier score at publication is {brier:.3f}" in text
    skill = float(re.search(r"skill against a coin flip (-?[0-9.]+)", text).group(1))
    assert skill == pytest.approx(1 - brier / 0.25, abs=0.005 + 1e-9)  # shown to 2 places

    # The calibration chart: the bins of the kept forecasts only.
    bins = [
        b for b in calibration_bins([r["p"] for r in kept], [int(r["o"]) for r in kept]) if b.count
    ]
    shown = _chart_rows(html, "Calibration: forecasts")
    assert [row[1] for row in shown] == [str(b.count) for b in bins]
    assert [row[2] for row in shown] == [_percent(b.mean_probability) for b in bins]
    assert [row[3] for row in shown] == [_percent(b.observed_frequency) for b in bins]

    # Accuracy over time: at each month's end, the kept forecasts known by then.
    points = _chart_rows(html, "Accuracy over time: forecasts")
    months = sorted({(r["known"].year, r["known"].month) for r in kept})
    assert len(points) == len(months)
    for (year, month), (day, count, shown_brier) in zip(months, points, strict=True):
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        assert day == min(end, last or end).isoformat()
        known_by = [r for r in kept if r["known"] <= end]
        assert int(count) == len(known_by)
        assert shown_brier == f"{_brier(known_by):.3f}"
    assert points[-1][1] == str(len(kept))

    # The phrase table.
    phrases: dict[str, list[int]] = {}
    for r in kept:
        if r["phrase"]:
            phrases.setdefault(r["phrase"], [0, 0])
            phrases[r["phrase"]][0] += 1
            phrases[r["phrase"]][1] += int(r["o"])
    words = html[html.index("<h2>Words and outcomes</h2>") :].split("<h2>")[1]
    for phrase, (count, happened) in phrases.items():
        assert re.search(
            rf"“{re.escape(phrase)}”</th>\s*<td class=\"num\">{count}</td>\s*"
            rf"<td class=\"num\">{happened} \(",
            words,
        ), phrase
    assert words.count('<th scope="row">') == len(phrases)

    # What it is filtered by, and the way back.
    assert 'id="filtered"' in html
    assert 'action="#filtered"' in html
    summary = _text(re.search(r'<p class="filter-summary".*?</p>', html, re.S).group(0))
    assert summary.startswith("Filtered by")
    if tag:
        assert "tag “" in summary
    if first:
        assert f"outcome known in {first.year}" in summary
    clear = re.search(r'<a class="clear-filter" href="([^"]*)">Clear filter</a>', html).group(1)
    assert clear == ("/?sort=brier" if "sort=brier" in query else "/")


def test_a_period_starting_inside_a_month_counts_only_its_days(client, seeded_on):
    """The last twelve months from 21 October 2020: the outcome known on 15 October 2020
    is in that month's stored sums but not in the period."""
    seeded_on(dt.date(2021, 10, 20))
    kept = _kept(_scored(), first=dt.date(2020, 10, 21), last=dt.date(2021, 10, 20))
    assert len(kept) == 7
    html = client.get("/?period=12m").content.decode()
    text = _text(html)
    assert "7 resolved forecasts match this filter, of 10 resolved in all" in text
    assert f"Brier score at publication is {_brier(kept):.3f}" in text
    points = _chart_rows(html, "Accuracy over time: forecasts")
    assert [(day, int(count)) for day, count, _ in points] == [
        ("2020-11-30", 3),
        ("2021-01-31", 7),
    ]
    assert "Filtered by outcome known in the last 12 months (21 Oct 2020 to 20 Oct 2021)." in text


def test_a_filter_nothing_matches_says_so(client, seeded_on):
    seeded_on(dt.date(2026, 11, 21))
    text = _text(client.get("/?period=2023").content.decode())
    assert "No resolved forecast matches this filter (10 resolved in all)." in text
    assert "Filtered by outcome known in 2023" in text


def test_unfiltered_the_scorecard_is_of_everything_with_no_summary(client, seeded_on):
    seeded_on(dt.date(2026, 11, 21))
    html = client.get("/").content.decode()
    assert "Filtered by" not in html
    assert "Clear filter" not in html
    assert "Calibration: everything" in html
    text = _text(html)
    assert f"Brier score at publication is {_brier(_scored()):.3f}" in text
