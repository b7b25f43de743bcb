"""Score snapshots: every scope's scores as of a date, stored; and the recompute a resolution
queues.

The database is read once (three queries: resolutions, estimates, tags,
:mod:`forecasts.scores.rows`) and scored in one pass (:mod:`forecasts.scores.compute`).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from forecasts.core.changes import public_pages_changed
from forecasts.scores import tasks
from forecasts.scores.compute import (
    Progress,
    ScoredForecasts,
    day_number,
    day_of,
    scope_snapshots,
    scored_forecasts,
)
from forecasts.scores.models import ScopeKind, ScoreRecompute, ScoreSnapshot
from forecasts.scores.phrase_table import phrase_table
from forecasts.scores.rows import score_rows


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


def scores_snapshot(*, as_of: dt.date) -> SnapshotReport:
    """Compute and store every scope's scores as of a date, replacing that date's snapshots."""
    began = time.perf_counter()
    scored = scored_forecasts(score_rows(as_of=as_of))
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
    scored = scored_forecasts(score_rows(as_of=until))
    dates = backfill_dates(scored, until=until)
    for done, as_of in enumerate(dates, start=1):
        snapshots = scope_snapshots(scored.known_by(day_number(as_of)), as_of=as_of)
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
    first = day_of(int(scored.known_on.min()))
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
    return Q(pending_since__isnull=True) | Q(pending_since__lt=stale)


def _with_phrases(snapshots: list[ScoreSnapshot], *, as_of: dt.date) -> list[ScoreSnapshot]:
    """Store the phrase table with the overall snapshot, so the scorecard does not compute
    it (half its render time at 100,000 forecasts) on the request a change invalidated."""
    table = [row.to_dict() for row in phrase_table(known_by=as_of)]
    for snapshot in snapshots:
        if snapshot.scope_kind == ScopeKind.ALL:
            snapshot.phrases = table
    return snapshots


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
