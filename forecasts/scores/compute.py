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

from forecasts.scores.grouped import grouped_scores
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.rows import ScoreRows
from forecasts.scores.time_averaged import time_averaged_briers
from forecasts.scores.validation import FloatArray, IntArray

# The ranking score is Brier pulled toward a coin flip's 0.25 as if every scope had
# also made this many 50 % forecasts, so a short record weighs less than a long one.
# It does not stop one lucky forecast from topping a table (one 80 % forecast that
# came true scores 0.215, ahead of ten forecasts at 0.21): leaderboards rank only
# scopes with enough resolved forecasts for that (forecasts.scores.ranking).
SHRINK_PSEUDOCOUNT = 5
SHRINK_PRIOR = 0.25

Progress = Callable[[int, int], None]

# Scope kinds in a fixed numeric order for sorting.
_KINDS = (ScopeKind.ALL, ScopeKind.FORECASTER, ScopeKind.SOURCE, ScopeKind.TAG)


@dataclass(frozen=True)
class ScoredForecasts:
    """Per-forecast inputs and scores for every forecast scored as of some date."""

    forecaster_ids: IntArray
    source_ids: IntArray
    outcomes: FloatArray
    published_probabilities: FloatArray
    time_averaged_briers: FloatArray
    known_on: IntArray  # day numbers
    tag_forecasts: IntArray  # index into the arrays above, one per (forecast, tag) pair
    tag_ids: IntArray

    def known_by(self, day: int) -> ScoredForecasts:
        """The subset whose outcome was known on or before ``day`` (for backfills)."""
        keep = self.known_on <= day
        new_index = np.cumsum(keep) - 1
        tag_keep = keep[self.tag_forecasts]
        return ScoredForecasts(
            forecaster_ids=self.forecaster_ids[keep],
            source_ids=self.source_ids[keep],
            outcomes=self.outcomes[keep],
            published_probabilities=self.published_probabilities[keep],
            time_averaged_briers=self.time_averaged_briers[keep],
            known_on=self.known_on[keep],
            tag_forecasts=new_index[self.tag_forecasts[tag_keep]],
            tag_ids=self.tag_ids[tag_keep],
        )


def scored_forecasts(rows: ScoreRows) -> ScoredForecasts:
    """Turn the rows into per-forecast arrays, scoring every forecast at once."""
    resolutions, estimates = rows.resolutions, rows.estimates
    if not len(resolutions) or not len(estimates):
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float64)
        return ScoredForecasts(
            empty_i, empty_i, empty_f, empty_f, empty_f, empty_i, empty_i, empty_i
        )
    resolutions = resolutions[np.argsort(resolutions[:, 0], kind="stable")]
    forecast_ids = resolutions[:, 0].astype(np.int64)
    est_forecast = estimates[:, 0].astype(np.int64)
    # A forecast typed into the admin without any estimate cannot be scored.
    has_estimate = np.isin(forecast_ids, est_forecast)
    if not has_estimate.all():
        resolutions, forecast_ids = resolutions[has_estimate], forecast_ids[has_estimate]
    est_index = np.searchsorted(forecast_ids, est_forecast)
    est_ids = estimates[:, 1].astype(np.int64)
    est_days = estimates[:, 2].astype(np.int64)
    order = np.lexsort((est_ids, est_days, est_index))
    est_index, est_days = est_index[order], est_days[order]
    est_probs = estimates[order, 3]
    first = np.flatnonzero(np.r_[True, est_index[1:] != est_index[:-1]])

    outcomes = resolutions[:, 4]
    known = resolutions[:, 5].astype(np.int64)
    deadlines = resolutions[:, 3].astype(np.int64)
    time_averaged = time_averaged_briers(
        est_index, est_days, est_probs, outcomes, est_days[first], np.minimum(known, deadlines)
    )

    tag_forecast = rows.tags[:, 0].astype(np.int64)
    position = np.searchsorted(forecast_ids, tag_forecast)
    in_range = np.minimum(position, len(forecast_ids) - 1)
    tag_known = forecast_ids[in_range] == tag_forecast
    return ScoredForecasts(
        forecaster_ids=resolutions[:, 1].astype(np.int64),
        source_ids=resolutions[:, 2].astype(np.int64),
        outcomes=outcomes,
        published_probabilities=est_probs[first],
        time_averaged_briers=time_averaged,
        known_on=known,
        tag_forecasts=position[tag_known],
        tag_ids=rows.tags[tag_known, 1].astype(np.int64),
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
