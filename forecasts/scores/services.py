"""Score snapshots: every scope's scores as of a date, stored; and the recompute a resolution
queues.

A snapshot as of a date uses the record as it stood at the end of that day: the
resolutions recorded by then (a correction from the day it was recorded) and the
estimates recorded by then (:mod:`forecasts.scores.standing`). The database is read
once (three queries: resolutions, estimates, tags, :mod:`forecasts.scores.rows`) and
scored in one pass (:mod:`forecasts.scores.compute`).
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
    scored_history,
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
    """Compute and store every scope's scores as of a date, as recorded by the end of that
    day, replacing that date's snapshots."""
    began = time.perf_counter()
    scored = scored_forecasts(score_rows(as_of=as_of, recorded_by=as_of))
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
        if as_of == until:  # the one the scorecard shows
            snapshots = _with_phrases(snapshots, as_of=as_of)
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
    it (half its render time at 100,000 forecasts) on the request a change invalidated.

    Only for today: the table reads the record as it stands now, so a snapshot of a past
    date (``--date``) leaves it out ("not computed", as backfilled dates do) rather than
    store today's resolutions as that day's."""
    if as_of < timezone.localdate():
        return snapshots
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
