"""The charts the pages call: each built once and cached under a key that changes with
its data, so pages almost never render one."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import matplotlib as mpl
from django.core.cache import cache
from django.utils import timezone

from forecasts.web.charts.builders import (
    accuracy_over_time_chart,
    calibration_chart,
    probability_history_chart,
    sparkline,
)
from forecasts.web.charts.svg import Chart

if TYPE_CHECKING:
    from forecasts.core.models import Estimate, Forecast, Resolution
    from forecasts.scores.models import ScoreSnapshot

# Bump when the drawing code changes, so cached charts are redrawn.
CHART_VERSION: Final = 2
# Keys change with the data, so entries never go stale; they only age out.
CHART_CACHE_SECONDS: Final = 30 * 24 * 3600


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


def calibration_chart_of(bins: Sequence[Mapping[str, Any]], *, name: str) -> Chart:
    """The calibration chart of bins computed for the request (a filtered scorecard's),
    cached by the bins themselves: the same filter over the same outcomes draws once."""
    title = f"Calibration: {name}"
    key = _content_key("calibration-bins", title, [sorted(b.items()) for b in bins])
    return cached_chart(key, lambda: calibration_chart(bins, title=title))


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
    # An overdue forecast's description says for how long: then today is part of what it
    # shows (and of its key).
    today = timezone.localdate()
    overdue_on = today if resolution is None and forecast.resolve_by < today else None
    key = _content_key(
        "probability",
        forecast.pk,
        title,
        points,
        forecast.resolve_by,
        known_on,
        outcome,
        overdue_on,
    )
    return cached_chart(
        key,
        lambda: probability_history_chart(
            points,
            deadline=forecast.resolve_by,
            known_on=known_on,
            outcome=outcome,
            title=title,
            today=overdue_on,
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
