"""Score snapshots: every scope's scores as of a date, stored.

A snapshot as of a date uses the record as it stood at the end of that day: the
resolutions recorded by then (a correction from the day it was recorded) and the
estimates recorded by then (:mod:`forecasts.scores.standing`). The database is read
once (three queries: resolutions, estimates, tags, :mod:`forecasts.scores.rows`) and
scored in one pass (:mod:`forecasts.scores.compute`).

Today's snapshots are kept up to date by the live scores (:mod:`forecasts.scores.live`)
in each change's own transaction; the nightly snapshot recomputes them from the whole
record and logs any difference from the live scores (there should be none).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from forecasts.core.changes import public_pages_changed
from forecasts.scores.bulk import objects_insert
from forecasts.scores.compute import (
    Progress,
    ScoredForecasts,
    day_number,
    day_of,
    scope_snapshots,
    scored_history,
)
from forecasts.scores.live import live_lock, scores_rebuild
from forecasts.scores.models import ScoreSnapshot
from forecasts.scores.rows import score_rows
from forecasts.scores.sums import live_snapshots
from forecasts.scores.verify import full_snapshots, snapshots_differences

logger = logging.getLogger(__name__)


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
    """Compute and store every scope's scores as of a date, as recorded by the end of that
    day, replacing that date's snapshots.

    Today's are the live scores' (kept in step with every change, and already stored):
    they are compared with the full computation and stored again; a difference is
    logged as an error (``verify_scores`` lists them all)."""
    began = time.perf_counter()
    today = as_of == timezone.localdate()
    # The phrase table reads today's opening phrases: a past date's stores none rather
    # than today's as that day's.
    snapshots = full_snapshots(as_of=as_of, phrases=today)
    if today:
        snapshots = _today_checked(snapshots, as_of=as_of)
    else:
        _snapshots_replace(as_of, snapshots)
    return SnapshotReport(
        as_of=as_of,
        scopes=len(snapshots),
        resolved=snapshots[0].resolved_count if snapshots else 0,
        seconds=time.perf_counter() - began,
    )


def _today_checked(full: list[ScoreSnapshot], *, as_of: dt.date) -> list[ScoreSnapshot]:
    """Compare today's live scores with ``full`` (computed from the whole record) and store
    them as today's snapshots, under the live scores' lock (so no change slips between
    reading and storing them). Should they differ, the record wins: the difference is
    logged as an error and the live scores are rebuilt from it."""
    with transaction.atomic():
        live_lock()
        live = live_snapshots(as_of=as_of)
        differences = snapshots_differences(
            {(s.scope_kind, s.scope_id): s for s in full},
            {(s.scope_kind, s.scope_id): s for s in live},
        )
        if differences:
            logger.error(
                "live scores differed from the full snapshot as of %s in %d places (first: "
                "%s); rebuilt them from the record. A change written without the services "
                "does this; manage.py verify_scores lists the differences.",
                as_of,
                len(differences),
                differences[0],
            )
            scores_rebuild(snapshots=False)
            live = live_snapshots(as_of=as_of)
        _snapshots_replace(as_of, live)
    return live


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
    """The whole score history up to ``until``, as one series: snapshots weekly from the
    first day a scored outcome was on record, plus ``until`` itself.

    The data is read once and every standing scored once; each date is the forecasts as
    they stood on it. Each date's snapshots are replaced whole; afterwards every other
    snapshot date up to ``until`` (a nightly or ``--date`` snapshot between the weekly
    dates, an earlier backfill's grid, dates before the first recorded outcome) is
    deleted, so the history is this run's series only. Dates after ``until`` are kept.
    """
    began = time.perf_counter()
    history = scored_history(score_rows(as_of=until, recorded_by=until))
    dates = backfill_dates(history, until=until)
    for done, as_of in enumerate(dates, start=1):
        day = day_number(as_of)
        snapshots = scope_snapshots(history.standing_on(day, known_until=day), as_of=as_of)
        if as_of == until == timezone.localdate():
            snapshots = _today_checked(snapshots, as_of=as_of)  # with the phrase table
        _snapshots_replace(as_of, snapshots)
        if progress:
            progress(done, len(dates))
    _snapshots_superseded_delete(keep=dates, until=until)
    first = dates[0] if len(history.valid_from) else None
    return BackfillReport(
        dates=len(dates), first=first, last=until, seconds=time.perf_counter() - began
    )


def backfill_dates(scored: ScoredForecasts, *, until: dt.date) -> list[dt.date]:
    """Weekly from the first day any scored forecast stood on record, then ``until``."""
    if not len(scored.valid_from) or int(scored.valid_from.min()) > day_number(until):
        return [until]
    first = day_of(int(scored.valid_from.min()))
    dates = []
    day = first
    while day < until:
        dates.append(day)
        day += dt.timedelta(weeks=1)
    return [*dates, until]


def _snapshots_replace(as_of: dt.date, snapshots: list[ScoreSnapshot]) -> None:
    """Replace a date's snapshots in one transaction.

    Two runs for the same date at once: the second's insert meets the first's
    rows in the unique index and fails; it then retries and replaces them.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():  # a savepoint inside _today_checked
                ScoreSnapshot.objects.filter(as_of=as_of).delete()
                objects_insert(snapshots)
                transaction.on_commit(public_pages_changed)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _snapshots_superseded_delete(*, keep: list[dt.date], until: dt.date) -> None:
    """Delete every snapshot date up to ``until`` that is not one of ``keep``."""
    kept = set(keep)
    stale = [
        day
        for day in ScoreSnapshot.objects.filter(as_of__lte=until)
        .order_by()
        .values_list("as_of", flat=True)
        .distinct()
        if day not in kept
    ]
    if not stale:
        return
    with transaction.atomic():
        for start in range(0, len(stale), 500):  # SQLite allows so many parameters
            ScoreSnapshot.objects.filter(as_of__in=stale[start : start + 500]).delete()
        transaction.on_commit(public_pages_changed)
