"""Charts drawn on the server as inline SVG with matplotlib's object API.

Every chart is a :class:`Chart`: a title, a one- or two-sentence text
alternative, the SVG markup and the plotted data as a table, so each chart can
be read without seeing it (``templates/forecasts/_chart.html`` renders all four).

The SVG is safe to insert with ``|safe``:

- it is built only from numbers and our own fixed labels; the only user-typed
  strings (titles, which come from forecaster, source and tag names) go into
  ``<title>``/``<desc>`` escaped, and are never drawn by matplotlib (so a ``$``
  in a name is never parsed as mathtext);
- it holds no ``<script>``, no ``<image>``, no link and no URL other than the
  SVG and XLink namespace names (matplotlib's RDF metadata is switched off and
  the result is checked before it is returned);
- it is deterministic: the same input gives byte-identical markup (fixed
  ``svg.hashsalt``, no date), so it can be cached and compared in tests;
- text stays text (``svg.fonttype = "none"``), and every ``id`` is prefixed
  with a digest of the chart, so several charts on one page never clash;
- the root keeps its ``viewBox`` with ``width="100%"`` and no height, so it
  scales to a phone (sparklines keep a fixed 80 × 20 px size instead), and has
  ``role="img"`` and ``aria-labelledby`` pointing at its ``<title>``.

Empty input (nothing resolved yet, no estimate) gives a Chart whose ``svg`` is
the empty string, whose description says so ("No resolved forecasts yet.") and
whose table has its columns but no rows; the template then shows only the title
and that sentence.

Rendering holds a process-wide lock: matplotlib's global settings (read by the
SVG backend) and its caches are not thread-safe, and every chart is cached by
:func:`cached_chart`, so pages almost never render at all.
"""

from __future__ import annotations

import hashlib
import html
import io
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import numpy.typing as npt
from django.core.cache import cache
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

    from forecasts.core.models import Estimate, Forecast, Resolution
    from forecasts.scores.models import ScoreSnapshot

# Bump when the drawing code changes, so cached charts are redrawn.
CHART_VERSION: Final = 1
# Keys change with the data, so entries never go stale; they only age out.
CHART_CACHE_SECONDS: Final = 30 * 24 * 3600
COIN_FLIP_BRIER: Final = 0.25

NO_RESOLVED: Final = "No resolved forecasts yet."
NO_ESTIMATES: Final = "No estimates yet."
NO_SCORES: Final = "No scores yet."

# The site's palette (static/css/site.css).
FG: Final = "#1b1f24"
MUTED: Final = "#5b6470"
LINE: Final = "#d8dde3"
ACCENT: Final = "#0b5cad"
YES_COLOUR: Final = "#1a7f37"
NO_COLOUR: Final = "#b42318"

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"

# Chart sizes in inches (the SVG's user units are points: 72 per inch).
_CHART_SIZE: Final = (5.6, 3.8)
_CALIBRATION_SIZE: Final = (5.2, 4.4)
SPARKLINE_PX: Final = (80, 20)

_RC: Final[dict[RcKeyType, Any]] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "forecast-tracker-charts",
    "svg.id": None,
    "svg.image_inline": True,
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "text.color": FG,
    "axes.labelcolor": FG,
    "axes.edgecolor": MUTED,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": FG,
    "ytick.labelcolor": FG,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": LINE,
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.edgecolor": "none",
    "lines.linewidth": 1.8,
    "lines.solid_capstyle": "round",
    "axes.formatter.use_mathtext": False,
}
# No <metadata>: matplotlib's would carry a date, its version and URLs.
_METADATA: Final[dict[str, Any]] = {"Date": None, "Creator": None, "Format": None, "Type": None}

_RENDER_LOCK = threading.Lock()
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_ROOT_TAG = re.compile(r"<svg\b[^>]*>")
_VIEWBOX = re.compile(r'viewBox="([0-9. ]+)"')
_DEFAULT_STYLE = re.compile(r'<defs>\s*<style type="text/css">[^<]*</style>\s*</defs>\s*')
_ID_ATTR = re.compile(r'\sid="([^"]*)"')
_URL_REF = re.compile(r"url\(#([^)\"'\s]+)\)")
_HREF_REF = re.compile(r'href="#([^"]+)"')
# What the body must never hold: active or embedding elements, links out, event handlers.
_FORBIDDEN = re.compile(
    r"<(?:script|image|foreignObject|a|iframe|style)\b|href=\"[^#]|https?:|javascript:|\son\w+=",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Chart:
    """A rendered chart with everything needed to read it without seeing it."""

    title: str
    description: str  # the text alternative: one or two sentences
    svg: str  # inline SVG markup, safe for |safe; "" when there is nothing to draw
    columns: list[str]  # the data table's header
    rows: list[list[str]]  # the data table, formatted for display


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


def _clean(text: str) -> str:
    """User text made safe for XML: characters XML 1.0 forbids are dropped."""
    return _CONTROL_CHARS.sub("", str(text))


def _escape(text: str) -> str:
    return html.escape(_clean(text), quote=True)


def _percent_axis(value: float, _position: float | None = None) -> str:
    return f"{round(value * 100)} %"


# --- rendering ---------------------------------------------------------------


def _render(
    draw: Callable[[Figure], None],
    *,
    size: tuple[float, float],
    title: str,
    description: str,
    sparkline: bool = False,
) -> str:
    """Draw a figure under the lock with our settings, and return the finished inline SVG."""
    buffer = io.StringIO()
    with _RENDER_LOCK, mpl.rc_context():
        # Start from matplotlib's defaults, whatever anything else set globally.
        mpl.rcdefaults()
        mpl.rcParams.update(_RC)
        # Fixed margins, no layout engine: a layout pass would draw everything twice.
        figure = Figure(figsize=size)
        FigureCanvasSVG(figure)
        draw(figure)
        figure.savefig(buffer, format="svg", metadata=_METADATA)
    return _finish(buffer.getvalue(), title=title, description=description, sparkline=sparkline)


def _axes(
    figure: Figure,
    *,
    left: float = 0.85,
    bottom: float = 0.5,
    right: float = 0.22,
    top: float = 0.18,
) -> Axes:
    """One axes with margins in inches, room enough for our tick and axis labels."""
    width, height = figure.get_size_inches()
    return figure.add_axes(
        (
            left / width,
            bottom / height,
            1 - (left + right) / width,
            1 - (bottom + top) / height,
        )
    )


def _finish(raw: str, *, title: str, description: str, sparkline: bool) -> str:
    """matplotlib's SVG document → an inline, accessible, self-contained <svg> element."""
    root = _ROOT_TAG.search(raw)
    if root is None:  # pragma: no cover - matplotlib always writes one
        raise RuntimeError("matplotlib produced no <svg> element")
    viewbox = _VIEWBOX.search(root.group(0))
    if viewbox is None:  # pragma: no cover
        raise RuntimeError("matplotlib's <svg> has no viewBox")
    body = _DEFAULT_STYLE.sub("", raw[root.end() :], count=1).strip()

    # Keep only the ids something refers to, each prefixed with a digest of the chart.
    uid = "chart-" + hashlib.sha256((raw + "\0" + title).encode()).hexdigest()[:12]
    referenced = set(_URL_REF.findall(body)) | set(_HREF_REF.findall(body))
    body = _ID_ATTR.sub(
        lambda m: f' id="{uid}-{m[1]}"' if m[1] in referenced else "",
        body,
    )
    body = _URL_REF.sub(lambda m: f"url(#{uid}-{m[1]})", body)
    body = _HREF_REF.sub(lambda m: f'href="#{uid}-{m[1]}"', body)
    if _FORBIDDEN.search(body):  # pragma: no cover - defence in depth
        raise RuntimeError("chart SVG contains a reference or element it must not have")

    if sparkline:
        width, height = SPARKLINE_PX
        size = f'width="{width}" height="{height}" class="sparkline"'
    else:
        size = 'width="100%" class="chart-svg"'
    head = (
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" version="1.1" '
        f'viewBox="{viewbox[1]}" {size} preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-labelledby="{uid}-title" '
        f'stroke-linejoin="round" stroke-linecap="butt">'
        f'<title id="{uid}-title">{_escape(title)}</title>'
        f'<desc id="{uid}-desc">{_escape(description)}</desc>\n'
    )
    return head + body


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
    or :class:`forecasts.scoring.CalibrationBin` objects. Empty bins are skipped.
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
        ax = _axes(figure, bottom=0.8, top=0.3)
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

    svg = _render(draw, size=_CALIBRATION_SIZE, title=title, description=description)
    return Chart(title=title, description=description, svg=svg, columns=columns, rows=rows)


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
        ax = _axes(figure)
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

    svg = _render(draw, size=_CHART_SIZE, title=title, description=description)
    return Chart(title=title, description=description, svg=svg, columns=columns, rows=rows)


# --- one forecast's probability --------------------------------------------------


def _outcome_sentence(outcome: str | None, known_on: date | None, deadline: date) -> str:
    when = f" on {known_on.isoformat()}" if known_on else ""
    match (outcome or "").upper():
        case "YES":
            return f"It came true (outcome YES, known{when})."
        case "NO":
            return f"It did not happen (outcome NO, known{when})."
        case "ANNULLED":
            return f"It was annulled{when}, so it is not scored."
        case _:
            return f"Not resolved yet; the deadline is {deadline.isoformat()}."


def probability_history_chart(
    estimates: Sequence[tuple[date, float]],
    *,
    deadline: date,
    known_on: date | None,
    outcome: str | None,
    title: str,
) -> Chart:
    """The standing probability as a step line from the first estimate to the outcome.

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
    description = f"{story} {_outcome_sentence(outcome, known_on, deadline)}"
    end = max(known_on or deadline, last[0])
    verdict = (outcome or "").upper()

    def draw(figure: Figure) -> None:
        ax = _axes(figure, top=0.3)
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

    svg = _render(draw, size=_CHART_SIZE, title=title, description=description)
    return Chart(title=title, description=description, svg=svg, columns=columns, rows=rows)


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
    svg = _finish(raw, title=title, description=description, sparkline=True)
    return Chart(title=title, description=description, svg=svg, columns=columns, rows=rows)


# --- caching ---------------------------------------------------------------------------


def _cache_key(key: str) -> str:
    digest = hashlib.sha256(f"{CHART_VERSION}:{mpl.__version__}:{key}".encode()).hexdigest()
    return f"charts:{digest[:40]}"


def cached_chart(key: str, build: Callable[[], Chart]) -> Chart:
    """The chart cached under ``key`` (default cache), built and stored on a miss.

    ``key`` must change whenever the chart would: include the data's identity
    and version (a snapshot's scope, ``as_of`` and ``computed_at``, a forecast's
    estimates and resolution) and the title. The key is hashed with
    :data:`CHART_VERSION` and matplotlib's version, so any string will do.
    """
    full_key = _cache_key(key)
    found = cache.get(full_key)
    if isinstance(found, Chart):
        return found
    chart = build()
    cache.set(full_key, chart, CHART_CACHE_SECONDS)
    return chart


def cached_charts(builds: Sequence[tuple[str, Callable[[], Chart]]]) -> list[Chart]:
    """Many charts in one cache round trip (``get_many``/``set_many``), in the given order.

    For a leaderboard's sparklines: one lookup per page, not one per row.
    """
    keys = [_cache_key(key) for key, _ in builds]
    found = cache.get_many(keys)
    missing: dict[str, Chart] = {}
    charts = []
    for full_key, (_, build) in zip(keys, builds, strict=True):
        chart = found.get(full_key)
        if not isinstance(chart, Chart):
            chart = missing.get(full_key) or build()
            missing[full_key] = chart
        charts.append(chart)
    if missing:
        cache.set_many(missing, CHART_CACHE_SECONDS)
    return charts


# --- what the pages call -----------------------------------------------------------------


def _content_key(kind: str, *parts: object) -> str:
    return repr((kind, *parts))


def snapshot_calibration_chart(snapshot: ScoreSnapshot, *, name: str) -> Chart:
    """The calibration chart of one snapshot (a scope as of a date), cached."""
    title = f"Calibration: {name}"
    key = _content_key(
        "calibration",
        snapshot.scope_kind,
        snapshot.scope_id,
        snapshot.as_of,
        snapshot.computed_at,
        title,
    )
    return cached_chart(key, lambda: calibration_chart(snapshot.calibration, title=title))


def snapshot_history_chart(history: Sequence[ScoreSnapshot], *, name: str) -> Chart:
    """Accuracy over time from a scope's snapshots (oldest first), cached."""
    title = f"Accuracy over time: {name}"
    points = [(s.as_of, s.brier, s.resolved_count) for s in history]
    key = _content_key("accuracy", title, points)
    return cached_chart(key, lambda: accuracy_over_time_chart(points, title=title))


def forecast_probability_chart(
    forecast: Forecast, estimates: Sequence[Estimate], resolution: Resolution | None
) -> Chart:
    """A forecast's probability history and outcome, cached; runs no query.

    Pass the estimates and current resolution the page already loaded.
    """
    title = "Probability over time"
    points = [
        (e.made_on, e.probability) for e in sorted(estimates, key=lambda e: (e.made_on, e.pk))
    ]
    known_on = resolution.known_on if resolution else None
    outcome = resolution.outcome if resolution else None
    key = _content_key(
        "probability", forecast.pk, title, points, forecast.resolve_by, known_on, outcome
    )
    return cached_chart(
        key,
        lambda: probability_history_chart(
            points, deadline=forecast.resolve_by, known_on=known_on, outcome=outcome, title=title
        ),
    )


def _sparkline_build(history: Sequence[float | None], name: str) -> tuple[str, Callable[[], Chart]]:
    title = f"Brier score history: {name}"
    values = list(history)
    return _content_key("sparkline", title, values), lambda: sparkline(values, title=title)


def brier_sparkline(history: Sequence[float | None], *, name: str) -> Chart:
    """A leaderboard row's sparkline of Brier scores (oldest first), cached."""
    return cached_chart(*_sparkline_build(history, name))


def brier_sparklines(rows: Sequence[tuple[str, Sequence[float | None]]]) -> list[Chart]:
    """Sparklines for a whole leaderboard, ``(name, history)`` per row, in one cache lookup."""
    return cached_charts([_sparkline_build(history, name) for name, history in rows])
