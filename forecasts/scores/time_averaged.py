"""Time-averaged Brier score (Good Judgment style), for one forecast or many at once.

Each day from the first estimate (or ``start``, if later) up to but not including
``end`` (the day the outcome became known, or the deadline if earlier) is scored with
the estimate standing that day, and the forecast's score is the mean over those days.
Days before the first estimate never count. A forecast whose outcome became known the
day it was made (so no day qualifies) is scored on that single day.

Pure, like :mod:`forecasts.scores.maths`, and with its conventions for input.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from forecasts.scores.validation import (
    FloatArray,
    as_ints,
    as_outcome,
    as_outcomes,
    as_probabilities,
    same_length,
)


def _as_day(name: str, value: object) -> date:
    # datetime is a subclass of date but compares with neither dates nor days.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(f"{name} = {value!r} is not a datetime.date")
    return value


def time_averaged_brier(
    estimates: Iterable[tuple[date, float]],
    outcome: float,
    start: date,
    end: date,
) -> float:
    """Mean daily Brier score of the estimate standing on each scored day.

    The scored days d satisfy max(start, first estimate day) <= d < end. The
    estimate standing on d is the latest one made on or before d; of several
    made on one day, the later one in ``estimates`` stands. Estimates made on or
    after ``end`` therefore never count. If no day qualifies (the outcome was
    known by the day of the first estimate, or ``start`` is not before ``end``),
    the single day max(start, first estimate day) is scored instead, so the
    score is defined for every forecast with at least one estimate.

    This is the reference implementation (one day at a time);
    ``time_averaged_briers`` is the vectorised form for many forecasts.
    """
    items = list(estimates)
    if not items:
        raise ValueError("estimates is empty")
    for i, item in enumerate(items):
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise ValueError(f"estimates[{i}] = {item!r} is not a (date, probability) pair")
    days = [_as_day(f"estimates[{i}] date", day) for i, (day, _) in enumerate(items)]
    probs = as_probabilities("estimate probabilities", [prob for _, prob in items])
    o = as_outcome(outcome)
    start = _as_day("start", start)
    end = _as_day("end", end)

    # A stable sort keeps same-day estimates in input order; the last one stands.
    ordered = sorted(zip(days, probs.tolist(), strict=True), key=lambda item: item[0])
    first_day = ordered[0][0].toordinal()
    first_scored = max(start.toordinal(), first_day)
    last_scored = max(end.toordinal(), first_scored + 1)  # exclusive

    total = 0.0
    standing: float | None = None
    position = 0
    for day in range(first_scored, last_scored):
        while position < len(ordered) and ordered[position][0].toordinal() <= day:
            standing = ordered[position][1]
            position += 1
        assert standing is not None  # first_scored is on or after the first estimate
        total += (standing - o) ** 2
    return total / (last_scored - first_scored)


def time_averaged_briers(
    forecast_index: npt.ArrayLike,
    estimate_days: npt.ArrayLike,
    estimate_probabilities: npt.ArrayLike,
    outcomes: npt.ArrayLike,
    starts: npt.ArrayLike,
    ends: npt.ArrayLike,
) -> FloatArray:
    """Time-averaged Brier for many forecasts at once (same rules as ``time_averaged_brier``).

    Estimates (length E, any order) are given by ``forecast_index`` (0..F−1),
    ``estimate_days`` (integer day numbers such as ``date.toordinal()``) and
    ``estimate_probabilities``. ``outcomes``, ``starts`` and ``ends`` have one
    entry per forecast (length F, days as integer day numbers). Every forecast
    needs at least one estimate. Returns a float64 array of length F.

    Each estimate stands from its day until the next estimate of the same
    forecast (or forever), so its weight is the overlap of that span with the
    forecast's scored days; no Python loop runs per forecast or per day.
    """
    index = as_ints("forecast_index", forecast_index)
    days = as_ints("estimate_days", estimate_days)
    probs = as_probabilities("estimate_probabilities", estimate_probabilities)
    same_length(forecast_index=index, estimate_days=days, estimate_probabilities=probs)
    o = as_outcomes("outcomes", outcomes)
    start_days = as_ints("starts", starts)
    end_days = as_ints("ends", ends)
    same_length(outcomes=o, starts=start_days, ends=end_days)

    n_forecasts = o.size
    bad = np.flatnonzero((index < 0) | (index >= n_forecasts))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"forecast_index[{i}] = {index[i]} is outside [0, {n_forecasts - 1}] "
            f"for {n_forecasts} forecasts"
        )
    estimate_counts = np.bincount(index, minlength=n_forecasts)
    missing = np.flatnonzero(estimate_counts == 0)
    if missing.size:
        raise ValueError(f"forecast {int(missing[0])} has no estimates")

    # lexsort is stable: by forecast, then day, then input order (the later one stands).
    order = np.lexsort((days, index))
    index, days, probs = index[order], days[order], probs[order]

    group_starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    first_day = days[group_starts]  # groups are in forecast order 0..F-1
    first_scored = np.maximum(start_days, first_day)
    last_scored = np.maximum(end_days, first_scored + 1)  # exclusive

    same_forecast_next = np.r_[index[1:] == index[:-1], False]
    next_day = np.where(same_forecast_next, np.r_[days[1:], 0], last_scored[index])
    span_from = np.maximum(days, first_scored[index])
    span_to = np.minimum(next_day, last_scored[index])
    standing_days = np.maximum(span_to - span_from, 0)

    squared_errors = (probs - o[index]) ** 2
    totals = np.bincount(index, weights=standing_days * squared_errors, minlength=n_forecasts)
    result: FloatArray = totals / (last_scored - first_scored)
    return result
