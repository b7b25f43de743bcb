"""Server-side SVG charts (forecasts/web/charts/) and their partial (_chart.html).

No database: only the default cache, switched to a fresh LocMem cache per test.
Render times are printed (``-s`` not needed), never asserted.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import matplotlib as mpl
import pytest
from django.template.loader import render_to_string

from forecasts.scores import maths as scoring
from forecasts.web import charts
from forecasts.web.charts import Chart
from forecasts.web.charts import cached as chart_cache
from forecasts.web.charts import svg as chart_svg
from tests.conftest import REPO

NS = {"svg": charts.SVG_NS}
SVG = f"{{{charts.SVG_NS}}}"
XLINK_HREF = f"{{{charts.XLINK_NS}}}href"
EVIL = "<script>alert(1)</script> & Co"


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    settings.CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-charts-{alias}",
        }
        for alias in ("default", "state")
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# --- inputs ------------------------------------------------------------------------

BINS = [b.to_dict() for b in scoring.calibration_bins(
    [0.05, 0.1, 0.3, 0.3, 0.7, 0.72, 0.75, 0.9, 0.95, 1.0],
    [0, 0, 0, 1, 1, 0, 1, 1, 1, 1],
)]  # fmt: skip

HISTORY = [
    (date(2025, 1, 1), None, 0),
    (date(2025, 2, 1), 0.21, 12),
    (date(2025, 3, 1), 0.19, 30),
    (date(2025, 4, 1), 0.175, 48),
]

ESTIMATES = [(date(2025, 1, 10), 0.7), (date(2025, 3, 1), 0.85), (date(2025, 5, 2), 0.6)]


def all_charts(title: str = "A title") -> dict[str, Chart]:
    return {
        "calibration": charts.calibration_chart(BINS, title=title),
        "accuracy": charts.accuracy_over_time_chart(HISTORY, title=title),
        "probability": charts.probability_history_chart(
            ESTIMATES,
            deadline=date(2025, 8, 1),
            known_on=date(2025, 7, 15),
            outcome="YES",
            title=title,
        ),
        "sparkline": charts.sparkline([0.3, None, 0.25, 0.2], title=title),
    }


def parse(chart: Chart) -> ET.Element:
    return ET.fromstring(chart.svg)  # noqa: S314 - our own output, and the point is to parse it


def ids_and_refs(svg: str) -> tuple[set[str], set[str]]:
    ids = set(re.findall(r'\sid="([^"]+)"', svg))
    refs = set(re.findall(r"url\(#([^)]+)\)", svg)) | set(re.findall(r'href="#([^"]+)"', svg))
    return ids, refs


# --- the SVG: well formed, accessible, self-contained ------------------------------------


@pytest.mark.parametrize("kind", ["calibration", "accuracy", "probability", "sparkline"])
def test_svg_parses_with_title_desc_and_role(kind):
    chart = all_charts()[kind]
    root = parse(chart)
    assert root.tag == f"{SVG}svg"
    title, desc = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title is not None
    assert title.text == "A title"
    assert desc is not None
    assert desc.text == chart.description
    assert list(root)[:2] == [title, desc], "title and desc come first"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == title.get("id")
    assert re.fullmatch(r"0 0 [0-9.]+ [0-9.]+", root.get("viewBox", ""))


@pytest.mark.parametrize("kind", ["calibration", "accuracy", "probability"])
def test_main_charts_scale_to_the_container(kind):
    root = parse(all_charts()[kind])
    assert root.get("width") == "100%"
    assert root.get("height") is None
    assert "pt" not in (root.get("width") or "")


def test_sparkline_is_80_by_20_pixels():
    root = parse(all_charts()["sparkline"])
    assert (root.get("width"), root.get("height")) == ("80", "20")
    assert root.get("viewBox") == "0 0 80 20"
    assert "sparkline" in (root.get("class") or "")


@pytest.mark.parametrize("kind", ["calibration", "accuracy", "probability", "sparkline"])
def test_no_script_links_or_images(kind):
    chart = all_charts()[kind]
    svg = chart.svg
    assert "<script" not in svg.lower()
    assert "javascript:" not in svg.lower()
    urls = set(re.findall(r"https?://[^\"'\s<>)]*", svg))
    assert urls <= {charts.SVG_NS, charts.XLINK_NS}
    for prologue in ("<metadata", "<!DOCTYPE", "<?xml"):
        assert prologue not in svg
    root = parse(chart)
    for element in root.iter():
        local = element.tag.rsplit("}", 1)[-1]
        assert local not in {"script", "image", "foreignObject", "a", "iframe", "style"}
        for name, value in element.attrib.items():
            assert not name.startswith("on"), f"event handler {name}"
            if name in ("href", XLINK_HREF):
                assert value.startswith("#"), value
            assert "http" not in value, (name, value)


@pytest.mark.parametrize("kind", ["calibration", "accuracy", "probability", "sparkline"])
def test_text_stays_text(kind):
    svg = all_charts()[kind].svg
    if kind != "sparkline":  # the sparkline has no text but its title and desc
        assert "<text" in svg
    assert 'id="DejaVuSans' not in svg  # no glyph outlines


def test_every_reference_resolves_and_ids_differ_between_charts():
    one, two = all_charts("One").values(), all_charts("Two").values()
    seen: set[str] = set()
    for chart in [*one, *two]:
        ids, refs = ids_and_refs(chart.svg)
        assert refs <= ids, refs - ids
        assert not ids & seen, "ids repeat across charts on one page"
        seen |= ids


# --- escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["calibration", "accuracy", "probability", "sparkline"])
def test_malicious_title_is_escaped_in_svg(kind):
    chart = all_charts(EVIL)[kind]
    assert "<script" not in chart.svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in chart.svg
    assert parse(chart).find("svg:title", NS).text == EVIL  # type: ignore[union-attr]


def test_malicious_title_is_escaped_in_the_partial():
    chart = all_charts(EVIL)["calibration"]
    html = render_to_string("forecasts/_chart.html", {"chart": chart})
    assert "<script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co") >= 3  # caption ×2, svg


def test_control_characters_and_long_titles():
    title = "Tag \x00\x1b\ufffe name " + "very long " * 200 + "& <b>"
    for chart in all_charts(title).values():
        root = parse(chart)
        text = root.find("svg:title", NS).text  # type: ignore[union-attr]
        assert text is not None
        assert text.startswith("Tag  name very long")
        assert text.endswith("& <b>")
        assert chart.title == title  # the template escapes it for HTML


def test_dollar_signs_are_not_mathtext():
    chart = charts.calibration_chart(BINS, title="$5 & $10 forecasters")
    assert parse(chart).find("svg:title", NS).text == "$5 & $10 forecasters"  # type: ignore[union-attr]


# --- data tables -------------------------------------------------------------------------------


def test_calibration_table_rows_are_the_non_empty_bins():
    chart = charts.calibration_chart(BINS, title="t")
    expected = [
        [
            f"{round(b['lower'] * 100)}–{round(b['upper'] * 100)}\u00a0%",
            str(b["count"]),
            charts.format_percent(b["mean_probability"]),
            charts.format_percent(b["observed_frequency"]),
            f"{charts.format_percent(b['interval_low'])}–{charts.format_percent(b['interval_high'])}",
        ]
        for b in BINS
        if b["count"]
    ]
    assert chart.rows == expected
    assert len(chart.rows) == 6
    assert len(chart.columns) == 5
    assert chart.rows[0][:4] == ["0–10\u00a0%", "2", "7.5\u00a0%", "0\u00a0%"]
    assert chart.rows[-1][:4] == ["90–100\u00a0%", "2", "97.5\u00a0%", "100\u00a0%"]


def test_calibration_accepts_calibration_bin_objects():
    objects = scoring.calibration_bins([0.2, 0.8], [0, 1])
    dicts = [b.to_dict() for b in objects]
    assert charts.calibration_chart(objects, title="t") == charts.calibration_chart(
        dicts, title="t"
    )


def test_accuracy_table_skips_snapshots_without_a_score():
    chart = charts.accuracy_over_time_chart(HISTORY, title="t")
    assert chart.columns == ["As of", "Resolved forecasts", "Brier score"]
    assert chart.rows == [
        ["2025-02-01", "12", "0.210"],
        ["2025-03-01", "30", "0.190"],
        ["2025-04-01", "48", "0.175"],
    ]


def test_probability_table_is_the_estimates_in_date_order():
    chart = charts.probability_history_chart(
        list(reversed(ESTIMATES)),
        deadline=date(2025, 8, 1),
        known_on=None,
        outcome=None,
        title="t",
    )
    assert chart.rows == [
        ["2025-01-10", "70\u00a0%"],
        ["2025-03-01", "85\u00a0%"],
        ["2025-05-02", "60\u00a0%"],
    ]


def test_sparkline_table_and_trend():
    chart = charts.sparkline([0.3, None, 0.25, 0.2], title="t")
    assert chart.rows == [["1", "0.300"], ["2", "0.250"], ["3", "0.200"]]
    assert "improving" in chart.description
    assert "from 0.300 to 0.200" in chart.description
    assert "worsening" in charts.sparkline([0.1, 0.2], title="t").description
    assert "steady" in charts.sparkline([0.2, 0.2], title="t").description


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0\u00a0%"),
        (1.0, "100\u00a0%"),
        (0.7, "70\u00a0%"),
        (0.855, "85.5\u00a0%"),
        (1 / 3, "33.3\u00a0%"),
        (-0.0, "0\u00a0%"),
    ],
)
def test_format_percent(value, text):
    assert charts.format_percent(value) == text


# --- descriptions ---------------------------------------------------------------------------


def test_calibration_description_counts_and_largest_gap():
    description = charts.calibration_chart(BINS, title="t").description
    assert description.startswith("10 resolved forecasts in 6 probability bins.")
    assert re.search(r"In \d of 6 bins", description)
    assert "largest gap is in the" in description


def over_confident_bins() -> list[dict[str, Any]]:
    bins = []
    for lower, mean, observed, count in [(0.0, 0.05, 0.3, 40), (0.9, 0.95, 0.6, 40)]:
        low, high = scoring.wilson_interval(round(observed * count), count)
        bins.append({
            "lower": lower, "upper": lower + 0.1, "count": count, "mean_probability": mean,
            "observed_frequency": observed, "interval_low": low, "interval_high": high,
        })  # fmt: skip
    return bins


def test_calibration_description_says_over_or_under_confident():
    over = charts.calibration_chart(over_confident_bins(), title="t").description
    assert "In 0 of 2 bins" in over
    assert "over-confident: on average 30 percentage points" in over
    assert "largest gap is in the 90–100\u00a0% bin" in over  # 35 points against 25
    under_bins = [
        {**b, "mean_probability": m}
        for b, m in zip(over_confident_bins(), [0.45, 0.52], strict=True)
    ]
    under = charts.calibration_chart(under_bins, title="t").description
    assert "under-confident" in under


def test_accuracy_description():
    description = charts.accuracy_over_time_chart(HISTORY, title="t").description
    assert "from 2025-02-01 to 2025-04-01" in description
    assert "0.210 at first" in description
    assert "0.175 at the latest" in description
    assert "improving and better than always saying 50\u00a0%" in description


@pytest.mark.parametrize(
    ("outcome", "known_on", "phrase"),
    [
        ("YES", date(2025, 7, 15), "came true (outcome YES, known on 2025-07-15)"),
        ("NO", date(2025, 7, 15), "did not happen (outcome NO"),
        ("ANNULLED", date(2025, 7, 15), "annulled on 2025-07-15"),
        (None, None, "Not resolved yet; the deadline is 2025-08-01"),
    ],
)
def test_probability_description_and_outcomes(outcome, known_on, phrase):
    chart = charts.probability_history_chart(
        ESTIMATES, deadline=date(2025, 8, 1), known_on=known_on, outcome=outcome, title="t"
    )
    assert phrase in chart.description
    assert "70\u00a0% on 2025-01-10" in chart.description
    assert "60\u00a0% from 2025-05-02 (the latest of 3 estimates)" in chart.description
    parse(chart)
    if outcome in ("YES", "NO"):
        assert f">{outcome}</text>" in chart.svg


@pytest.mark.parametrize(
    ("today", "phrase"),
    [
        (date(2025, 7, 1), "Not resolved yet; the deadline is 2025-08-01."),
        (date(2025, 8, 13), "the deadline, 2025-08-01, passed 12 days ago"),
        (date(2026, 1, 1), "passed 5 months ago"),
        (date(2031, 11, 3), "passed 6 years ago, and it awaits a reviewer's verdict."),
    ],
)
def test_an_overdue_forecast_says_how_long_it_waits(today, phrase):
    """Issue 17 (13): six years overdue, it only said "the deadline is 2020-11-03"."""
    chart = charts.probability_history_chart(
        ESTIMATES, deadline=date(2025, 8, 1), known_on=None, outcome=None, title="t", today=today
    )
    assert phrase in chart.description


# --- edge cases -------------------------------------------------------------------------


def test_empty_inputs_give_no_svg_and_say_so():
    empty_bins = [b.to_dict() for b in scoring.calibration_bins([0.5], [1])]
    for b in empty_bins:
        b.update(count=0, mean_probability=None, observed_frequency=None)
    cases = [
        (charts.calibration_chart([], title="t"), charts.NO_RESOLVED),
        (charts.calibration_chart(empty_bins, title="t"), charts.NO_RESOLVED),
        (charts.accuracy_over_time_chart([], title="t"), charts.NO_RESOLVED),
        (
            charts.accuracy_over_time_chart([(date(2025, 1, 1), None, 0)], title="t"),
            charts.NO_RESOLVED,
        ),
        (
            charts.probability_history_chart(
                [], deadline=date(2025, 1, 1), known_on=None, outcome=None, title="t"
            ),
            charts.NO_ESTIMATES,
        ),
        (charts.sparkline([], title="t"), charts.NO_SCORES),
        (charts.sparkline([None, None], title="t"), charts.NO_SCORES),
    ]
    assert charts.NO_RESOLVED == "No resolved forecasts yet."
    for chart, sentence in cases:
        assert chart.svg == ""
        assert chart.description == sentence
        assert chart.rows == []
        assert chart.columns


def test_single_points():
    single = [b for b in BINS if b["count"]][:1]
    for chart in [
        charts.calibration_chart(single, title="t"),
        charts.accuracy_over_time_chart([(date(2025, 1, 1), 0.2, 3)], title="t"),
        charts.probability_history_chart(
            [(date(2025, 1, 1), 0.4)],
            deadline=date(2025, 1, 1),
            known_on=date(2025, 1, 1),
            outcome="NO",
            title="t",
        ),
        charts.sparkline([0.2], title="t"),
    ]:
        parse(chart)
        assert len(chart.rows) == 1
    assert "one snapshot" in charts.sparkline([0.2], title="t").description
    assert (
        "(one estimate)"
        in charts.probability_history_chart(
            [(date(2025, 1, 1), 0.4)],
            deadline=date(2025, 2, 1),
            known_on=None,
            outcome=None,
            title="t",
        ).description
    )


def test_probabilities_at_exactly_zero_and_one():
    bins = scoring.calibration_bins([0.0, 0.0, 1.0, 1.0, 1.0], [0, 0, 1, 1, 0])
    chart = charts.calibration_chart(bins, title="t")
    parse(chart)
    assert [row[2] for row in chart.rows] == ["0\u00a0%", "100\u00a0%"]
    history = charts.probability_history_chart(
        [(date(2025, 1, 1), 0.0), (date(2025, 2, 1), 1.0)],
        deadline=date(2025, 3, 1),
        known_on=date(2025, 3, 1),
        outcome="YES",
        title="t",
    )
    parse(history)
    assert history.rows == [["2025-01-01", "0\u00a0%"], ["2025-02-01", "100\u00a0%"]]


def test_accuracy_axis_reaches_half_or_the_worst_score():
    low = charts.accuracy_over_time_chart([(date(2025, 1, 1), 0.1, 3)], title="t")
    assert ">0.5</text>" in low.svg
    high = charts.accuracy_over_time_chart(
        [(date(2025, 1, 1), 0.1, 3), (date(2025, 2, 1), 0.9, 4)], title="t"
    )
    assert ">0.8</text>" in high.svg
    parse(high)


def test_estimates_after_the_deadline_and_outcome_before_first_estimate_still_draw():
    chart = charts.probability_history_chart(
        [(date(2025, 5, 1), 0.3), (date(2025, 9, 1), 0.2)],
        deadline=date(2025, 6, 1),
        known_on=date(2025, 4, 1),
        outcome="NO",
        title="t",
    )
    parse(chart)


# --- determinism and threads ---------------------------------------------------------------


def test_same_input_gives_identical_svg():
    first = all_charts()
    second = all_charts()
    for kind in first:
        assert first[kind] == second[kind]
        assert first[kind].svg == second[kind].svg


def test_global_matplotlib_settings_neither_leak_in_nor_out():
    before = charts.calibration_chart(BINS, title="t").svg
    original = dict(mpl.rcParams)
    with mpl.rc_context({"lines.linewidth": 7, "font.size": 30, "svg.hashsalt": None}):
        during = charts.calibration_chart(BINS, title="t").svg
        assert mpl.rcParams["lines.linewidth"] == 7
        assert mpl.rcParams["svg.hashsalt"] is None
    assert during == before
    assert dict(mpl.rcParams) == original


def test_no_pyplot():
    # Every module of the package, in a fresh interpreter: matplotlib is loaded (so the
    # check is not vacuous) and pyplot, with its global figures and GUI backends, is not.
    code = "\n".join(
        [
            "import pkgutil, sys, forecasts.web.charts as charts",
            "prefix = charts.__name__ + '.'",
            "names = [m.name for m in pkgutil.iter_modules(charts.__path__, prefix)]",
            "assert {'svg', 'builders', 'cached'} <= {n.rsplit('.', 1)[1] for n in names}",
            "for name in names: __import__(name)",
            "assert 'matplotlib.figure' in sys.modules",
            "assert 'matplotlib.pyplot' not in sys.modules",
        ]
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(charts_root()))


def charts_root() -> Any:
    return REPO


def test_concurrent_rendering_is_identical():
    expected = {kind: chart.svg for kind, chart in all_charts().items()}
    results: list[dict[str, str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append({kind: chart.svg for kind, chart in all_charts().items()})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [expected] * 4


# --- caching -------------------------------------------------------------------------------


def counting(chart: Chart) -> tuple[Callable[[], Chart], list[int]]:
    calls: list[int] = []

    def build() -> Chart:
        calls.append(1)
        return chart

    return build, calls


def test_cached_chart_builds_once_per_key():
    chart = charts.sparkline([0.3, 0.2], title="t")
    build, calls = counting(chart)
    assert charts.cached_chart("spark:1:2025-01-01", build) == chart
    assert charts.cached_chart("spark:1:2025-01-01", build) == chart
    assert len(calls) == 1
    assert charts.cached_chart("spark:1:2025-01-02", build) == chart
    assert len(calls) == 2


def test_cache_key_is_safe_for_any_backend():
    key = chart_cache._cache_key("a key with spaces, ümlauts and " + "x" * 500)
    assert re.fullmatch(r"charts:[0-9a-f]{40}", key)


def test_snapshot_helpers_cache_by_snapshot(monkeypatch):
    rendered: list[str] = []
    real_finish = chart_svg.finish  # every chart, matplotlib-drawn or not, ends here

    def spy(*args: Any, **kwargs: Any) -> str:
        rendered.append(kwargs["title"])
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(chart_svg, "finish", spy)
    snapshot = SimpleNamespace(
        scope_kind="forecaster",
        scope_id=3,
        as_of=date(2025, 4, 1),
        computed_at=datetime(2025, 4, 1, 3, 0),
        calibration=BINS,
        brier=0.175,
        resolved_count=48,
    )
    first = charts.snapshot_calibration_chart(snapshot, name="Ann")  # type: ignore[arg-type]
    again = charts.snapshot_calibration_chart(snapshot, name="Ann")  # type: ignore[arg-type]
    assert first == again
    assert first.title == "Calibration: Ann"
    assert rendered == ["Calibration: Ann"]
    snapshot.computed_at = datetime(2025, 4, 1, 4, 0)  # recomputed: a new chart
    charts.snapshot_calibration_chart(snapshot, name="Ann")  # type: ignore[arg-type]
    assert len(rendered) == 2

    history = [SimpleNamespace(as_of=d, brier=b, resolved_count=n) for d, b, n in HISTORY]
    charts.snapshot_history_chart(history, name="Ann")  # type: ignore[arg-type]
    charts.snapshot_history_chart(history, name="Ann")  # type: ignore[arg-type]
    assert len(rendered) == 3
    history.append(SimpleNamespace(as_of=date(2025, 5, 1), brier=0.17, resolved_count=50))
    assert "0.170" in charts.snapshot_history_chart(history, name="Ann").description  # type: ignore[arg-type]
    assert len(rendered) == 4

    charts.brier_sparkline([0.3, 0.2], name="Ann")
    charts.brier_sparkline([0.3, 0.2], name="Ann")
    assert len(rendered) == 5
    charts.brier_sparkline([0.3, 0.2, 0.1], name="Ann")
    assert len(rendered) == 6


def test_forecast_helper_changes_with_estimates_and_resolution(monkeypatch):
    rendered: list[int] = []
    real_render = chart_svg.render
    monkeypatch.setattr(
        chart_svg, "render", lambda *a, **k: rendered.append(1) or real_render(*a, **k)
    )
    forecast = SimpleNamespace(pk=7, resolve_by=date(2025, 8, 1))
    estimates = [
        SimpleNamespace(pk=i, made_on=d, probability=p) for i, (d, p) in enumerate(ESTIMATES)
    ]
    chart = charts.forecast_probability_chart(forecast, estimates, None)  # type: ignore[arg-type]
    assert "Not resolved yet" in chart.description
    charts.forecast_probability_chart(forecast, estimates, None)  # type: ignore[arg-type]
    assert len(rendered) == 1
    resolution = SimpleNamespace(outcome="NO", known_on=date(2025, 7, 1))
    resolved = charts.forecast_probability_chart(forecast, estimates, resolution)  # type: ignore[arg-type]
    assert "did not happen" in resolved.description
    estimates.append(SimpleNamespace(pk=9, made_on=date(2025, 6, 1), probability=0.1))
    charts.forecast_probability_chart(forecast, estimates, resolution)  # type: ignore[arg-type]
    assert len(rendered) == 3


# --- the partial ---------------------------------------------------------------------------


def test_partial_renders_figure_caption_svg_description_and_table():
    chart = charts.accuracy_over_time_chart(HISTORY, title="Accuracy over time: everything")
    html = render_to_string("forecasts/_chart.html", {"chart": chart})
    assert html.strip().startswith('<figure class="chart">')
    assert "<figcaption>Accuracy over time: everything</figcaption>" in html
    assert chart.svg in html  # inserted verbatim
    assert f'<p class="chart-desc">{chart.description}</p>' in html
    assert '<details class="chart-data">' in html
    assert "<summary>Data</summary>" in html
    assert "<caption>Data: Accuracy over time: everything</caption>" in html
    assert html.count('<th scope="col"') == 3
    assert (
        '<th scope="row">2025-02-01</th><td class="num">12</td><td class="num">0.210</td>' in html
    )
    assert " open>" not in html
    assert " open>" in render_to_string(
        "forecasts/_chart.html", {"chart": chart, "data_open": True}
    )


def test_partial_with_an_empty_chart_has_no_svg_or_table():
    chart = charts.calibration_chart([], title="Calibration: everything")
    html = render_to_string("forecasts/_chart.html", {"chart": chart})
    assert "<figcaption>Calibration: everything</figcaption>" in html
    assert "No resolved forecasts yet." in html
    assert "<svg" not in html
    assert "<table" not in html


# --- speed (printed, not asserted) ---------------------------------------------------------------


def test_render_time_is_printed(capsys):
    rng_bins = [b.to_dict() for b in scoring.calibration_bins(
        [i / 199 for i in range(200)], [int(i % 3 == 0) for i in range(200)]
    )]  # fmt: skip
    cases: dict[str, Callable[[], Chart]] = {
        "calibration (10 bins)": lambda: charts.calibration_chart(rng_bins, title="t"),
        "accuracy (52 snapshots)": lambda: charts.accuracy_over_time_chart(
            [(date(2024, 1, 1) + timedelta(weeks=i), 0.2 + i / 1000, i) for i in range(52)],
            title="t",
        ),
        "probability (5 estimates)": lambda: charts.probability_history_chart(
            [(date(2025, 1, 1) + timedelta(days=30 * i), 0.1 * i + 0.3) for i in range(5)],
            deadline=date(2025, 9, 1),
            known_on=date(2025, 8, 1),
            outcome="YES",
            title="t",
        ),
        "sparkline (20 values)": lambda: charts.sparkline(
            [0.25 - i / 200 for i in range(20)], title="t"
        ),
    }
    lines = []
    for name, build in cases.items():
        build()  # warm
        times, cpu = [], []
        for _ in range(7):
            start, start_cpu = time.perf_counter(), time.process_time()
            build()
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        lines.append(
            f"  {name:<26} median {statistics.median(times):5.1f} ms wall, "
            f"{statistics.median(cpu):5.1f} ms CPU; best {min(times):5.1f} ms"
        )
    start = time.perf_counter()
    for _ in range(100):
        charts.cached_chart("warm", lambda: Chart("t", "d", "", [], []))
    cached = (time.perf_counter() - start) * 10
    with capsys.disabled():
        print("\nchart render times:\n" + "\n".join(lines) + f"\n  cached hit {cached:.3f} ms")


def test_brier_sparklines_use_one_lookup_and_match_single_ones(monkeypatch):
    from django.core.cache import cache

    class CountingCache:
        def __init__(self) -> None:
            self.lookups = 0

        def get_many(self, keys: list[str]) -> dict[str, Any]:
            self.lookups += 1
            return cache.get_many(keys)

        def __getattr__(self, name: str) -> Any:
            return getattr(cache, name)

    counting_cache = CountingCache()
    monkeypatch.setattr(chart_cache, "cache", counting_cache)
    rows = [("Ann", [0.3, 0.2]), ("Bob", [0.1, None, 0.2]), ("Cy", [])]
    first = charts.brier_sparklines(rows)
    assert [c.title for c in first] == [
        "Brier score history: Ann",
        "Brier score history: Bob",
        "Brier score history: Cy",
    ]
    assert first[2].svg == ""
    assert "worsening" in first[1].description
    monkeypatch.setattr(chart_svg, "render", lambda *a, **k: pytest.fail("rendered again"))
    assert charts.brier_sparklines(rows) == first
    assert charts.brier_sparkline([0.3, 0.2], name="Ann") == first[0]
    assert counting_cache.lookups == 2
