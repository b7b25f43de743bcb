"""Scoring maths for binary forecasts: arrays or plain values in, numbers out.

Pure by design: numpy and the standard library only, no Django, no database and
no clock (every date is passed in by the caller).

The same conventions hold in the sibling modules: :mod:`forecasts.scores.grouped` (every
score here for many groups at once), :mod:`forecasts.scores.time_averaged` (the
time-averaged Brier score) and :mod:`forecasts.scores.validation` (the input checks they
all share).

Conventions
-----------
- Outcomes are 0 (NO) or 1 (YES); bools and 0/1 ints or floats are accepted.
  Probabilities are in [0, 1]. Every function rejects empty input, NaN or
  infinite values, out-of-range values, mismatched lengths and arrays that are
  not 1-D with a ``ValueError`` naming the problem (and, for a bad value, the
  first offending index and value).
- Brier score is on scikit-learn's 0–1 scale: mean (p − o)²; 0 is perfect and
  always saying 50 % scores 0.25 (``sklearn.metrics.brier_score_loss``).
- Log loss is the mean of −[o ln p + (1 − o) ln(1 − p)] in nats, with p clipped
  to [ε, 1 − ε], ε = ``np.finfo(np.float64).eps``, as ``sklearn.metrics.log_loss``
  does for float64 input. A certain forecast that was wrong therefore costs
  −ln ε ≈ 36.04, not infinity.
- Calibration bins are ``n_bins`` equal-width bins with the edges of
  ``np.linspace(0, 1, n_bins + 1)`` and scikit-learn's assignment
  (``calibration_curve(strategy="uniform")``): a value lying exactly on an inner
  edge goes to the bin below it, so with ten bins the bins are [0, 0.1],
  (0.1, 0.2], …, (0.9, 1]. The edges are linspace's floats, so the third edge
  is 0.30000000000000004 and the float 0.3 falls in (0.2, 0.3] as expected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from forecasts.scores.validation import FloatArray, as_outcomes, validate

COIN_FLIP: Final = 0.5
BASE_RATE: Final = "base_rate"
# Two-sided 95 % normal quantile, Φ⁻¹(0.975).
Z_95: Final = 1.959963984540054
# Log loss clips p to [EPS, 1 − EPS] (here and in grouped.py), as scikit-learn does.
EPS: Final = float(np.finfo(np.float64).eps)


# --- plain scores -----------------------------------------------------------


def brier_score(probabilities: npt.ArrayLike, outcomes: npt.ArrayLike) -> float:
    """Mean squared error (p − o)²; equals ``sklearn.metrics.brier_score_loss``."""
    p, o = validate(probabilities, outcomes)
    return float(np.mean((p - o) ** 2))


def log_loss(probabilities: npt.ArrayLike, outcomes: npt.ArrayLike) -> float:
    """Mean −[o ln p + (1 − o) ln(1 − p)] with p clipped to [ε, 1 − ε].

    ε is the float64 machine epsilon, the clipping ``sklearn.metrics.log_loss``
    applies to float64 input, so p = 0 or 1 gives a large finite loss.
    """
    p, o = validate(probabilities, outcomes)
    losses = log_losses(p, o)
    return float(np.mean(losses))


# --- calibration ------------------------------------------------------------


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion k / n.

    With p̂ = k / n:

        centre     = (p̂ + z² / 2n) / (1 + z² / n)
        half-width = z / (1 + z² / n) · √(p̂ (1 − p̂) / n + z² / 4n²)
        interval   = centre ± half-width

    Unlike the normal (Wald) interval it stays inside [0, 1] and is not
    zero-width at k = 0 or k = n; the ends are pinned to exactly 0 and 1 in
    those cases so rounding never leaves the unit interval.
    """
    if trials < 1:
        raise ValueError(f"trials = {trials} must be at least 1")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes = {successes} is outside [0, trials = {trials}]")
    n = float(trials)
    p_hat = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p_hat + z2 / (2.0 * n)) / denominator
    half_width = (z / denominator) * math.sqrt(p_hat * (1.0 - p_hat) / n + z2 / (4.0 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == trials else min(1.0, centre + half_width)
    return low, high


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One equal-width probability bin; the statistics are None when it is empty."""

    lower: float
    upper: float
    count: int
    mean_probability: float | None
    observed_frequency: float | None
    interval_low: float | None
    interval_high: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "lower": self.lower,
            "upper": self.upper,
            "count": self.count,
            "mean_probability": self.mean_probability,
            "observed_frequency": self.observed_frequency,
            "interval_low": self.interval_low,
            "interval_high": self.interval_high,
        }


def calibration_bins(
    probabilities: npt.ArrayLike, outcomes: npt.ArrayLike, n_bins: int = 10
) -> list[CalibrationBin]:
    """Count, mean probability and observed frequency (with a 95 % Wilson interval) per bin.

    Bins are those of ``calibration_curve(strategy="uniform")``: edges from
    ``np.linspace(0, 1, n_bins + 1)``, a value on an inner edge belongs to the
    lower bin, the first bin includes 0 and the last includes 1. All ``n_bins``
    bins are returned, empty ones with count 0 and None statistics.
    """
    n_bins = bins_checked(n_bins)
    p, o = validate(probabilities, outcomes)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # side="left": a value equal to an inner edge stays in the bin below it.
    bin_ids = np.searchsorted(edges[1:-1], p)
    return calibration_from_sums(
        edges,
        counts=np.bincount(bin_ids, minlength=n_bins),
        probability_sums=np.bincount(bin_ids, weights=p, minlength=n_bins),
        happened=np.bincount(bin_ids, weights=o, minlength=n_bins),
    )


def bins_checked(n_bins: int) -> int:
    """``n_bins`` as an int, or ``ValueError`` unless it is a whole number of at least 1."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins = {n_bins!r} must be an integer of at least 1")
    return int(n_bins)


def calibration_from_sums(
    edges: FloatArray,
    *,
    counts: npt.ArrayLike,
    probability_sums: npt.ArrayLike,
    happened: npt.ArrayLike,
) -> list[CalibrationBin]:
    """Calibration bins from each bin's count, sum of probabilities and number that
    happened (``edges`` has one more entry than there are bins); empty bins have None
    statistics."""
    counts_list = np.asarray(counts).tolist()
    sums, hits = (
        np.asarray(probability_sums, dtype=np.float64),
        np.asarray(happened, dtype=np.float64),
    )
    bins = []
    for i, count in enumerate(counts_list):
        count = int(count)
        lower, upper = float(edges[i]), float(edges[i + 1])
        if count == 0:
            bins.append(CalibrationBin(lower, upper, 0, None, None, None, None))
            continue
        low, high = wilson_interval(round(float(hits[i])), count)
        bins.append(
            CalibrationBin(
                lower=lower,
                upper=upper,
                count=count,
                mean_probability=float(sums[i] / count),
                observed_frequency=float(hits[i] / count),
                interval_low=low,
                interval_high=high,
            )
        )
    return bins


def log_losses(p: FloatArray, o: FloatArray) -> FloatArray:
    """Each forecast's −[o ln p + (1 − o) ln(1 − p)], p clipped to [ε, 1 − ε]."""
    clipped = np.clip(p, EPS, 1.0 - EPS)
    result: FloatArray = np.where(o == 1.0, -np.log(clipped), -np.log(1.0 - clipped))
    return result


# --- decomposition and skill ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Murphy:
    """Murphy's decomposition: Brier = reliability − resolution + uncertainty."""

    reliability: float
    resolution: float
    uncertainty: float

    def to_dict(self) -> dict[str, float]:
        return {
            "reliability": self.reliability,
            "resolution": self.resolution,
            "uncertainty": self.uncertainty,
        }


def murphy_decomposition(probabilities: npt.ArrayLike, outcomes: npt.ArrayLike) -> Murphy:
    """Split the Brier score into reliability, resolution and uncertainty.

    Forecasts are grouped by distinct probability value (not by bin), which is
    what makes the identity exact rather than approximate. With group k holding
    n_k forecasts of probability p_k and observed frequency ō_k, N forecasts in
    all and overall frequency ō:

        reliability = Σ_k n_k (p_k − ō_k)² / N      (lower is better)
        resolution  = Σ_k n_k (ō_k − ō)² / N        (higher is better)
        uncertainty = ō (1 − ō)
    """
    p, o = validate(probabilities, outcomes)
    n = p.size
    values, group, counts = np.unique(p, return_inverse=True, return_counts=True)
    group_frequency = np.bincount(group, weights=o, minlength=values.size) / counts
    base_rate = float(np.mean(o))
    reliability = float(np.sum(counts * (values - group_frequency) ** 2) / n)
    resolution = float(np.sum(counts * (group_frequency - base_rate) ** 2) / n)
    return Murphy(
        reliability=reliability,
        resolution=resolution,
        uncertainty=base_rate * (1.0 - base_rate),
    )


def brier_skill_score(
    probabilities: npt.ArrayLike,
    outcomes: npt.ArrayLike,
    reference: float | Literal["base_rate"],
) -> float:
    """1 − Brier / Brier_reference; positive means better than the reference.

    ``reference`` is a constant probability (``COIN_FLIP`` = 0.5 gives
    Brier_reference = 0.25) or ``"base_rate"`` (``BASE_RATE``): always
    forecasting the observed frequency ō of these same outcomes, whose Brier
    score is ō (1 − ō).

    Raises ValueError when Brier_reference is 0 (every outcome equal and the
    reference forecasting exactly that): no forecast can beat a perfect
    reference, so skill is undefined rather than 0 or −∞.
    """
    p, o = validate(probabilities, outcomes)
    if isinstance(reference, str):
        if reference != BASE_RATE:
            raise ValueError(f"reference = {reference!r} must be a probability or {BASE_RATE!r}")
        base_rate = float(np.mean(o))
        reference_brier = base_rate * (1.0 - base_rate)
    else:
        if isinstance(reference, bool) or not isinstance(reference, int | float | np.number):
            raise ValueError(f"reference = {reference!r} must be a probability or {BASE_RATE!r}")
        r = float(reference)
        if not math.isfinite(r) or not 0.0 <= r <= 1.0:
            raise ValueError(f"reference = {r} is outside [0, 1]")
        reference_brier = float(np.mean((r - o) ** 2))
    if reference_brier == 0.0:
        # Every outcome equals the reference (or lies within ~1e-154 of it, whose
        # square underflows): nothing can improve on a perfect reference.
        raise ValueError(
            "skill is undefined: the reference forecast scores a perfect Brier of 0 "
            "because every outcome equals it"
        )
    return 1.0 - float(np.mean((p - o) ** 2)) / reference_brier


# --- verbal phrases ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhraseCalibration:
    """How often events described with one verbal phrase happened."""

    phrase: str
    count: int
    happened: int
    observed_frequency: float
    interval_low: float
    interval_high: float

    def to_dict(self) -> dict[str, str | int | float]:
        return {
            "phrase": self.phrase,
            "count": self.count,
            "happened": self.happened,
            "observed_frequency": self.observed_frequency,
            "interval_low": self.interval_low,
            "interval_high": self.interval_high,
        }

    def sentence(self) -> str:
        times = "time" if self.happened == 1 else "times"
        return (
            f"when this source wrote “{self.phrase}”, "
            f"it happened {self.happened} {times} in {self.count}"
        )


def phrase_calibration(phrases: Sequence[str], outcomes: npt.ArrayLike) -> list[PhraseCalibration]:
    """Per distinct phrase (compared after ``.strip().lower()``), how often it came true.

    Sorted by count, most used first, then alphabetically by phrase.
    """
    if isinstance(phrases, str):
        raise ValueError("phrases must be a sequence of strings, not a single string")
    texts = list(phrases)
    if not texts:
        raise ValueError("phrases is empty")
    keys = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"phrases[{i}] = {text!r} is not a string")
        key = text.strip().lower()
        if not key:
            raise ValueError(f"phrases[{i}] = {text!r} is blank")
        keys.append(key)
    o = as_outcomes("outcomes", outcomes)
    if len(keys) != o.size:
        raise ValueError(f"length mismatch: phrases has {len(keys)}, outcomes has {o.size}")

    counts: dict[str, int] = {}
    happened: dict[str, int] = {}
    for key, result in zip(keys, o.tolist(), strict=True):
        counts[key] = counts.get(key, 0) + 1
        happened[key] = happened.get(key, 0) + int(result)

    rows = []
    for key in sorted(counts, key=lambda k: (-counts[k], k)):
        low, high = wilson_interval(happened[key], counts[key])
        rows.append(
            PhraseCalibration(
                phrase=key,
                count=counts[key],
                happened=happened[key],
                observed_frequency=happened[key] / counts[key],
                interval_low=low,
                interval_high=high,
            )
        )
    return rows
