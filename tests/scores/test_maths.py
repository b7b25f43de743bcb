"""Tests for forecasts.scores.maths: pure maths, checked against scikit-learn and by hand.

No Django and no database: run with ``pytest tests/scores/test_maths.py -p no:django``.
The time-averaged and grouped scores have test files of their own.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sklearn_log_loss

from forecasts.scores.maths import (
    BASE_RATE,
    COIN_FLIP,
    Z_95,
    brier_score,
    brier_skill_score,
    calibration_bins,
    log_loss,
    murphy_decomposition,
    phrase_calibration,
    wilson_interval,
)
from tests.scores.strategies import EPS, PROPERTY, exactly, scored_forecasts


def like_sklearn(expected: object) -> Any:
    """The tolerance for agreeing with scikit-learn."""
    return pytest.approx(expected, abs=1e-9, rel=0)


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    """(k + z²/2 ∓ z √(k(n − k)/n + z²/4)) / (n + z²): the count form of Wilson's interval."""
    z = 1.959963984540054
    centre = k + z * z / 2
    spread = z * math.sqrt(k * (n - k) / n + z * z / 4)
    return (centre - spread) / (n + z * z), (centre + spread) / (n + z * z)


# --- Brier and log loss -----------------------------------------------------


@PROPERTY
@given(scored_forecasts())
def test_brier_score_matches_sklearn(data: tuple[list[float], list[int]]) -> None:
    probabilities, outcomes = data
    expected = brier_score_loss(outcomes, probabilities, labels=[0, 1])
    assert brier_score(probabilities, outcomes) == like_sklearn(expected)


def test_brier_score_by_hand() -> None:
    assert brier_score([0.5, 0.5], [0, 1]) == exactly(0.25)
    assert brier_score([0.9, 0.2, 1.0], [True, False, False]) == exactly((0.01 + 0.04 + 1.0) / 3)


@PROPERTY
@given(scored_forecasts())
def test_log_loss_matches_sklearn(data: tuple[list[float], list[int]]) -> None:
    probabilities, outcomes = data
    expected = sklearn_log_loss(outcomes, probabilities, labels=[0, 1])
    assert log_loss(probabilities, outcomes) == like_sklearn(expected)


def test_log_loss_clips_certain_forecasts_with_float64_eps() -> None:
    probabilities, outcomes = [0.0, 1.0, 1.0, 0.0], [1, 0, 1, 0]
    by_hand = (-math.log(EPS) * 2 - math.log(1 - EPS) * 2) / 4
    assert log_loss(probabilities, outcomes) == exactly(by_hand)
    assert log_loss(probabilities, outcomes) == like_sklearn(
        sklearn_log_loss(outcomes, probabilities, labels=[0, 1])
    )


# --- calibration ------------------------------------------------------------


@PROPERTY
@given(scored_forecasts(), st.sampled_from([10, 10, 1, 2, 3, 5, 7, 20]))
def test_calibration_bins_match_calibration_curve(
    data: tuple[list[float], list[int]], n_bins: int
) -> None:
    probabilities, outcomes = data
    bins = calibration_bins(probabilities, outcomes, n_bins=n_bins)

    assert len(bins) == n_bins
    assert sum(b.count for b in bins) == len(probabilities)
    assert bins[0].lower == 0.0
    assert bins[-1].upper == 1.0
    assert all(a.upper == b.lower for a, b in itertools.pairwise(bins))

    prob_true, prob_pred = calibration_curve(
        outcomes, probabilities, n_bins=n_bins, strategy="uniform"
    )
    filled = [b for b in bins if b.count > 0]
    assert [b.observed_frequency for b in filled] == like_sklearn(list(prob_true))
    assert [b.mean_probability for b in filled] == like_sklearn(list(prob_pred))

    for i, b in enumerate(bins):
        # Independently of searchsorted: (lower, upper], with 0 itself in the first bin.
        members = [
            (p, o)
            for p, o in zip(probabilities, outcomes, strict=True)
            if b.lower < p <= b.upper or (i == 0 and p == 0.0)
        ]
        assert b.count == len(members)
        if b.count == 0:
            assert (b.mean_probability, b.observed_frequency) == (None, None)
            assert (b.interval_low, b.interval_high) == (None, None)
        else:
            happened = sum(o for _, o in members)
            assert b.interval_low is not None
            assert b.interval_high is not None
            assert b.observed_frequency is not None
            assert 0.0 <= b.interval_low <= b.observed_frequency <= b.interval_high <= 1.0
            low, high = wilson_by_hand(happened, b.count)
            assert (b.interval_low, b.interval_high) == exactly((max(low, 0.0), min(high, 1.0)))


def test_calibration_bins_assign_edges_like_sklearn() -> None:
    probabilities = [0.0, 0.1, 0.15, 0.3, 0.7, 0.7000000000000001, 1.0]
    bins = calibration_bins(probabilities, [0] * len(probabilities))
    assert [b.count for b in bins] == [2, 1, 1, 0, 0, 0, 2, 0, 0, 1]


def test_calibration_bin_wilson_interval_two_of_five_by_hand() -> None:
    z = 1.959963984540054
    n, k = 5, 2
    centre = (0.4 + z**2 / 10) / (1 + z**2 / 5)
    half = z / (1 + z**2 / 5) * math.sqrt(0.4 * 0.6 / 5 + z**2 / 100)
    assert (centre - half, centre + half) == pytest.approx((0.1176, 0.7693), abs=1e-4)

    (b,) = [b for b in calibration_bins([0.42] * n, [1, 0, 1, 0, 0]) if b.count]
    assert b.observed_frequency == exactly(0.4)
    assert (b.interval_low, b.interval_high) == exactly((centre - half, centre + half))
    assert wilson_interval(k, n) == exactly((centre - half, centre + half))


@pytest.mark.parametrize("n", [1, 2, 5, 37, 200, 10_000])
def test_wilson_interval_stays_in_unit_interval_at_the_extremes(n: int) -> None:
    none_low, none_high = wilson_interval(0, n)
    all_low, all_high = wilson_interval(n, n)
    assert none_low == 0.0
    assert 0.0 < none_high < 1.0
    assert all_high == 1.0
    assert 0.0 < all_low < 1.0
    assert none_high == exactly(1.0 - all_low)


def test_empty_bins_have_no_statistics_and_serialise_to_json() -> None:
    bins = calibration_bins([0.05, 0.95], [0, 1])
    empty = bins[4]
    assert (empty.count, empty.mean_probability, empty.observed_frequency) == (0, None, None)
    assert (empty.interval_low, empty.interval_high) == (None, None)

    decoded = json.loads(json.dumps([b.to_dict() for b in bins]))
    assert decoded[4]["mean_probability"] is None
    assert decoded[0] == {
        "lower": 0.0,
        "upper": 0.1,
        "count": 1,
        "mean_probability": 0.05,
        "observed_frequency": 0.0,
        "interval_low": 0.0,
        "interval_high": exactly(wilson_by_hand(0, 1)[1]),
    }


# --- Murphy decomposition ---------------------------------------------------


def murphy_by_hand(probabilities: list[float], outcomes: list[int]) -> tuple[float, float, float]:
    groups: dict[float, list[int]] = {}
    for p, o in zip(probabilities, outcomes, strict=True):
        groups.setdefault(p, []).append(o)
    n = len(outcomes)
    base_rate = sum(outcomes) / n
    reliability = sum(len(os) * (p - sum(os) / len(os)) ** 2 for p, os in groups.items()) / n
    resolution = sum(len(os) * (sum(os) / len(os) - base_rate) ** 2 for os in groups.values()) / n
    return reliability, resolution, base_rate * (1 - base_rate)


@PROPERTY
@given(scored_forecasts())
def test_murphy_decomposition_is_exact_and_matches_hand_computation(
    data: tuple[list[float], list[int]],
) -> None:
    probabilities, outcomes = data
    murphy = murphy_decomposition(probabilities, outcomes)

    recomposed = murphy.reliability - murphy.resolution + murphy.uncertainty
    assert abs(recomposed - brier_score_loss(outcomes, probabilities, labels=[0, 1])) <= 1e-12
    assert abs(recomposed - brier_score(probabilities, outcomes)) <= 1e-12
    reliability, resolution, uncertainty = murphy_by_hand(probabilities, outcomes)
    assert murphy.reliability == exactly(reliability)
    assert murphy.resolution == exactly(resolution)
    assert murphy.uncertainty == exactly(uncertainty)


def test_murphy_decomposition_by_hand() -> None:
    murphy = murphy_decomposition([0.2, 0.2, 0.8, 0.8], [0, 1, 1, 1])
    assert murphy.to_dict() == exactly(
        {"reliability": 0.065, "resolution": 0.0625, "uncertainty": 0.1875}
    )
    assert json.loads(json.dumps(murphy.to_dict())) == murphy.to_dict()


# --- skill ------------------------------------------------------------------


@PROPERTY
@given(
    scored_forecasts(),
    st.one_of(st.sampled_from([COIN_FLIP, BASE_RATE, 0.0, 1.0]), st.floats(0.0, 1.0)),
)
def test_brier_skill_score_matches_sklearn_and_exact_arithmetic(
    data: tuple[list[float], list[int]], reference: float | Literal["base_rate"]
) -> None:
    probabilities, outcomes = data
    n = len(outcomes)
    exact_brier = (
        sum((Fraction(p) - o) ** 2 for p, o in zip(probabilities, outcomes, strict=True)) / n
    )
    if isinstance(reference, str):
        base_rate = Fraction(sum(outcomes), n)
        constant = sum(outcomes) / n
        exact_reference_brier: Fraction | float = base_rate * (1 - base_rate)
    else:
        constant = reference
        exact_reference_brier = sum((Fraction(reference) - o) ** 2 for o in outcomes) / n
    if exact_reference_brier == 0:
        with pytest.raises(ValueError, match="skill is undefined"):
            brier_skill_score(probabilities, outcomes, reference)
        return
    assume(exact_reference_brier > 1e-300)  # below that, float64 squares underflow

    actual = brier_skill_score(probabilities, outcomes, reference)
    exact = 1 - exact_brier / exact_reference_brier
    assert actual == pytest.approx(float(exact), rel=1e-12, abs=1e-12)
    if exact_reference_brier > 1e-6:
        # sklearn squares 1 − p as well as p, which loses 1 − p's rounding error
        # (relative to a reference Brier near 0, that error is large).
        reference_brier = brier_score_loss(outcomes, [constant] * n, labels=[0, 1])
        expected = 1 - brier_score_loss(outcomes, probabilities, labels=[0, 1]) / reference_brier
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_brier_skill_score_by_hand() -> None:
    # Brier 0.01; a coin flip scores 0.25, and so does the base rate of [1, 0].
    assert brier_skill_score([0.9, 0.1], [1, 0], COIN_FLIP) == exactly(0.96)
    assert brier_skill_score([0.9, 0.1], [1, 0], "base_rate") == exactly(0.96)
    # Base rate 0.25 → Brier_ref 0.1875; always saying 0.5 scores 0.25.
    assert brier_skill_score([0.5] * 4, [1, 0, 0, 0], "base_rate") == exactly(1 - 0.25 / 0.1875)


@pytest.mark.parametrize(
    ("outcomes", "reference"), [([1, 1, 1], "base_rate"), ([0, 0], "base_rate"), ([1, 1], 1.0)]
)
def test_brier_skill_score_is_undefined_against_a_perfect_reference(
    outcomes: list[int], reference: float | str
) -> None:
    with pytest.raises(ValueError, match="skill is undefined"):
        brier_skill_score([0.5] * len(outcomes), outcomes, reference)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("median", r"reference = 'median' must be a probability or 'base_rate'"),
        (1.5, r"reference = 1.5 is outside \[0, 1\]"),
        (float("nan"), r"reference = nan is outside \[0, 1\]"),
        (None, r"reference = None must be a probability"),
    ],
)
def test_brier_skill_score_rejects_bad_references(reference: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        brier_skill_score([0.5], [1], reference)  # type: ignore[arg-type]


# --- verbal phrases ---------------------------------------------------------


def test_phrase_calibration_sentence() -> None:
    (row,) = phrase_calibration(["unlikely"] * 5, [1, 0, 0, 1, 0])
    assert row.sentence() == "when this source wrote “unlikely”, it happened 2 times in 5"
    assert (row.count, row.happened, row.observed_frequency) == (5, 2, 0.4)
    assert (row.interval_low, row.interval_high) == exactly(wilson_by_hand(2, 5))
    assert json.loads(json.dumps(row.to_dict()))["phrase"] == "unlikely"


def test_phrase_calibration_groups_case_insensitively_and_sorts_by_count() -> None:
    rows = phrase_calibration(
        [" Unlikely", "likely", "unlikely ", "UNLIKELY", "almost certain", "Likely"],
        [0, 1, 1, 0, True, 0],
    )
    assert [(r.phrase, r.count, r.happened) for r in rows] == [
        ("unlikely", 3, 1),
        ("likely", 2, 1),
        ("almost certain", 1, 1),
    ]
    assert rows[2].sentence() == "when this source wrote “almost certain”, it happened 1 time in 1"


@PROPERTY
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["likely", " Likely", "unlikely", "toss-up", "Toss-up "]),
            st.sampled_from([0, 1]),
        ),
        min_size=1,
        max_size=200,
    )
)
def test_phrase_calibration_counts_match_a_plain_tally(pairs: list[tuple[str, int]]) -> None:
    rows = phrase_calibration([p for p, _ in pairs], [o for _, o in pairs])
    counts = Counter(p.strip().lower() for p, _ in pairs)
    happened = Counter(p.strip().lower() for p, o in pairs if o)
    assert {r.phrase: (r.count, r.happened) for r in rows} == {
        k: (n, happened[k]) for k, n in counts.items()
    }
    assert [(-r.count, r.phrase) for r in rows] == sorted((-r.count, r.phrase) for r in rows)
    for r in rows:
        assert r.observed_frequency == exactly(r.happened / r.count)
        assert 0.0 <= r.interval_low <= r.observed_frequency <= r.interval_high <= 1.0


@pytest.mark.parametrize(
    ("phrases", "outcomes", "message"),
    [
        (["likely", "unlikely"], [1], "length mismatch: phrases has 2, outcomes has 1"),
        ([], [], "phrases is empty"),
        (["likely", "  "], [1, 0], r"phrases\[1\] = '  ' is blank"),
        (["likely", 3], [1, 0], r"phrases\[1\] = 3 is not a string"),
        ("likely", [1], "not a single string"),
        (["likely"], [3], r"outcomes\[0\] = 3.0 is not 0 or 1"),
    ],
)
def test_phrase_calibration_rejects_bad_input(
    phrases: list[object], outcomes: list[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        phrase_calibration(phrases, outcomes)  # type: ignore[arg-type]


# --- validation shared by every (probabilities, outcomes) function -----------

PAIR_FUNCTIONS = [
    brier_score,
    log_loss,
    calibration_bins,
    murphy_decomposition,
    lambda p, o: brier_skill_score(p, o, COIN_FLIP),
]


@pytest.mark.parametrize("function", PAIR_FUNCTIONS)
@pytest.mark.parametrize(
    ("probabilities", "outcomes", "message"),
    [
        ([], [], "probabilities is empty"),
        ([0.1, 0.2, 0.3, 1.5], [0, 1, 0, 1], r"probabilities\[3\] = 1.5 is outside \[0, 1\]"),
        ([0.1, -0.25], [0, 1], r"probabilities\[1\] = -0.25 is outside \[0, 1\]"),
        ([0.1, float("nan")], [0, 1], r"probabilities\[1\] = nan is not a finite number"),
        ([float("inf")], [0], r"probabilities\[0\] = inf is not a finite number"),
        ([0.1, None], [0, 1], r"probabilities\[1\] = None is not a number"),
        (["0.5"], [1], "probabilities must hold numbers, got dtype <U3"),
        ([0.1, 0.2], [0, 0.5], r"outcomes\[1\] = 0.5 is not 0 or 1"),
        ([0.1, 0.2], [2, 1], r"outcomes\[0\] = 2.0 is not 0 or 1"),
        ([0.1, 0.2], [1, float("nan")], r"outcomes\[1\] = nan is not 0 or 1"),
        ([0.1, 0.2], [1], "length mismatch: probabilities has 2, outcomes has 1"),
        ([[0.1, 0.2]], [[1, 0]], r"probabilities must be 1-D, got an array of shape \(1, 2\)"),
        (0.5, 1, r"probabilities must be 1-D, got an array of shape \(\)"),
        ([0.1], [], "outcomes is empty"),
    ],
)
def test_invalid_input_is_rejected_with_a_clear_message(
    function: object, probabilities: object, outcomes: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        function(probabilities, outcomes)  # type: ignore[operator]


def test_valid_input_of_any_array_like_kind_is_accepted() -> None:
    expected = (0.04 + 0.09) / 2
    inputs: list[tuple[Any, Any]] = [
        ([0.2, 0.7], [False, True]),
        ((0.2, 0.7), np.array([0.0, 1.0])),
        ([Decimal("0.2"), Decimal("0.7")], np.array([0, 1], dtype=np.int8)),
    ]
    for probabilities, outcomes in inputs:
        assert brier_score(probabilities, outcomes) == exactly(expected)


@pytest.mark.parametrize("n_bins", [0, -3, 2.5, True])
def test_calibration_bins_rejects_a_bad_bin_count(n_bins: object) -> None:
    with pytest.raises(ValueError, match=r"n_bins = .* must be an integer of at least 1"):
        calibration_bins([0.5], [1], n_bins=n_bins)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("successes", "trials", "message"),
    [
        (0, 0, "trials = 0 must be at least 1"),
        (6, 5, r"successes = 6 is outside \[0, trials = 5\]"),
    ],
)
def test_wilson_interval_rejects_impossible_counts(
    successes: int, trials: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, trials)


@pytest.mark.parametrize(
    "module",
    [
        "forecasts.scores.maths",
        "forecasts.scores.validation",
        "forecasts.scores.time_averaged",
        "forecasts.scores.grouped",
    ],
)
def test_scoring_imports_neither_django_nor_sklearn(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'sklearn'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    )
    assert result.stdout.strip() == "[]"


def test_z_is_the_two_sided_95_percent_quantile() -> None:
    from statistics import NormalDist

    assert NormalDist().inv_cdf(0.975) == pytest.approx(Z_95, abs=1e-15)
