"""The charts' SVG core: matplotlib's object API under a lock with fixed settings, and its
output made into an inline ``<svg>`` element that is safe and accessible.

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

Rendering holds a process-wide lock: matplotlib's global settings (read by the
SVG backend) and its caches are not thread-safe, and every chart is cached
(:mod:`forecasts.web.charts.cached`), so pages almost never render at all.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import matplotlib as mpl
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType

# The site's palette (static/css/site.css).
FG: Final = "#1b1f24"
MUTED: Final = "#5b6470"
LINE: Final = "#d8dde3"
ACCENT: Final = "#0b5cad"
YES_COLOUR: Final = "#1a7f37"
NO_COLOUR: Final = "#b42318"

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
# A sparkline keeps a fixed size in pixels; the other charts scale to their container.
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


def _clean(text: str) -> str:
    """User text made safe for XML: characters XML 1.0 forbids are dropped."""
    return _CONTROL_CHARS.sub("", str(text))


def _escape(text: str) -> str:
    return html.escape(_clean(text), quote=True)


# --- rendering ---------------------------------------------------------------


def render(
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
    return finish(buffer.getvalue(), title=title, description=description, sparkline=sparkline)


def axes(
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


def finish(raw: str, *, title: str, description: str, sparkline: bool) -> str:
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
