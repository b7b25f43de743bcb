"""Tests for forecasts.scores.time_averaged: the scalar reference by hand, and the
vectorised form against it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from forecasts.scores.time_averaged import time_averaged_brier, time_averaged_briers
from tests.scores.strategies import PROPERTY, exactly, probability

DAY0 = date(2025, 3, 1)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def test_time_averaged_brier_hand_case() -> None:
    estimates = [(day(0), 0.4), (day(6), 0.7)]
    expected = (6 * 0.36 + 3 * 0.09) / 9
    assert expected == exactly(0.27)
    assert time_averaged_brier(estimates, 1, day(0), day(9)) == exactly(0.27)
    assert time_averaged_brier(estimates[::-1], True, day(0), day(9)) == exactly(0.27)


def test_time_averaged_brier_when_resolved_the_day_it_was_made() -> None:
    assert time_averaged_brier([(day(0), 0.8)], 0, day(0), day(0)) == exactly(0.64)
    # Of two estimates made that day, the later one stands.
    same_day = [(day(0), 0.8), (day(0), 0.3)]
    assert time_averaged_brier(same_day, 0, day(0), day(0)) == exactly(0.09)


def test_time_averaged_brier_ignores_estimates_on_or_after_end() -> None:
    estimates = [(day(0), 0.4), (day(9), 0.0), (day(12), 1.0)]
    assert time_averaged_brier(estimates, 1, day(0), day(9)) == exactly(0.36)


def test_time_averaged_brier_does_not_count_days_before_the_first_estimate() -> None:
    estimates = [(day(0), 0.4), (day(2), 0.9)]
    expected = (2 * 0.36 + 2 * 0.01) / 4
    assert time_averaged_brier(estimates, 1, day(-4), day(4)) == exactly(expected)


def test_time_averaged_brier_starts_at_start_when_it_is_later() -> None:
    estimates = [(day(0), 0.4), (day(2), 0.9)]
    expected = (0.36 + 2 * 0.01) / 3
    assert time_averaged_brier(estimates, 1, day(1), day(4)) == exactly(expected)


def test_time_averaged_brier_same_day_revision_stands_from_that_day() -> None:
    estimates = [(day(0), 0.4), (day(2), 0.9), (day(2), 0.6)]
    expected = (2 * 0.36 + 2 * 0.16) / 4
    assert time_averaged_brier(estimates, 1, day(0), day(4)) == exactly(expected)


def test_time_averaged_briers_hand_cases_in_one_batch() -> None:
    # Forecast 0 is the 0.27 case; forecast 1 resolved the day it was made; input interleaved.
    result = time_averaged_briers(
        forecast_index=[0, 1, 0, 1],
        estimate_days=[6, 20, 0, 20],
        estimate_probabilities=[0.7, 0.8, 0.4, 0.3],
        outcomes=[1, 0],
        starts=[0, 20],
        ends=[9, 20],
    )
    assert result.dtype == np.float64
    assert result.tolist() == exactly([0.27, 0.09])


@st.composite
def forecast_batches(
    draw: st.DrawFn,
) -> tuple[list[tuple[int, int, float]], list[int], list[int], list[int]]:
    """Interleaved estimates (forecast, day, probability) plus per-forecast outcome/start/end."""
    raw = draw(
        st.lists(
            st.tuples(st.integers(0, 9), st.integers(0, 30), probability), min_size=1, max_size=80
        )
    )
    ids = {f: i for i, f in enumerate(sorted({f for f, _, _ in raw}))}
    estimates = [(ids[f], d, p) for f, d, p in raw]
    n = len(ids)
    outcomes = draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))
    starts = draw(st.lists(st.integers(-5, 35), min_size=n, max_size=n))
    ends = draw(st.lists(st.integers(-5, 40), min_size=n, max_size=n))
    return estimates, outcomes, starts, ends


@PROPERTY
@given(forecast_batches())
def test_time_averaged_briers_agrees_with_the_scalar_reference(
    batch: tuple[list[tuple[int, int, float]], list[int], list[int], list[int]],
) -> None:
    estimates, outcomes, starts, ends = batch
    origin = DAY0.toordinal()
    result = time_averaged_briers(
        forecast_index=np.array([f for f, _, _ in estimates]),
        estimate_days=np.array([origin + d for _, d, _ in estimates]),
        estimate_probabilities=np.array([p for _, _, p in estimates]),
        outcomes=np.array(outcomes),
        starts=np.array([origin + s for s in starts]),
        ends=np.array([origin + e for e in ends]),
    )
    assert result.shape == (len(outcomes),)
    for f, outcome in enumerate(outcomes):
        own = [(day(d), p) for g, d, p in estimates if g == f]
        scalar = time_averaged_brier(own, outcome, day(starts[f]), day(ends[f]))
        assert 0.0 <= scalar <= 1.0
        assert result[f] == exactly(scalar)


def test_time_averaged_briers_rejects_a_forecast_without_estimates() -> None:
    with pytest.raises(ValueError, match="forecast 1 has no estimates"):
        time_averaged_briers([0, 2], [0, 0], [0.5, 0.5], [1, 0, 1], [0, 0, 0], [1, 1, 1])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ([0, 3], [0, 0], [0.5, 0.5], [1], [0], [1]),
            r"forecast_index\[1\] = 3 is outside \[0, 0\]",
        ),
        (([0, -1], [0, 0], [0.5, 0.5], [1], [0], [1]), r"forecast_index\[1\] = -1 is outside"),
        (([0, 0], [0], [0.5, 0.5], [1], [0], [1]), "length mismatch: forecast_index has 2, est"),
        (([0], [0], [0.5], [1, 0], [0], [1]), "length mismatch: outcomes has 2, starts has 1"),
        (([0], [0.5], [0.5], [1], [0], [1]), "estimate_days must hold numbers, got dtype float64"),
        (
            ([0], [0], [1.5], [1], [0], [1]),
            r"estimate_probabilities\[0\] = 1.5 is outside \[0, 1\]",
        ),
        (([0], [0], [0.5], [2], [0], [1]), r"outcomes\[0\] = 2.0 is not 0 or 1"),
        (([], [], [], [1], [0], [1]), "forecast_index is empty"),
    ],
)
def test_time_averaged_briers_rejects_bad_input(
    arguments: tuple[object, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        time_averaged_briers(*arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("estimates", "outcome", "start", "message"),
    [
        ([], 1, DAY0, "estimates is empty"),
        ([(DAY0, 1.5)], 1, DAY0, r"estimate probabilities\[0\] = 1.5 is outside \[0, 1\]"),
        ([(DAY0, 0.5)], 0.5, DAY0, r"outcome = 0.5 is not 0 or 1"),
        ([(DAY0, 0.5)], 1, datetime(2025, 3, 1), "start = .* is not a datetime.date"),
        ([("2025-03-01", 0.5)], 1, DAY0, r"estimates\[0\] date = '2025-03-01' is not a date"),
        ([(DAY0,)], 1, DAY0, r"estimates\[0\] = .* is not a \(date, probability\) pair"),
    ],
)
def test_time_averaged_brier_rejects_bad_input(
    estimates: list[tuple[object, ...]], outcome: float, start: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        time_averaged_brier(estimates, outcome, start, day(5))  # type: ignore[arg-type]
