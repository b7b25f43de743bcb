"""Score snapshots: every scope's scores as of a date, computed in one pass over the data.

The database is read once (three queries: resolutions, estimates, tags); the
per-forecast scores are computed with numpy for all forecasts at once; each
scope (everything, each forecaster, each source, each tag) is then a slice of
those arrays. No query runs per scope or per forecast.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from forecasts import scoring, selectors
from forecasts.caching import public_pages_changed
from forecasts.models import ScopeKind, ScoreRecompute, ScoreSnapshot
from forecasts.selectors.scorecard import phrase_table

# Ranking uses Brier pulled toward a coin flip's 0.25 as if every forecaster had
# also made this many 50 % forecasts: one lucky forecast cannot top a table.
SHRINK_PSEUDOCOUNT = 5
SHRINK_PRIOR = 0.25

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
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


@dataclass(frozen=True)
class SnapshotReport:
    as_of: dt.date
    scopes: int
    resolved: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"scores as of {self.as_of}: {self.resolved} resolved forecasts, "
            f"{self.scopes} scopes, {self.seconds:.2f} s"
        )


def scored_forecasts(rows: selectors.ScoreRows) -> ScoredForecasts:
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
    time_averaged = scoring.time_averaged_briers(
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

    grouped = scoring.grouped_scores(
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


def scores_snapshot(*, as_of: dt.date) -> SnapshotReport:
    """Compute and store every scope's scores as of a date, replacing that date's snapshots."""
    began = time.perf_counter()
    scored = scored_forecasts(selectors.score_rows(as_of=as_of))
    snapshots = _with_phrases(scope_snapshots(scored, as_of=as_of), as_of=as_of)
    _snapshots_replace(as_of, snapshots)
    return SnapshotReport(
        as_of=as_of,
        scopes=len(snapshots),
        resolved=len(scored.outcomes),
        seconds=time.perf_counter() - began,
    )


@dataclass(frozen=True)
class BackfillReport:
    dates: int
    first: dt.date | None
    last: dt.date
    seconds: float

    def __str__(self) -> str:
        if self.first is None:
            return (
                f"no resolved forecasts: 1 empty snapshot as of {self.last} ({self.seconds:.2f} s)"
            )
        return (
            f"{self.dates} snapshot dates from {self.first} to {self.last} ({self.seconds:.2f} s)"
        )


def scores_backfill(*, until: dt.date, progress: Progress | None = None) -> BackfillReport:
    """Snapshots weekly from the first known outcome to ``until``, plus ``until`` itself.

    The data is read once; each date is the same arrays cut at that date.
    """
    began = time.perf_counter()
    scored = scored_forecasts(selectors.score_rows(as_of=until))
    dates = backfill_dates(scored, until=until)
    for done, as_of in enumerate(dates, start=1):
        snapshots = scope_snapshots(scored.known_by(_day_number(as_of)), as_of=as_of)
        if as_of == until:  # the one the scorecard shows
            snapshots = _with_phrases(snapshots, as_of=as_of)
        _snapshots_replace(as_of, snapshots)
        if progress:
            progress(done, len(dates))
    first = dates[0] if len(scored.known_on) else None
    return BackfillReport(
        dates=len(dates), first=first, last=until, seconds=time.perf_counter() - began
    )


def backfill_dates(scored: ScoredForecasts, *, until: dt.date) -> list[dt.date]:
    if not len(scored.known_on):
        return [until]
    first = dt.date.fromordinal(int(scored.known_on.min()) + _EPOCH_ORDINAL)
    dates = []
    day = first
    while day < until:
        dates.append(day)
        day += dt.timedelta(weeks=1)
    return [*dates, until]


def scores_recompute_request() -> bool:
    """Queue one recompute of today's scores unless one is already pending.

    Called on commit of every resolution or correction. The claim is a
    conditional update of a single row, so concurrent resolutions queue one task;
    a claim older than ``SCORES_RECOMPUTE_STALE`` seconds (its task lost with a
    broker restart) is taken over.
    """
    from forecasts import tasks

    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.SCORES_RECOMPUTE_STALE)
    ScoreRecompute.objects.get_or_create(pk=1)
    claimed = (
        ScoreRecompute.objects.filter(pk=1)
        .filter(_pending_is_free(stale))
        .update(pending_since=now)
    )
    if claimed:
        tasks.scores_recompute.apply_async(countdown=settings.SCORES_RECOMPUTE_DELAY)
    return bool(claimed)


def scores_recompute_run(*, today: dt.date) -> SnapshotReport:
    """The queued recompute: release the claim first, so resolutions made while it runs
    queue another one, then snapshot today."""
    ScoreRecompute.objects.filter(pk=1).update(pending_since=None)
    return scores_snapshot(as_of=today)


def _pending_is_free(stale: dt.datetime) -> object:
    from django.db.models import Q

    return Q(pending_since__isnull=True) | Q(pending_since__lt=stale)


def _with_phrases(snapshots: list[ScoreSnapshot], *, as_of: dt.date) -> list[ScoreSnapshot]:
    """Store the phrase table with the overall snapshot, so the scorecard does not compute
    it (half its render time at 100,000 forecasts) on the request a change invalidated."""
    table = [row.to_dict() for row in phrase_table(known_by=as_of)]
    for snapshot in snapshots:
        if snapshot.scope_kind == ScopeKind.ALL:
            snapshot.phrases = table
    return snapshots


def _finite_or_none(value: float) -> float | None:
    """Skill against the base rate is undefined (NaN) when every outcome was the same."""
    return float(value) if np.isfinite(value) else None


def _snapshots_replace(as_of: dt.date, snapshots: list[ScoreSnapshot]) -> None:
    """Replace a date's snapshots in one transaction.

    Two runs for the same date at once: the second's insert meets the first's
    rows in the unique index and fails; it then retries and replaces them.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                ScoreSnapshot.objects.filter(as_of=as_of).delete()
                ScoreSnapshot.objects.bulk_create(snapshots, batch_size=500)
                transaction.on_commit(public_pages_changed)
            return
        except IntegrityError:
            if attempt == 2:
                raise


_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def _day_number(day: dt.date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL
