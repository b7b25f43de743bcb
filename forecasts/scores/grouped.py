"""Scores of many groups (scopes) at once: a few passes over the forecasts whatever the
number of groups, so a snapshot of hundreds of scopes costs about as much as one.

Row g of :class:`GroupedScores` equals what the single-group functions of
:mod:`forecasts.scores.maths` give for the forecasts in group g, under the same
conventions. Pure: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from forecasts.scores.maths import (
    CalibrationBin,
    Murphy,
    bins_checked,
    calibration_from_sums,
    log_losses,
)
from forecasts.scores.validation import FloatArray, IntArray, as_ints, same_length, validate


@dataclass(frozen=True, slots=True)
class GroupedScores:
    """The scores of many groups computed in one pass; row g equals what the
    single-group functions give for the forecasts in group g.

    Empty groups have count 0 and NaN scores. ``skill_vs_base_rate`` is NaN
    where it is undefined (every outcome in the group the same).
    """

    count: IntArray
    happened: IntArray
    brier: FloatArray
    log_loss: FloatArray
    skill_vs_coin: FloatArray
    skill_vs_base_rate: FloatArray
    reliability: FloatArray
    resolution: FloatArray
    uncertainty: FloatArray
    bin_edges: FloatArray
    bin_count: IntArray  # (groups, bins)
    bin_probability_sum: FloatArray  # (groups, bins)
    bin_happened: FloatArray  # (groups, bins)

    def calibration(self, group: int) -> list[CalibrationBin]:
        """The group's calibration bins, as :func:`forecasts.scores.maths.calibration_bins`
        gives them."""
        return calibration_from_sums(
            self.bin_edges,
            counts=self.bin_count[group],
            probability_sums=self.bin_probability_sum[group],
            happened=self.bin_happened[group],
        )

    def murphy(self, group: int) -> Murphy:
        return Murphy(
            reliability=float(self.reliability[group]),
            resolution=float(self.resolution[group]),
            uncertainty=float(self.uncertainty[group]),
        )


def grouped_scores(
    groups: npt.ArrayLike,
    probabilities: npt.ArrayLike,
    outcomes: npt.ArrayLike,
    *,
    n_groups: int | None = None,
    n_bins: int = 10,
) -> GroupedScores:
    """Brier, log loss, skill, Murphy terms and calibration bins for every group at once.

    ``groups[i]`` (an integer ≥ 0) says which group forecast i belongs to; a
    forecast may appear in several groups by repeating it. The cost is a few
    passes over the input whatever the number of groups, so a snapshot of
    hundreds of scopes costs about as much as one.
    """
    n_bins = bins_checked(n_bins)
    p, o = validate(probabilities, outcomes)
    g = as_ints("groups", groups)
    same_length(groups=g, probabilities=p)
    if g.min() < 0:
        raise ValueError(f"groups[{int(np.argmin(g))}] = {int(g.min())} must not be negative")
    size = int(g.max()) + 1 if n_groups is None else int(n_groups)
    if size <= g.max():
        raise ValueError(f"n_groups = {size} is too small for group {int(g.max())}")

    count = np.bincount(g, minlength=size)
    happened_sum = np.bincount(g, weights=o, minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        brier = np.bincount(g, weights=(p - o) ** 2, minlength=size) / count
        log_loss = np.bincount(g, weights=log_losses(p, o), minlength=size) / count
        base_rate = happened_sum / count
        uncertainty = base_rate * (1.0 - base_rate)
        skill_vs_base_rate = np.where(uncertainty > 0, 1.0 - brier / uncertainty, np.nan)

        # Murphy: runs of equal (group, probability) after sorting.
        order = np.lexsort((p, g))
        g_sorted, p_sorted, o_sorted = g[order], p[order], o[order]
        starts = np.flatnonzero(
            np.r_[True, (g_sorted[1:] != g_sorted[:-1]) | (p_sorted[1:] != p_sorted[:-1])]
        )
        run_size = np.diff(np.r_[starts, g_sorted.size])
        run_group = g_sorted[starts]
        run_value = p_sorted[starts]
        run_frequency = np.add.reduceat(o_sorted, starts) / run_size
        reliability = (
            np.bincount(
                run_group, weights=run_size * (run_value - run_frequency) ** 2, minlength=size
            )
            / count
        )
        resolution = (
            np.bincount(
                run_group,
                weights=run_size * (run_frequency - base_rate[run_group]) ** 2,
                minlength=size,
            )
            / count
        )

    edges = np.linspace(0.0, 1.0, n_bins + 1)
    cell = g * n_bins + np.searchsorted(edges[1:-1], p)
    cells = size * n_bins
    return GroupedScores(
        count=count.astype(np.int64),
        happened=np.rint(happened_sum).astype(np.int64),
        brier=brier,
        log_loss=log_loss,
        # Always saying 50 % scores exactly 0.25 on 0/1 outcomes.
        skill_vs_coin=1.0 - brier / 0.25,
        skill_vs_base_rate=skill_vs_base_rate,
        reliability=reliability,
        resolution=resolution,
        uncertainty=uncertainty,
        bin_edges=edges,
        bin_count=np.bincount(cell, minlength=cells).reshape(size, n_bins).astype(np.int64),
        bin_probability_sum=np.bincount(cell, weights=p, minlength=cells)
        .astype(np.float64)
        .reshape(size, n_bins),
        bin_happened=np.bincount(cell, weights=o, minlength=cells)
        .astype(np.float64)
        .reshape(size, n_bins),
    )
