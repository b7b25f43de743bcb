"""Scoring every scope at once: per-forecast arrays in, unsaved snapshots out.

The per-forecast scores are computed with numpy for all forecasts at once; each
scope (everything, each forecaster, each source, each tag) is then a slice of
those arrays. No query runs per scope or per forecast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.utils import timezone

from forecasts.scores.additive import SHRINK_PRIOR, SHRINK_PSEUDOCOUNT
from forecasts.scores.grouped import grouped_scores
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.rows import ScoreRows
from forecasts.scores.standing import NEVER, Standings, standings
from forecasts.scores.time_averaged import time_averaged_briers
from forecasts.scores.validation import FloatArray, IntArray

# The ranking score is Brier pulled toward a coin flip's 0.25 as if every scope had
# also made SHRINK_PSEUDOCOUNT 50 % forecasts (defined in forecasts.scores.additive), so
# a short record weighs less than a long one. It does not stop one lucky forecast from
# topping a table (one 80 % forecast that came true scores 0.215, ahead of ten forecasts
# at 0.21): leaderboards rank only scopes with enough resolved forecasts for that
# (forecasts.scores.ranking).

Progress = Callable[[int, int], None]

# Scope kinds in a fixed numeric order for sorting.
_KINDS = (ScopeKind.ALL, ScopeKind.FORECASTER, ScopeKind.SOURCE, ScopeKind.TAG)


@dataclass(frozen=True)
class ScoredForecasts:
    """Per-forecast inputs and scores, one entry per standing (:mod:`.standing`): a
    forecast's resolution with the estimates it scores, and the days it stood on."""

    forecast_ids: IntArray
    forecaster_ids: IntArray
    source_ids: IntArray
    outcomes: FloatArray
    published_probabilities: FloatArray
    time_averaged_briers: FloatArray
    known_on: IntArray  # day numbers
    valid_from: IntArray  # the first day the standing held
    valid_to: IntArray  # the first day it no longer held (NEVER: it still does)
    tag_forecasts: IntArray  # index into the arrays above, one per (forecast, tag) pair
    tag_ids: IntArray
    opening_estimate_ids: IntArray  # the first estimate: its probability is the published one

    def standing_on(
        self, day: int, *, known_from: int | None = None, known_until: int | None = None
    ) -> ScoredForecasts:
        """The forecasts as they stood at the end of ``day`` (at most one entry each),
        optionally only those whose outcome became known from ``known_from`` to
        ``known_until``."""
        keep = (self.valid_from <= day) & (day < self.valid_to)
        if known_from is not None:
            keep &= self.known_on >= known_from
        if known_until is not None:
            keep &= self.known_on <= known_until
        new_index = np.cumsum(keep) - 1
        tag_keep = keep[self.tag_forecasts]
        return ScoredForecasts(
            forecast_ids=self.forecast_ids[keep],
            forecaster_ids=self.forecaster_ids[keep],
            source_ids=self.source_ids[keep],
            outcomes=self.outcomes[keep],
            published_probabilities=self.published_probabilities[keep],
            time_averaged_briers=self.time_averaged_briers[keep],
            known_on=self.known_on[keep],
            valid_from=self.valid_from[keep],
            valid_to=self.valid_to[keep],
            tag_forecasts=new_index[self.tag_forecasts[tag_keep]],
            tag_ids=self.tag_ids[tag_keep],
            opening_estimate_ids=self.opening_estimate_ids[keep],
        )


def scored_forecasts(rows: ScoreRows) -> ScoredForecasts:
    """The forecasts scored as the rows were read: standing at the end of their
    ``recorded_by`` day (or now), outcomes known from ``known_from`` to ``known_until``."""
    day = NEVER - 1 if rows.recorded_by is None else rows.recorded_by
    return scored_history(rows).standing_on(
        day, known_from=rows.known_from, known_until=rows.known_until
    )


def scored_history(rows: ScoreRows) -> ScoredForecasts:
    """Every standing of every forecast the rows hold, each scored once, with numpy.

    The published probability is the standing's first estimate (Brier at publication);
    the time-averaged Brier runs from it to the day the outcome became known (or the
    deadline, if earlier). A forecast with no estimate made before its outcome became
    known is not scored.
    """
    resolutions, estimates = rows.resolutions, rows.estimates
    found = None
    if len(resolutions) and len(estimates):
        found = _standings(rows)
    if found is None or not len(found.member_standing):  # nothing scored
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
        return ScoredForecasts(
            empty_i,
            empty_i,
            empty_i,
            empty_f,
            empty_f,
            empty_f,
            empty_i,
            empty_i,
            empty_i,
            empty_i,
            empty_i,
            empty_i,
        )
    scored = resolutions[found.resolution]
    members = found.member_standing
    est_days = estimates[found.member_estimate, 2].astype(np.int64)
    est_probs = estimates[found.member_estimate, 3]
    est_ids = estimates[found.member_estimate, 1].astype(np.int64)
    first = np.flatnonzero(np.r_[True, members[1:] != members[:-1]])

    outcomes = scored[:, 4]
    known = scored[:, 5].astype(np.int64)
    deadlines = scored[:, 3].astype(np.int64)
    time_averaged = time_averaged_briers(
        members, est_days, est_probs, outcomes, est_days[first], np.minimum(known, deadlines)
    )

    # Each standing carries its forecast's tags.
    tag_order = np.argsort(rows.tags[:, 0], kind="stable")
    tag_forecast = rows.tags[tag_order, 0].astype(np.int64)
    tag_ids = rows.tags[tag_order, 1].astype(np.int64)
    standing_forecast = scored[:, 0].astype(np.int64)
    lo = np.searchsorted(tag_forecast, standing_forecast, side="left")
    hi = np.searchsorted(tag_forecast, standing_forecast, side="right")
    counts = hi - lo
    tag_standing = np.repeat(np.arange(len(scored)), counts)
    tag_position = np.repeat(lo, counts) + (
        np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    return ScoredForecasts(
        forecast_ids=standing_forecast,
        forecaster_ids=scored[:, 1].astype(np.int64),
        source_ids=scored[:, 2].astype(np.int64),
        outcomes=outcomes,
        published_probabilities=est_probs[first],
        time_averaged_briers=time_averaged,
        known_on=known,
        valid_from=found.valid_from,
        valid_to=found.valid_to,
        tag_forecasts=tag_standing,
        tag_ids=tag_ids[tag_position],
        opening_estimate_ids=est_ids[first],
    )


def _standings(rows: ScoreRows) -> Standings:
    resolutions, estimates = rows.resolutions, rows.estimates
    return standings(
        forecasts=resolutions[:, 0].astype(np.int64),
        outcomes=resolutions[:, 4].astype(np.int64),
        known=resolutions[:, 5].astype(np.int64),
        recorded=resolutions[:, 6].astype(np.int64),
        estimate_forecasts=estimates[:, 0].astype(np.int64),
        estimate_ids=estimates[:, 1].astype(np.int64),
        estimate_made=estimates[:, 2].astype(np.int64),
        estimate_recorded=estimates[:, 4].astype(np.int64),
    )


def scope_snapshots(scored: ScoredForecasts, *, as_of: dt.date) -> list[ScoreSnapshot]:
    """Unsaved snapshots for every scope with at least one scored forecast (and always 'all')."""
    count = len(scored.outcomes)
    now = timezone.now()
    if count == 0:
        return [
            ScoreSnapshot(
                scope_kind=ScopeKind.ALL,
                scope_id=0,
                as_of=as_of,
                resolved_count=0,
                yes_count=0,
                computed_at=now,
            )
        ]
    everything = np.arange(count, dtype=np.int64)
    kinds = np.concatenate(
        [np.full(count, k, dtype=np.int64) for k in range(3)]
        + [np.full(len(scored.tag_ids), 3, dtype=np.int64)]
    )
    scope_ids = np.concatenate(
        [np.zeros(count, np.int64), scored.forecaster_ids, scored.source_ids, scored.tag_ids]
    )
    members = np.concatenate([everything, everything, everything, scored.tag_forecasts])
    order = np.lexsort((scope_ids, kinds))
    kinds, scope_ids, members = kinds[order], scope_ids[order], members[order]
    new_scope = np.r_[True, (kinds[1:] != kinds[:-1]) | (scope_ids[1:] != scope_ids[:-1])]
    group = np.cumsum(new_scope) - 1
    firsts = np.flatnonzero(new_scope)

    grouped = grouped_scores(
        group, scored.published_probabilities[members], scored.outcomes[members]
    )
    time_averaged = np.bincount(group, weights=scored.time_averaged_briers[members]) / grouped.count
    shrunk = (grouped.count * grouped.brier + SHRINK_PSEUDOCOUNT * SHRINK_PRIOR) / (
        grouped.count + SHRINK_PSEUDOCOUNT
    )
    return [
        ScoreSnapshot(
            scope_kind=_KINDS[kinds[first]],
            scope_id=int(scope_ids[first]),
            as_of=as_of,
            resolved_count=int(grouped.count[g]),
            yes_count=int(grouped.happened[g]),
            brier=float(grouped.brier[g]),
            shrunk_brier=float(shrunk[g]),
            time_averaged_brier=float(time_averaged[g]),
            log_loss=float(grouped.log_loss[g]),
            skill_vs_coin=float(grouped.skill_vs_coin[g]),
            skill_vs_base_rate=_finite_or_none(grouped.skill_vs_base_rate[g]),
            calibration=[b.to_dict() for b in grouped.calibration(g)],
            murphy=grouped.murphy(g).to_dict(),
            computed_at=now,
        )
        for g, first in enumerate(firsts.tolist())
    ]


def _finite_or_none(value: float) -> float | None:
    """Skill against the base rate is undefined (NaN) when every outcome was the same."""
    return float(value) if np.isfinite(value) else None


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def day_number(day: dt.date) -> int:
    """A date as whole days since 1970-01-01 (as :class:`~forecasts.scores.rows.DayNumber`)."""
    return day.toordinal() - _EPOCH_ORDINAL


def day_of(number: int) -> dt.date:
    return dt.date.fromordinal(number + _EPOCH_ORDINAL)
