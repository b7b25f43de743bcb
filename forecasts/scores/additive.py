"""Scores as sums that add and subtract exactly: what one scored forecast adds to each of
its scopes, and a scope's scores back from its sums.

A scope's Brier, log loss and time-averaged Brier are means, so a scope keeps their sums
and its count; calibration and the Murphy decomposition need how many forecasts were
published at each probability and how many of those happened (a tally). The sums of
scores are integers in units of 1/``SCALE``: adding a forecast and taking it away again
leaves them exactly as they were, in any order, however many times. Each forecast's
score is rounded once, to 1e-12, so a mean from the sums is within 1e-12 of the mean of
the scores themselves.

Pure, like :mod:`forecasts.scores.maths`: numbers in, numbers out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from forecasts.scores.maths import CalibrationBin, Murphy, calibration_from_sums

#: Fixed-point units per 1.0 of a score. A log loss is at most −ln(ε) ≈ 36.04 (p clipped
#: to [ε, 1 − ε]), so a sum holds more than 250,000 forecasts at the worst score and
#: hundreds of millions at typical ones within a signed 64-bit integer.
SCALE = 10**12

# The ranking score pulls Brier toward a coin flip's 0.25 by this pseudo-count
# (forecasts.scores.compute, which defines them, imports Django's models).
SHRINK_PSEUDOCOUNT = 5
SHRINK_PRIOR = 0.25

ALL_TIME = 0
ANY_TAG = 0
CALIBRATION_BINS = 10


def fixed(value: float) -> int:
    """A score in fixed-point units."""
    return round(value * SCALE)


def month_of(day: dt.date) -> int:
    """The month key of a day: year × 100 + month."""
    return day.year * 100 + day.month


@dataclass(frozen=True, slots=True)
class Sums:
    """A scope's count, YES count and score sums (fixed point)."""

    count: int = 0
    yes: int = 0
    brier: int = 0
    log_loss: int = 0
    time_averaged: int = 0

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.count + other.count,
            self.yes + other.yes,
            self.brier + other.brier,
            self.log_loss + other.log_loss,
            self.time_averaged + other.time_averaged,
        )

    def __neg__(self) -> Sums:
        return Sums(-self.count, -self.yes, -self.brier, -self.log_loss, -self.time_averaged)

    def __sub__(self, other: Sums) -> Sums:
        return self + (-other)

    @property
    def empty(self) -> bool:
        return self == Sums()


@dataclass(frozen=True, slots=True)
class ScoredForecast:
    """One scored forecast: its scores and the scopes it counts in."""

    forecaster_id: int
    source_id: int
    tag_ids: tuple[int, ...]
    probability: float
    phrase: str
    happened: bool
    known_on: dt.date
    brier: float
    log_loss: float
    time_averaged_brier: float

    def sums(self) -> Sums:
        return Sums(
            1,
            int(self.happened),
            fixed(self.brier),
            fixed(self.log_loss),
            fixed(self.time_averaged_brier),
        )

    def scopes(self) -> list[tuple[str, int]]:
        """(kind, id) of every scope it counts in: everything, its forecaster, source, tags."""
        return [
            ("all", 0),
            ("forecaster", self.forecaster_id),
            ("source", self.source_id),
            *(("tag", tag) for tag in self.tag_ids),
        ]


SumKey = tuple[str, int, int, int]  # scope kind, scope id, tag filter, month
TallyKey = tuple[str, int, float, str]  # scope kind, scope id, probability, phrase


@dataclass
class Delta:
    """What a change adds to (or takes from) the stored sums and tallies."""

    sums: dict[SumKey, Sums]
    tallies: dict[TallyKey, tuple[int, int]]

    @classmethod
    def between(cls, old: Iterable[ScoredForecast], new: Iterable[ScoredForecast]) -> Delta:
        delta = cls({}, {})
        for forecast in old:
            delta.add(forecast, -1)
        for forecast in new:
            delta.add(forecast, +1)
        delta.sums = {key: value for key, value in delta.sums.items() if not value.empty}
        delta.tallies = {key: value for key, value in delta.tallies.items() if value != (0, 0)}
        return delta

    def add(self, forecast: ScoredForecast, sign: int) -> None:
        sums = forecast.sums() if sign > 0 else -forecast.sums()
        months = (ALL_TIME, month_of(forecast.known_on))
        filters = (ANY_TAG, *forecast.tag_ids)
        for kind, scope_id in forecast.scopes():
            for tag in filters:
                for month in months:
                    key = (kind, scope_id, tag, month)
                    self.sums[key] = self.sums.get(key, Sums()) + sums
            tally_key = (kind, scope_id, forecast.probability, forecast.phrase)
            count, yes = self.tallies.get(tally_key, (0, 0))
            self.tallies[tally_key] = (count + sign, yes + sign * int(forecast.happened))

    @property
    def scopes(self) -> set[tuple[str, int]]:
        """The scopes whose all-time, unfiltered scores change."""
        return {
            (kind, scope_id)
            for kind, scope_id, tag, month in self.sums
            if tag == ANY_TAG and month == ALL_TIME
        } | {(kind, scope_id) for kind, scope_id, _, _ in self.tallies}


@dataclass(frozen=True)
class Means:
    """A scope's scores from its sums (the fields of a score snapshot)."""

    resolved_count: int
    yes_count: int
    brier: float | None
    shrunk_brier: float | None
    time_averaged_brier: float | None
    log_loss: float | None
    skill_vs_coin: float | None
    skill_vs_base_rate: float | None


def means(sums: Sums) -> Means:
    """The scores of a scope with these sums; None where there is nothing scored (and skill
    against the base rate where every outcome was the same)."""
    n = sums.count
    if n <= 0:
        return Means(max(n, 0), max(sums.yes, 0), None, None, None, None, None, None)
    brier = sums.brier / SCALE / n
    base_rate = sums.yes / n
    uncertainty = base_rate * (1.0 - base_rate)
    return Means(
        resolved_count=n,
        yes_count=sums.yes,
        brier=brier,
        shrunk_brier=(n * brier + SHRINK_PSEUDOCOUNT * SHRINK_PRIOR) / (n + SHRINK_PSEUDOCOUNT),
        time_averaged_brier=sums.time_averaged / SCALE / n,
        log_loss=sums.log_loss / SCALE / n,
        skill_vs_coin=1.0 - brier / 0.25,
        skill_vs_base_rate=1.0 - brier / uncertainty if uncertainty > 0 else None,
    )


@dataclass(frozen=True)
class Tally:
    """A scope's tally, a column per field: how many scored forecasts were published at
    each probability with each opening phrase, and how many of them happened. Columns,
    not a row object each: a resolution rebuilds everything's calibration and Murphy
    decomposition from its whole tally, hundreds of rows, while its commit waits."""

    probabilities: npt.NDArray[np.float64]
    phrases: list[str]
    counts: npt.NDArray[np.int64]
    yes: npt.NDArray[np.int64]

    @classmethod
    def of(cls, rows: Iterable[Sequence[Any]]) -> Tally:
        """From (probability, phrase, count, yes) rows."""
        rows = list(rows)
        if not rows:
            return EMPTY_TALLY
        probabilities, phrases, counts, yes = zip(*rows, strict=True)
        return cls(
            np.array(probabilities, dtype=np.float64),
            [str(phrase) for phrase in phrases],
            np.array(counts, dtype=np.int64),
            np.array(yes, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.phrases)


EMPTY_TALLY = Tally(np.zeros(0, np.float64), [], np.zeros(0, np.int64), np.zeros(0, np.int64))


def calibration(tally: Tally, n_bins: int = CALIBRATION_BINS) -> list[CalibrationBin]:
    """Calibration bins from a tally, as :func:`forecasts.scores.maths.calibration_bins`
    puts the forecasts themselves in bins (a value on an inner edge in the bin below).
    ``np.bincount`` adds each bin's values in the tally's order, one by one."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    cells = np.searchsorted(edges[1:-1], tally.probabilities)
    counts = tally.counts.astype(np.float64)
    return calibration_from_sums(
        edges,
        counts=np.bincount(cells, weights=counts, minlength=n_bins).astype(np.int64),
        probability_sums=np.bincount(cells, weights=counts * tally.probabilities, minlength=n_bins),
        happened=np.bincount(cells, weights=tally.yes.astype(np.float64), minlength=n_bins),
    )


def murphy(tally: Tally) -> Murphy:
    """The Murphy decomposition from a tally: forecasts grouped by their exact probability,
    as :func:`forecasts.scores.maths.murphy_decomposition` groups them."""
    probabilities, group = np.unique(tally.probabilities, return_inverse=True)
    counts = np.bincount(group, weights=tally.counts.astype(np.float64))
    happened = np.bincount(group, weights=tally.yes.astype(np.float64))
    n = int(tally.counts.sum())
    base_rate = int(tally.yes.sum()) / n
    held = counts > 0
    counts, happened, probabilities = counts[held], happened[held], probabilities[held]
    frequency = happened / counts
    # Added one by one, lowest probability first (cumsum, not numpy's pairwise sum).
    reliability = np.cumsum(counts * (probabilities - frequency) ** 2)
    resolution = np.cumsum(counts * (frequency - base_rate) ** 2)
    return Murphy(
        reliability=float(reliability[-1]) / n if len(reliability) else 0.0,
        resolution=float(resolution[-1]) / n if len(resolution) else 0.0,
        uncertainty=base_rate * (1.0 - base_rate),
    )


def phrase_counts(tally: Tally) -> dict[str, tuple[int, int]]:
    """Per opening phrase (empty ones left out): how many forecasts, how many happened."""
    counts: dict[str, tuple[int, int]] = {}
    for phrase, count, yes in zip(
        tally.phrases, tally.counts.tolist(), tally.yes.tolist(), strict=True
    ):
        if phrase and count:
            total, happened = counts.get(phrase, (0, 0))
            counts[phrase] = (total + count, happened + yes)
    return counts


# --- Many forecasts at once (a rebuild, a check) -----------------------------------------

KIND_NAMES = ("all", "forecaster", "source", "tag")


@dataclass(frozen=True)
class ScoredArrays:
    """Scored forecasts as arrays, one entry each (tags as (forecast, tag) pairs)."""

    forecaster_ids: npt.NDArray[np.int64]
    source_ids: npt.NDArray[np.int64]
    tag_forecasts: npt.NDArray[np.int64]  # index into the arrays above
    tag_ids: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float64]
    phrases: list[str]
    happened: npt.NDArray[np.int64]  # 1 or 0
    months: npt.NDArray[np.int64]  # month_of(known_on)
    brier: npt.NDArray[np.float64]
    log_loss: npt.NDArray[np.float64]
    time_averaged: npt.NDArray[np.float64]

    def _scope_entries(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(forecast index, kind code, scope id) of every scope each forecast counts in."""
        n = len(self.probabilities)
        index = np.arange(n, dtype=np.int64)
        forecasts = np.concatenate([index, index, index, self.tag_forecasts])
        kinds = np.concatenate(
            [np.full(n, code, np.int64) for code in range(3)]
            + [np.full(len(self.tag_ids), 3, np.int64)]
        )
        ids = np.concatenate(
            [np.zeros(n, np.int64), self.forecaster_ids, self.source_ids, self.tag_ids]
        )
        return forecasts, kinds, ids


def fixed_array(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """:func:`fixed` of each value (numpy rounds halves to even, as ``round`` does)."""
    return np.rint(values * SCALE).astype(np.int64)


def sum_table(
    scored: ScoredArrays,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every stored sum the forecasts make: keys (k, 4) of kind code, scope id, tag filter
    and month, and values (k, 5) of count, YES count and the fixed-point sums of Brier,
    log loss and time-averaged Brier; what :class:`Delta` adds up one forecast at a time."""
    n = len(scored.probabilities)
    if n == 0:
        return np.zeros((0, 4), np.int64), np.zeros((0, 5), np.int64)
    values = np.column_stack(
        [
            np.ones(n, np.int64),
            scored.happened.astype(np.int64),
            fixed_array(scored.brier),
            fixed_array(scored.log_loss),
            fixed_array(scored.time_averaged),
        ]
    )
    s_forecast, s_kind, s_id = scored._scope_entries()
    index = np.arange(n, dtype=np.int64)
    f_forecast = np.concatenate([index, scored.tag_forecasts])
    f_tag = np.concatenate([np.zeros(n, np.int64), scored.tag_ids])
    # Each scope entry pairs with each filter entry of its forecast.
    order = np.argsort(f_forecast, kind="stable")
    f_forecast, f_tag = f_forecast[order], f_tag[order]
    per_forecast = np.bincount(f_forecast, minlength=n)
    first = np.cumsum(per_forecast) - per_forecast
    repeat = per_forecast[s_forecast]
    scope_of_pair = np.repeat(np.arange(len(s_forecast)), repeat)
    within = np.arange(int(repeat.sum())) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    filter_of_pair = np.repeat(first[s_forecast], repeat) + within
    pair_forecast = s_forecast[scope_of_pair]
    keys = np.column_stack([s_kind[scope_of_pair], s_id[scope_of_pair], f_tag[filter_of_pair]])
    # Each pair counts all time (month 0) and in its month.
    keys = np.vstack(
        [
            np.column_stack([keys, np.zeros(len(keys), np.int64)]),
            np.column_stack([keys, scored.months[pair_forecast]]),
        ]
    )
    rows = np.concatenate([pair_forecast, pair_forecast])
    return _grouped(keys, values[rows])


def tally_table(
    scored: ScoredArrays,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], list[str], npt.NDArray[np.int64]]:
    """Every stored tally: (kind code, scope id) pairs, probabilities, phrases and
    (count, YES count), one entry per distinct key."""
    s_forecast, s_kind, s_id = scored._scope_entries()
    codes: dict[str, int] = {}
    phrase_code = np.array(
        [codes.setdefault(phrase, len(codes)) for phrase in scored.phrases], dtype=np.int64
    )
    names = list(codes)
    # Probabilities as their bit patterns: exact equality, and sortable as integers.
    bits = scored.probabilities.view(np.int64)
    keys = np.column_stack([s_kind, s_id, bits[s_forecast], phrase_code[s_forecast]])
    values = np.column_stack(
        [np.ones(len(s_forecast), np.int64), scored.happened[s_forecast].astype(np.int64)]
    )
    keys, sums = _grouped(keys, values)
    if not len(keys):
        return np.zeros((0, 2), np.int64), np.zeros(0), [], np.zeros((0, 2), np.int64)
    probabilities = keys[:, 2].copy().view(np.float64)
    return keys[:, :2], probabilities, [names[code] for code in keys[:, 3].tolist()], sums


def _grouped(
    keys: npt.NDArray[np.int64], values: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Distinct rows of ``keys`` with the integer sums of their ``values`` (exact)."""
    if not len(keys):
        return keys, values
    order = np.lexsort(keys.T[::-1])
    keys, values = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)])
    return keys[starts], np.add.reduceat(values, starts, axis=0)
