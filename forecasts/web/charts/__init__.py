"""Charts drawn on the server as inline SVG with matplotlib's object API (never pyplot).

- :mod:`~forecasts.web.charts.svg`: the rendering core: fixed settings, a lock, and
  matplotlib's output made safe, deterministic and accessible;
- :mod:`~forecasts.web.charts.builders`: the four charts, from plain data;
- :mod:`~forecasts.web.charts.cached`: what the pages call, each chart cached by its data.

The names below are the package's public face; the pages import them from here.
"""

from forecasts.web.charts.builders import (
    COIN_FLIP_BRIER,
    NO_ESTIMATES,
    NO_RESOLVED,
    NO_SCORES,
    accuracy_over_time_chart,
    calibration_chart,
    format_brier,
    format_percent,
    probability_history_chart,
    sparkline,
)
from forecasts.web.charts.cached import (
    CHART_CACHE_SECONDS,
    CHART_VERSION,
    brier_sparkline,
    brier_sparklines,
    cached_chart,
    cached_charts,
    calibration_chart_of,
    forecast_probability_chart,
    snapshot_calibration_chart,
    snapshot_history_chart,
)
from forecasts.web.charts.svg import SPARKLINE_PX, SVG_NS, XLINK_NS, Chart

__all__ = [
    "CHART_CACHE_SECONDS",
    "CHART_VERSION",
    "COIN_FLIP_BRIER",
    "NO_ESTIMATES",
    "NO_RESOLVED",
    "NO_SCORES",
    "SPARKLINE_PX",
    "SVG_NS",
    "XLINK_NS",
    "Chart",
    "accuracy_over_time_chart",
    "brier_sparkline",
    "brier_sparklines",
    "cached_chart",
    "cached_charts",
    "calibration_chart",
    "calibration_chart_of",
    "forecast_probability_chart",
    "format_brier",
    "format_percent",
    "probability_history_chart",
    "snapshot_calibration_chart",
    "snapshot_history_chart",
    "sparkline",
]
