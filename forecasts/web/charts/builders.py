"""The charts the pages show, each a :class:`~forecasts.web.charts.svg.Chart`: a title, a
one- or two-sentence text alternative, the SVG markup and the plotted data as a table,
so each chart can be read without seeing it (``templates/forecasts/_chart.html``
renders all four).

Empty input (nothing resolved yet, no estimate) gives a Chart whose ``svg`` is
the empty string, whose description says so ("No resolved forecasts yet.") and
whose table has its columns but no rows; the template then shows only the title
and that sentence.

Drawing goes through :func:`forecasts.web.charts.svg.render` (matplotlib) or, for
sparklines, straight to :func:`forecasts.web.charts.svg.finish`: called through the
module, so there is one place every chart is finished.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import matplotlib.dates as mdates
import numpy as np
import numpy.typing as npt
from matplotlib.ticker import FuncFormatter, MaxNLocator

from forecasts.web.charts import svg
from forecasts.web.charts.svg import (
    ACCENT,
    LINE,
    MUTED,
    NO_COLOUR,
    SPARKLINE_PX,
    SVG_NS,
    YES_COLOUR,
    Chart,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COIN_FLIP_BRIER: Final = 0.25

NO_RESOLVED: Final = "No resolved forecasts yet."
NO_ESTIMATES: Final = "No estimates yet."
NO_SCORES: Final = "No scores yet."
# Below this many forecasts in every bin, a bin's 95 % interval spans most of the axis
# (3 of 5 gives 23–88 %): the calibration chart says its verdict is weak.
FEW_IN_A_BIN: Final = 10

# Chart sizes in inches (the SVG's user units are points: 72 per inch).
_CHART_SIZE: Final = (5.6, 3.8)
_CALIBRATION_SIZE: Final = (5.2, 4.4)


# --- formatting --------------------------------------------------------------


def format_percent(value: float) -> str:
    """0.7 → "70 %", 0.855 → "85.5 %": at most one decimal, trailing zeros dropped.

    The space is a no-break space, so a number and its % never wrap apart.
    """
    text = f"{value * 100 + 0.0:.1f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text}\u00a0%"


def format_brier(value: float) -> str:
    return f"{value:.3f}"


def _bin_label(lower: float, upper: float) -> str:
    return f"{round(lower * 100)}–{round(upper * 100)}\u00a0%"


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _percent_axis(value: float, _position: float | None = None) -> str:
    return f"{round(value * 100)} %"


# --- dates ---------------------------------------------------------------------


def _days(values: Sequence[date]) -> npt.NDArray[np.float64]:
    """Dates as matplotlib's day numbers (the axis then needs no unit converter)."""
    return np.asarray(mdates.date2num(list(values)), dtype=np.float64)  # type: ignore[no-untyped-call]


def _day(value: date) -> float:
    return float(_days([value])[0])


def _date_axis(ax: Axes, first: date, last: date) -> None:
    """Date ticks; a span of under three weeks (a single point) is widened to three weeks."""
    span = (last - first).days
    if span < 21:
        pad = (21 - span) / 2
        ax.set_xlim(_day(first) - pad, _day(last) + pad)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


# --- calibration ---------------------------------------------------------------


@dataclass(frozen=True)
class _Bin:
    lower: float
    upper: float
    count: int
    mean: float
    observed: float
    low: float | None
    high: float | None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _read_bins(bins: Iterable[Mapping[str, Any] | Any]) -> list[_Bin]:
    """Non-empty bins from a snapshot's calibration JSON (or CalibrationBin objects)."""
    read = []
    for raw in bins:
        item = raw if isinstance(raw, Mapping) else raw.to_dict()
        count = item.get("count")
        mean = _number(item.get("mean_probability"))
        observed = _number(item.get("observed_frequency"))
        if not isinstance(count, int) or count < 1 or mean is None or observed is None:
            continue
        read.append(
            _Bin(
                lower=_number(item.get("lower")) or 0.0,
                upper=_number(item.get("upper")) or 0.0,
                count=count,
                mean=mean,
                observed=observed,
                low=_number(item.get("interval_low")),
                high=_number(item.get("interval_high")),
            )
        )
    return read


def _calibration_description(bins: list[_Bin]) -> str:
    total = sum(b.count for b in bins)
    with_interval = [b for b in bins if b.low is not None and b.high is not None]
    consistent = 0
    for b in with_interval:
        if b.low is not None and b.high is not None and b.low <= b.mean <= b.high:
            consistent += 1
    gap = max(bins, key=lambda b: abs(b.observed - b.mean))
    parts = [f"{_plural(total, 'resolved forecast')} in {_plural(len(bins), 'probability bin')}."]
    largest = (
        f"the largest gap is in the {_bin_label(gap.lower, gap.upper)} bin, where forecasts "
        f"averaged {format_percent(gap.mean)} and {format_percent(gap.observed)} came true "
        f"({_plural(gap.count, 'forecast')})."
    )
    if with_interval:
        parts.append(
            f"In {consistent} of {len(with_interval)} bins the share that came true is "
            "consistent with the forecast probability (the diagonal lies inside the "
            f"95\u00a0% interval); {largest}"
        )
        fullest = max(b.count for b in with_interval)
        if fullest < FEW_IN_A_BIN:
            parts.append(
                f"With at most {_plural(fullest, 'forecast')} in a bin the intervals are wide, "
                "so consistent or not says little yet."
            )
    else:
        parts.append(largest[0].upper() + largest[1:])
    # Over-confidence: forecasts more extreme (further from 50 %) than the outcomes.
    sided = [
        (b.count, (b.mean - b.observed) * math.copysign(1, b.mean - 0.5))
        for b in bins
        if b.mean != 0.5
    ]
    if sided:
        extremity = sum(n * x for n, x in sided) / sum(n for n, _ in sided)
        points = round(abs(extremity) * 100)
        if points >= 2 and extremity > 0:
            parts.append(
                f"Overall the forecasts were over-confident: on average {points} percentage "
                "points more extreme than the outcomes."
            )
        elif points >= 2:
            parts.append(
                f"Overall the forecasts were under-confident: on average {points} percentage "
                "points less extreme than the outcomes."
            )
        else:
            parts.append("Overall the forecasts were about as confident as the outcomes warranted.")
    return " ".join(parts)


def calibration_chart(bins: Sequence[Mapping[str, Any] | Any], *, title: str) -> Chart:
    """Forecast probability (bin mean) against the share that came true, per bin.

    ``bins`` is a snapshot's ``calibration`` JSON (dicts with lower, upper,
    count, mean_probability, observed_frequency, interval_low, interval_high)
    or :class:`forecasts.scores.maths.CalibrationBin` objects. Empty bins are skipped.
    Drawn: the diagonal (perfect calibration), each bin's point with its 95 %
    Wilson interval, and the number of forecasts in it.
    """
    columns = [
        "Probability bin",
        "Forecasts",
        "Average forecast",
        "Came true",
        "95\u00a0% interval",
    ]
    read = _read_bins(bins)
    if not read:
        return Chart(title=title, description=NO_RESOLVED, svg="", columns=columns, rows=[])
    description = _calibration_description(read)
    rows = [
        [
            _bin_label(b.lower, b.upper),
            str(b.count),
            format_percent(b.mean),
            format_percent(b.observed),
            "–".join(format_percent(v) for v in (b.low, b.high) if v is not None)
            if b.low is not None and b.high is not None
            else "—",
        ]
        for b in read
    ]

    def draw(figure: Figure) -> None:
        ax = svg.axes(figure, bottom=0.8, top=0.3)
        ax.plot([0, 1], [0, 1], color=MUTED, linestyle="--", linewidth=1)
        xs = [b.mean for b in read]
        ys = [b.observed for b in read]
        # The 95 % intervals as bars with caps (cheaper to draw than errorbar()).
        bars = [(b.mean, b.low, b.high) for b in read if b.low is not None and b.high is not None]
        if bars:
            bar_x = [x for x, _, _ in bars]
            lows = [low for _, low, _ in bars if low is not None]
            highs = [high for _, _, high in bars if high is not None]
            ax.vlines(bar_x, lows, highs, color=ACCENT, linewidth=1.2)
            ax.plot(
                bar_x * 2,
                lows + highs,
                linestyle="none",
                marker="_",
                markersize=7,
                color=ACCENT,
                clip_on=False,
            )
        ax.plot(xs, ys, linestyle="none", marker="o", markersize=6, color=ACCENT, clip_on=False)
        for b in read:  # the count above each bar
            ax.annotate(
                f"n={b.count}",
                (b.mean, b.high if b.high is not None else b.observed),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8.5,
                color=MUTED,
                annotation_clip=False,
            )
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.xaxis.set_major_formatter(FuncFormatter(_percent_axis))
        ax.yaxis.set_major_formatter(FuncFormatter(_percent_axis))
        ax.set_xlabel("Forecast probability (bin average)")
        ax.set_ylabel("Share that came true")
        figure.text(  # a key in words, in place of a legend (half the cost to draw)
            0.5,
            0.02,
            "dashed line: perfect calibration · bars: 95 % intervals",
            ha="center",
            va="bottom",
            fontsize=9,
            color=MUTED,
        )

    markup = svg.render(draw, size=_CALIBRATION_SIZE, title=title, description=description)
    return Chart(title=title, description=description, svg=markup, columns=columns, rows=rows)


# --- accuracy over time --------------------------------------------------------------


def _trend(first: float, last: float) -> str:
    if abs(last - first) < 1e-9:
        return "steady"
    return "improving" if last < first else "worsening"


def accuracy_over_time_chart(
    points: Sequence[tuple[date, float | None, int]], *, title: str
) -> Chart:
    """The Brier score of each snapshot over time, with the coin flip's 0.25 for reference.

    ``points`` are ``(as_of, brier, resolved_count)`` from a scope's snapshot
    history; snapshots without a score (``brier`` None) are skipped.
    """
    columns = ["As of", "Resolved forecasts", "Brier score"]
    scored = sorted(((d, b, n) for d, b, n in points if b is not None), key=lambda p: p[0])
    if not scored:
        return Chart(title=title, description=NO_RESOLVED, svg="", columns=columns, rows=[])
    rows = [[d.isoformat(), str(n), format_brier(b)] for d, b, n in scored]
    first, last = scored[0], scored[-1]
    coin = "better than" if last[1] < COIN_FLIP_BRIER else "no better than"
    if len(scored) == 1:
        description = (
            f"Brier score {format_brier(last[1])} on {last[0].isoformat()} "
            f"({_plural(last[2], 'resolved forecast')}), {coin} always saying 50\u00a0% (0.25); "
            "lower is better."
        )
    else:
        description = (
            f"Brier score on {len(scored)} dates from {first[0].isoformat()} to "
            f"{last[0].isoformat()}: {format_brier(first[1])} at first "
            f"({_plural(first[2], 'resolved forecast')}) and {format_brier(last[1])} at the "
            f"latest ({_plural(last[2], 'resolved forecast')}), "
            f"{_trend(first[1], last[1])} and {coin} always saying 50\u00a0% (0.25); "
            "lower is better."
        )
    top = max(0.5, max(b for _, b, _ in scored) * 1.1)

    def draw(figure: Figure) -> None:
        ax = svg.axes(figure)
        dates = _days([d for d, _, _ in scored])
        ax.axhline(COIN_FLIP_BRIER, color=MUTED, linestyle="--", linewidth=1)
        ax.annotate(
            "coin flip (always 50 %)",
            (1, COIN_FLIP_BRIER),
            xycoords=("axes fraction", "data"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=9,
            color=MUTED,
        )
        ax.plot(dates, [b for _, b, _ in scored], color=ACCENT, marker="o", markersize=4)
        ax.set_ylim(0, top)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        _date_axis(ax, first[0], last[0])
        ax.set_ylabel("Brier score (lower is better)")

    markup = svg.render(draw, size=_CHART_SIZE, title=title, description=description)
    return Chart(title=title, description=description, svg=markup, columns=columns, rows=rows)


# --- one forecast's probability --------------------------------------------------


def overdue_span(days: int) -> str:
    """How long past a deadline, as a reader says it: "12 days", "4 months", "6 years"."""
    if days < 60:
        amount, unit = days, "day"
    elif days < 730:
        amount, unit = days // 30, "month"
    else:
        amount, unit = days // 365, "year"
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def _outcome_sentence(
    outcome: str | None, known_on: date | None, deadline: date, today: date | None = None
) -> str:
    when = f" on {known_on.isoformat()}" if known_on else ""
    match (outcome or "").upper():
        case "YES":
            return f"It came true (outcome YES, known{when})."
        case "NO":
            return f"It did not happen (outcome NO, known{when})."
        case "ANNULLED":
            return f"It was annulled{when}, so it is not scored."
        case _ if today is not None and deadline < today:
            overdue = overdue_span((today - deadline).days)
            return (
                f"Not resolved yet: the deadline, {deadline.isoformat()}, passed {overdue} "
                "ago, and it awaits a reviewer's verdict."
            )
        case _:
            return f"Not resolved yet; the deadline is {deadline.isoformat()}."


def probability_history_chart(
    estimates: Sequence[tuple[date, float]],
    *,
    deadline: date,
    known_on: date | None,
    outcome: str | None,
    title: str,
    today: date | None = None,
) -> Chart:
    """The standing probability as a step line from the first estimate to the outcome.

    ``today`` lets an unresolved forecast's description say how long it is overdue.

    The line runs to ``known_on`` when the outcome is known, else to the
    deadline; YES is marked at 100 % and NO at 0 % on the day it became known.
    """
    columns = ["Date", "Probability"]
    ordered = sorted(estimates, key=lambda e: e[0])  # stable: same-day order is kept
    if not ordered:
        return Chart(title=title, description=NO_ESTIMATES, svg="", columns=columns, rows=[])
    rows = [[d.isoformat(), format_percent(p)] for d, p in ordered]
    first, last = ordered[0], ordered[-1]
    if len(ordered) == 1:
        story = (
            f"The probability was {format_percent(first[1])} from {first[0].isoformat()} "
            "(one estimate)."
        )
    else:
        story = (
            f"The probability was {format_percent(first[1])} on {first[0].isoformat()} and "
            f"{format_percent(last[1])} from {last[0].isoformat()} "
            f"(the latest of {len(ordered)} estimates)."
        )
    description = f"{story} {_outcome_sentence(outcome, known_on, deadline, today)}"
    end = max(known_on or deadline, last[0])
    verdict = (outcome or "").upper()

    def draw(figure: Figure) -> None:
        ax = svg.axes(figure, top=0.3)
        xs = _days([d for d, _ in ordered] + [end])
        ys = [p for _, p in ordered] + [last[1]]
        ax.axhline(0.5, color=LINE, linewidth=1)
        ax.step(xs, ys, where="post", color=ACCENT, label="Probability")
        ax.plot(
            xs[:-1],
            [p for _, p in ordered],
            linestyle="none",
            marker="o",
            markersize=4,
            color=ACCENT,
            clip_on=False,
        )
        if deadline >= first[0]:
            ax.axvline(_day(deadline), color=MUTED, linestyle="--", linewidth=1)
            ax.annotate(  # above the plot, clear of the line and the outcome
                "deadline",
                (_day(deadline), 1),
                xycoords=("data", "axes fraction"),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                color=MUTED,
            )
        if verdict in ("YES", "NO") and known_on is not None:
            happened = verdict == "YES"
            _outcome_marker(ax, known_on, happened)
        ax.set_ylim(-0.03, 1.03)
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.yaxis.set_major_formatter(FuncFormatter(_percent_axis))
        _date_axis(ax, first[0], max(end, deadline))
        ax.set_ylabel("Probability of YES")

    markup = svg.render(draw, size=_CHART_SIZE, title=title, description=description)
    return Chart(title=title, description=description, svg=markup, columns=columns, rows=rows)


def _outcome_marker(ax: Axes, known_on: date, happened: bool) -> None:
    y = 1.0 if happened else 0.0
    colour = YES_COLOUR if happened else NO_COLOUR
    ax.plot(
        [_day(known_on)],
        [y],
        linestyle="none",
        marker="^" if happened else "v",
        markersize=9,
        color=colour,
        clip_on=False,
    )
    ax.annotate(
        "YES" if happened else "NO",
        (_day(known_on), y),
        xytext=(-7, -4 if happened else 4),
        textcoords="offset points",
        ha="right",
        va="top" if happened else "bottom",
        fontsize=9,
        fontweight="bold",
        color=colour,
        annotation_clip=False,
    )


# --- sparkline -----------------------------------------------------------------------


def sparkline(values: Sequence[float | None], *, title: str) -> Chart:
    """An 80 × 20 px line of a scope's Brier history (oldest first) for leaderboards."""
    columns = ["Snapshot", "Brier score"]
    scored = [v for v in values if v is not None]
    if not scored:
        return Chart(title=title, description=NO_SCORES, svg="", columns=columns, rows=[])
    rows = [[str(i), format_brier(v)] for i, v in enumerate(scored, start=1)]
    if len(scored) == 1:
        description = f"Brier score {format_brier(scored[0])} (one snapshot); lower is better."
    else:
        description = (
            f"Brier score from {format_brier(scored[0])} to {format_brier(scored[-1])} over "
            f"{len(scored)} snapshots: {_trend(scored[0], scored[-1])} (lower is better)."
        )
    # Drawn by hand, not by matplotlib: a leaderboard has hundreds of these, and
    # a polyline costs microseconds where a matplotlib figure costs ~20 ms.
    low, high = min(scored), max(scored)
    pad = max((high - low) * 0.15, 0.01)
    width, height = SPARKLINE_PX
    left, right, top, bottom = 2.0, width - 4.0, 2.0, height - 2.0
    steps = max(len(scored) - 1, 1)

    def point(index: int, value: float) -> tuple[float, float]:
        x = left + (right - left) * index / steps
        y = bottom - (bottom - top) * (value - (low - pad)) / ((high + pad) - (low - pad))
        return round(x, 2), round(y, 2)

    points = [point(i, v) for i, v in enumerate(scored)]
    last_x, last_y = points[-1]
    body = (
        f'<polyline points="{" ".join(f"{x},{y}" for x, y in points)}" fill="none" '
        f'stroke="{ACCENT}" stroke-width="1.3"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="1.8" fill="{ACCENT}"/></svg>'
    )
    raw = f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width} {height}">' + body
    markup = svg.finish(raw, title=title, description=description, sparkline=True)
    return Chart(title=title, description=description, svg=markup, columns=columns, rows=rows)
