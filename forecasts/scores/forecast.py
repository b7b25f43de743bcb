"""One forecast's scores: the one place a single forecast's Brier score is computed.

Lists, the forecast page, the API, the CSV export and the digests all call
:func:`brier`; the snapshots score many forecasts at once with the same formula
(:func:`forecasts.scores.maths.brier_score`, checked against scikit-learn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forecasts.core.models import Estimate, Forecast, Outcome, Resolution
from forecasts.scores.time_averaged import time_averaged_brier


def brier(probability: float | None, outcome: str | None) -> float | None:
    """One forecast's Brier score at publication, (p − o)²; None when it is not scored
    (no estimate, unresolved or annulled). Plain arithmetic: an export calls it per row,
    and numpy's overhead for one value would cost seconds there."""
    if probability is None or outcome not in (Outcome.YES, Outcome.NO):
        return None
    return (probability - (1.0 if outcome == Outcome.YES else 0.0)) ** 2


def published_brier(forecast: Any) -> float | None:
    """:func:`brier` of a forecast annotated by ``with_status`` (``published_probability``
    and ``outcome``)."""
    return brier(
        getattr(forecast, "published_probability", None), getattr(forecast, "outcome", None)
    )


@dataclass(frozen=True)
class ForecastScore:
    """One resolved forecast's scores: Brier at publication, and time-averaged where updated."""

    published_probability: float
    outcome: int
    brier: float
    time_averaged_brier: float | None


def forecast_score(
    *, forecast: Forecast, estimates: list[Estimate], resolution: Resolution | None
) -> ForecastScore | None:
    """None when there is nothing to score: unresolved, annulled, or no estimate."""
    if resolution is None or not estimates:
        return None
    ordered = sorted(estimates, key=lambda estimate: (estimate.made_on, estimate.pk))
    published = ordered[0].probability
    score = brier(published, resolution.outcome)
    if score is None:
        return None
    outcome = 1 if resolution.outcome == Outcome.YES else 0
    time_averaged = None
    if len(ordered) > 1:
        time_averaged = time_averaged_brier(
            [(estimate.made_on, estimate.probability) for estimate in ordered],
            outcome,
            ordered[0].made_on,
            min(resolution.known_on, forecast.resolve_by),
        )
    return ForecastScore(
        published_probability=published,
        outcome=outcome,
        brier=score,
        time_averaged_brier=time_averaged,
    )
