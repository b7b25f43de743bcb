"""Live scores: every scored forecast's scores and every scope's sums, kept in step with the
record in the transaction that changes it.

A resolution, correction or annulment, an amendment that moves a forecast to another
forecaster or source, a change of a published forecast's tags and a publication all end
in :func:`scores_refresh` (through :data:`forecasts.core.changes.scored_record_changed`),
inside their own transaction. It scores the changed forecasts afresh (the same
arrays and maths as a full snapshot, :mod:`forecasts.scores.compute`), moves the stored
sums by the difference between the old :class:`ForecastScore` rows and the new ones
(:mod:`forecasts.scores.additive`), and rewrites today's snapshots of the scopes that
changed. So the moment a resolution commits, the headline, the leaderboards, the
scope pages and ``/api/scores`` all count it; no job has to run first.

The nightly full snapshot computes everything from the record again and checks that the
live scores agree (:func:`scores_verify`, also ``manage.py verify_scores``).

Writers serialise on one row (the sums of everything, never deleted), locked first,
so concurrent resolutions cannot both add the same forecast, and never deadlock.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from forecasts.core.models import Basis, Estimate
from forecasts.scores import additive
from forecasts.scores.additive import (
    ALL_TIME,
    ANY_TAG,
    Delta,
    ScoredArrays,
    ScoredForecast,
    Sums,
    TallyRow,
    month_of,
)
from forecasts.scores.compute import day_of, scope_snapshots, scored_forecasts
from forecasts.scores.maths import PhraseCalibration, log_losses, wilson_interval
from forecasts.scores.models import (
    ForecastScore,
    ScopeKind,
    ScoreSnapshot,
    ScoreSum,
    ScoreTally,
)
from forecasts.scores.rows import score_rows

EVERYTHING_KEY = {"scope_kind": ScopeKind.ALL, "scope_id": 0, "tag_id": ANY_TAG, "month": ALL_TIME}
# Opening estimates' phrases are read this many ids at a time.
PHRASE_CHUNK = 10_000

Scope = tuple[str, int]


# --- Scoring forecasts as they stand now ----------------------------------------------


@dataclass(frozen=True)
class ScoredNow:
    """Forecasts as they are scored now, as arrays (one entry per forecast)."""

    forecast_ids: npt.NDArray[np.int64]
    known_days: npt.NDArray[np.int64]  # day numbers
    arrays: ScoredArrays


def scored_arrays_now(forecast_ids: Sequence[int] | None = None) -> ScoredNow:
    """The given forecasts (all, when None) as they are scored now: those resolved YES or
    NO with an estimate made before the outcome became known."""
    today = timezone.localdate()
    scored = scored_forecasts(
        score_rows(
            as_of=today, forecast_ids=None if forecast_ids is None else list(forecast_ids)
        )
    )
    p, o = scored.published_probabilities, scored.outcomes
    phrases = opening_phrases(scored.opening_estimate_ids.tolist())
    known = scored.known_on.astype("datetime64[D]")
    years = known.astype("datetime64[Y]").astype(np.int64) + 1970
    months = known.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return ScoredNow(
        forecast_ids=scored.forecast_ids,
        known_days=scored.known_on,
        arrays=ScoredArrays(
            forecaster_ids=scored.forecaster_ids,
            source_ids=scored.source_ids,
            tag_forecasts=scored.tag_forecasts,
            tag_ids=scored.tag_ids,
            probabilities=p,
            phrases=[phrases.get(pk, "") for pk in scored.opening_estimate_ids.tolist()],
            happened=(o == 1.0).astype(np.int64),
            months=years * 100 + months,
            brier=(p - o) ** 2,
            log_loss=log_losses(p, o),
            time_averaged=scored.time_averaged_briers,
        ),
    )


def scored_now(forecast_ids: Sequence[int] | None = None) -> dict[int, ScoredForecast]:
    """:func:`scored_arrays_now` as one :class:`ScoredForecast` per forecast id."""
    return dict(scored_now_rows(scored_arrays_now(forecast_ids)))


def opening_phrases(estimate_ids: list[int]) -> dict[int, str]:
    """The phrase (stripped, lower case) of each of these estimates that is a verbal phrase
    about the proposition itself; a number or a phrase about its negation is left out, as
    the phrase table leaves them out."""
    phrases: dict[int, str] = {}
    for start in range(0, len(estimate_ids), PHRASE_CHUNK):
        chunk = estimate_ids[start : start + PHRASE_CHUNK]
        rows = Estimate.objects.filter(pk__in=chunk, basis=Basis.PHRASE, negated=False)
        for pk, phrase in rows.order_by().values_list("pk", "phrase"):
            key = phrase.strip().lower()
            if key:
                phrases[pk] = key
    return phrases


def _stored(row: ForecastScore) -> ScoredForecast:
    return ScoredForecast(
        forecaster_id=row.forecaster_id,
        source_id=row.source_id,
        tag_ids=tuple(row.tags),
        probability=row.probability,
        phrase=row.phrase,
        happened=row.happened,
        known_on=row.known_on,
        brier=row.brier,
        log_loss=row.log_loss,
        time_averaged_brier=row.time_averaged_brier,
    )


def _row(forecast_id: int, scored: ScoredForecast, now: dt.datetime) -> ForecastScore:
    return ForecastScore(
        forecast_id=forecast_id,
        forecaster_id=scored.forecaster_id,
        source_id=scored.source_id,
        tags=list(scored.tag_ids),
        probability=scored.probability,
        phrase=scored.phrase,
        happened=scored.happened,
        known_on=scored.known_on,
        brier=scored.brier,
        log_loss=scored.log_loss,
        time_averaged_brier=scored.time_averaged_brier,
        updated_at=now,
    )


# --- Writing -------------------------------------------------------------------------


def live_lock() -> None:
    """Take the live scores' lock (the row of everything's sums) until the transaction ends."""
    table = connection.ops.quote_name(ScoreSum._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope_kind, scope_id, tag_id, month, resolved_count, "
            "yes_count, brier_sum, log_loss_sum, time_averaged_sum) "
            "VALUES (%s, 0, 0, 0, 0, 0, 0, 0, 0) "
            "ON CONFLICT (scope_kind, scope_id, tag_id, month) DO NOTHING",
            [ScopeKind.ALL.value],
        )
    ScoreSum.objects.select_for_update().filter(**EVERYTHING_KEY).get()


def scores_refresh(*, forecast_ids: Iterable[int]) -> int:
    """Score these forecasts afresh and move the live sums and today's snapshots by what
    changed. Runs in the caller's transaction (it must be in one). Returns how many of
    the forecasts' scores changed."""
    ids = sorted({int(pk) for pk in forecast_ids})
    if not ids:
        return 0
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("scores_refresh runs inside the transaction that changed the record")
    live_lock()
    new = scored_now(ids)
    old = {row.pk: _stored(row) for row in ForecastScore.objects.filter(pk__in=ids)}
    changed = [pk for pk in ids if old.get(pk) != new.get(pk)]
    if not changed:
        return 0
    delta = Delta.between(
        [old[pk] for pk in changed if pk in old], [new[pk] for pk in changed if pk in new]
    )
    _apply(delta)
    now = timezone.now()
    ForecastScore.objects.filter(pk__in=changed).delete()
    ForecastScore.objects.bulk_create([_row(pk, new[pk], now) for pk in changed if pk in new])
    _today_snapshots_update(delta.scopes)
    return len(changed)


def _apply(delta: Delta) -> None:
    """Add the delta to the stored sums and tallies, then drop the rows it emptied (except
    everything's): one statement each, by primary key."""
    sums = sorted(delta.sums.items())
    tallies = sorted(delta.tallies.items())
    if sums:
        emptied = _upsert_add(
            ScoreSum._meta.db_table,
            ("scope_kind", "scope_id", "tag_id", "month"),
            ("resolved_count", "yes_count", "brier_sum", "log_loss_sum", "time_averaged_sum"),
            [(*key, s.count, s.yes, s.brier, s.log_loss, s.time_averaged) for key, s in sums],
        )
        if emptied:
            ScoreSum.objects.filter(pk__in=emptied).exclude(**EVERYTHING_KEY).delete()
    if tallies:
        emptied = _upsert_add(
            ScoreTally._meta.db_table,
            ("scope_kind", "scope_id", "probability", "phrase"),
            ("resolved_count", "yes_count"),
            [(*key, count, yes) for key, (count, yes) in tallies],
        )
        if emptied:
            ScoreTally.objects.filter(pk__in=emptied).delete()


def _upsert_add(
    table: str,
    keys: tuple[str, ...],
    values: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> list[int]:
    """INSERT the rows, or add their values to the rows already there (PostgreSQL and
    SQLite both know ``ON CONFLICT … DO UPDATE … RETURNING``); returns the ids of the
    rows left with a count of 0."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in (*keys, *values))
    placeholders = "(" + ", ".join(["%s"] * (len(keys) + len(values))) + ")"
    updates = ", ".join(
        f"{quote(v)} = {quote(table)}.{quote(v)} + excluded.{quote(v)}" for v in values
    )
    emptied: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 100):  # SQLite allows so many parameters
            batch = rows[start : start + 100]
            cursor.execute(
                f"INSERT INTO {quote(table)} ({columns}) VALUES "
                + ", ".join([placeholders] * len(batch))
                + f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {updates}"
                + f" RETURNING id, {quote(values[0])}",
                [value for row in batch for value in row],
            )
            emptied.extend(pk for pk, count in cursor.fetchall() if count == 0)
    return emptied


def _keys_q(keys: list[dict[str, Any]]) -> Q | None:
    query: Q | None = None
    for key in keys:
        query = Q(**key) if query is None else query | Q(**key)
    return query


@dataclass(frozen=True)
class RebuildReport:
    forecasts: int
    sums: int
    tallies: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"live scores rebuilt: {self.forecasts:,} scored forecasts, {self.sums:,} sums, "
            f"{self.tallies:,} tallies ({self.seconds:.1f} s)"
        )


@transaction.atomic
def scores_rebuild(*, snapshots: bool = True) -> RebuildReport:
    """Score every forecast afresh and replace the live rows and sums, and (unless
    ``snapshots`` is False) today's snapshots with them. For data written without the
    services (the synthetic data generator, a migration) and to repair what
    :func:`scores_verify` finds."""
    began = time.perf_counter()
    live_lock()
    now = scored_arrays_now()
    scored = scored_now_rows(now)
    sum_keys, sum_values = additive.sum_table(now.arrays)
    tally_scopes, probabilities, phrases, tally_values = additive.tally_table(now.arrays)
    stamp = timezone.now()
    ForecastScore.objects.all().delete()
    _insert(
        ForecastScore,
        ("forecast_id", "forecaster_id", "source_id", "tags", "probability", "phrase",
         "happened", "known_on", "brier", "log_loss", "time_averaged_brier", "updated_at"),
        (
            (pk, s.forecaster_id, s.source_id, json.dumps(list(s.tag_ids)), s.probability,
             s.phrase, s.happened, s.known_on, s.brier, s.log_loss, s.time_averaged_brier, stamp)
            for pk, s in scored
        ),
    )
    ScoreSum.objects.exclude(**EVERYTHING_KEY).delete()
    ScoreSum.objects.filter(**EVERYTHING_KEY).update(
        resolved_count=0, yes_count=0, brier_sum=0, log_loss_sum=0, time_averaged_sum=0
    )
    everything = np.all(sum_keys == 0, axis=1)
    if everything.any():
        count, yes, brier, log_loss, time_averaged = sum_values[everything][0].tolist()
        ScoreSum.objects.filter(**EVERYTHING_KEY).update(
            resolved_count=count,
            yes_count=yes,
            brier_sum=brier,
            log_loss_sum=log_loss,
            time_averaged_sum=time_averaged,
        )
    _insert(
        ScoreSum,
        ("scope_kind", "scope_id", "tag_id", "month", "resolved_count", "yes_count",
         "brier_sum", "log_loss_sum", "time_averaged_sum"),
        (
            (additive.KIND_NAMES[key[0]], *key[1:], *value)
            for key, value in zip(
                sum_keys[~everything].tolist(), sum_values[~everything].tolist(), strict=True
            )
        ),
    )
    ScoreTally.objects.all().delete()
    _insert(
        ScoreTally,
        ("scope_kind", "scope_id", "probability", "phrase", "resolved_count", "yes_count"),
        (
            (additive.KIND_NAMES[kind], scope_id, probability, phrase, count, yes)
            for (kind, scope_id), probability, phrase, (count, yes) in zip(
                tally_scopes.tolist(), probabilities.tolist(), phrases, tally_values.tolist(),
                strict=True,
            )
        ),
    )
    if snapshots:
        _today_snapshots_replace(timezone.localdate())
    return RebuildReport(
        forecasts=len(scored),
        sums=len(sum_keys),
        tallies=len(tally_scopes),
        seconds=time.perf_counter() - began,
    )


def scored_now_rows(now: ScoredNow) -> list[tuple[int, ScoredForecast]]:
    """The forecasts of :func:`scored_arrays_now` as (id, :class:`ScoredForecast`)."""
    a = now.arrays
    tags: dict[int, list[int]] = {}
    for index, tag in zip(a.tag_forecasts.tolist(), a.tag_ids.tolist(), strict=True):
        tags.setdefault(index, []).append(tag)
    days = [day_of(day) for day in now.known_days.tolist()]
    return [
        (
            forecast_id,
            ScoredForecast(
                forecaster_id=forecaster,
                source_id=source,
                tag_ids=tuple(sorted(tags.get(i, ()))),
                probability=probability,
                phrase=a.phrases[i],
                happened=bool(happened),
                known_on=days[i],
                brier=brier,
                log_loss=log_loss,
                time_averaged_brier=time_averaged,
            ),
        )
        for i, (forecast_id, forecaster, source, probability, happened, brier, log_loss,
                time_averaged) in enumerate(
            zip(
                now.forecast_ids.tolist(), a.forecaster_ids.tolist(), a.source_ids.tolist(),
                a.probabilities.tolist(), a.happened.tolist(), a.brier.tolist(),
                a.log_loss.tolist(), a.time_averaged.tolist(), strict=True,
            )
        )
    ]


def _insert(model: Any, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert many rows fast: PostgreSQL's COPY, else executemany in batches."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 5000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _today_snapshots_update(scopes: set[Scope]) -> None:
    """Rewrite today's snapshots of these scopes from the live sums; the first change of a
    day writes every scope's (the history has one point per day)."""
    today = timezone.localdate()
    if not ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL, scope_id=0, as_of=today).exists():
        _today_snapshots_replace(today)
        return
    chosen = _scopes_q(scopes)
    if chosen is None:
        return
    ScoreSnapshot.objects.filter(chosen, as_of=today).delete()
    ScoreSnapshot.objects.bulk_create(live_snapshots(as_of=today, scopes=scopes))


def _today_snapshots_replace(today: dt.date) -> None:
    ScoreSnapshot.objects.filter(as_of=today).delete()
    ScoreSnapshot.objects.bulk_create(live_snapshots(as_of=today), batch_size=500)


def _scopes_q(scopes: Iterable[Scope]) -> Q | None:
    by_kind: dict[str, list[int]] = {}
    for kind, scope_id in scopes:
        by_kind.setdefault(kind, []).append(scope_id)
    return _keys_q(
        [{"scope_kind": kind, "scope_id__in": sorted(ids)} for kind, ids in sorted(by_kind.items())]
    )


# --- Reading -------------------------------------------------------------------------


def live_snapshots(*, as_of: dt.date, scopes: Iterable[Scope] | None = None) -> list[ScoreSnapshot]:
    """Unsaved snapshots, as of ``as_of``, of the given scopes (every scope with a scored
    forecast when None; everything's always, even with none) from the live sums: two
    queries, each reading a row per scope (and per probability and phrase)."""
    wanted = None if scopes is None else set(scopes)
    sums = ScoreSum.objects.filter(tag_id=ANY_TAG, month=ALL_TIME, resolved_count__gt=0)
    tallies = ScoreTally.objects.filter(resolved_count__gt=0)
    if wanted is not None:
        chosen = _scopes_q(wanted)
        if chosen is None:
            return []
        sums, tallies = sums.filter(chosen), tallies.filter(chosen)
    by_scope: dict[Scope, Sums] = {
        (row.scope_kind, row.scope_id): _sums(row) for row in sums.order_by()
    }
    tally: dict[Scope, list[TallyRow]] = {}
    for kind, scope_id, probability, phrase, count, yes in tallies.order_by().values_list(
        "scope_kind", "scope_id", "probability", "phrase", "resolved_count", "yes_count"
    ):
        tally.setdefault((kind, scope_id), []).append(TallyRow(probability, phrase, count, yes))
    if wanted is None or (ScopeKind.ALL.value, 0) in wanted:
        by_scope.setdefault((ScopeKind.ALL.value, 0), Sums())
    now = timezone.now()
    return [
        snapshot_from_sums(kind, scope_id, as_of, by_scope[(kind, scope_id)],
                           tally.get((kind, scope_id), []), now)
        for kind, scope_id in sorted(by_scope)
    ]


def _sums(row: ScoreSum) -> Sums:
    return Sums(row.resolved_count, row.yes_count, row.brier_sum, row.log_loss_sum,
                row.time_averaged_sum)


def snapshot_from_sums(
    kind: str,
    scope_id: int,
    as_of: dt.date,
    sums: Sums,
    tally: Sequence[TallyRow],
    computed_at: dt.datetime,
) -> ScoreSnapshot:
    """An unsaved snapshot with a scope's scores from its sums (calibration, the Murphy
    decomposition and, for everything, the phrase table from its tally)."""
    scores = additive.means(sums)
    snapshot = ScoreSnapshot(
        scope_kind=kind,
        scope_id=scope_id,
        as_of=as_of,
        resolved_count=scores.resolved_count,
        yes_count=scores.yes_count,
        brier=scores.brier,
        shrunk_brier=scores.shrunk_brier,
        time_averaged_brier=scores.time_averaged_brier,
        log_loss=scores.log_loss,
        skill_vs_coin=scores.skill_vs_coin,
        skill_vs_base_rate=scores.skill_vs_base_rate,
        computed_at=computed_at,
    )
    if sums.count > 0 and tally:
        snapshot.calibration = [b.to_dict() for b in additive.calibration(tally)]
        snapshot.murphy = additive.murphy(tally).to_dict()
    if kind == ScopeKind.ALL:
        snapshot.phrases = [row.to_dict() for row in phrase_rows(tally)]
    return snapshot


def phrase_rows(tally: Sequence[TallyRow]) -> list[PhraseCalibration]:
    """The phrase table from a tally: most used phrase first, then alphabetically."""
    counts = additive.phrase_counts(tally)
    rows = []
    for phrase in sorted(counts, key=lambda key: (-counts[key][0], key)):
        count, happened = counts[phrase]
        low, high = wilson_interval(happened, count)
        rows.append(PhraseCalibration(phrase, count, happened, happened / count, low, high))
    return rows


def scope_phrase_table(*, kind: str, scope_id: int) -> list[PhraseCalibration]:
    """A scope's phrase table as it stands now: one query of its tally."""
    rows = ScoreTally.objects.filter(
        scope_kind=kind, scope_id=scope_id, resolved_count__gt=0
    ).exclude(phrase="")
    return phrase_rows(
        [
            TallyRow(probability, phrase, count, yes)
            for probability, phrase, count, yes in rows.order_by().values_list(
                "probability", "phrase", "resolved_count", "yes_count"
            )
        ]
    )


def period_sums(
    *,
    tag_id: int | None,
    known_from: dt.date | None,
    known_until: dt.date | None,
    today: dt.date,
) -> dict[Scope, Sums]:
    """Every scope's sums over the forecasts with ``tag_id`` (any, when None) whose outcome
    became known from ``known_from`` to ``known_until`` (all time when both are None).

    Whole months come from the stored monthly sums (a row per scope and month); the days
    of a month the period only partly covers are read from the forecasts' score rows
    (by ``known_on``, at most a month's worth at each end). The number of rows read
    grows with the number of scopes and months, not with the number of forecasts.
    """
    tag = tag_id or ANY_TAG
    if known_from is None and known_until is None:
        rows = ScoreSum.objects.filter(tag_id=tag, month=ALL_TIME, resolved_count__gt=0)
        return {(row.scope_kind, row.scope_id): _sums(row) for row in rows.order_by()}
    start = known_from or dt.date(1, 1, 1)
    end = min(known_until or today, today)
    totals: dict[Scope, Sums] = {}
    if start > end:
        return totals
    full_from = start if start.day == 1 else _next_month(start)
    # No outcome is known after today: the month holding today is whole up to it.
    full_until = end if end == today or _next_month(end) - dt.timedelta(days=1) == end else (
        end.replace(day=1) - dt.timedelta(days=1)
    )
    if full_from <= full_until:
        months = (
            ScoreSum.objects.filter(
                tag_id=tag, month__gte=month_of(full_from), month__lte=month_of(full_until)
            )
            .exclude(month=ALL_TIME)
            .values_list("scope_kind", "scope_id")
            .annotate(
                n=Sum("resolved_count"),
                yes=Sum("yes_count"),
                brier=Sum("brier_sum"),
                log_loss=Sum("log_loss_sum"),
                time_averaged=Sum("time_averaged_sum"),
            )
            .order_by()
        )
        for kind, scope_id, n, yes, brier, log_loss, time_averaged in months:
            totals[(kind, scope_id)] = Sums(
                int(n), int(yes), int(brier), int(log_loss), int(time_averaged)
            )
        edges = Q(known_on__gte=start, known_on__lt=full_from) | Q(
            known_on__gt=_month_end(full_until), known_on__lte=end
        )
    else:  # the whole period lies within one month
        edges = Q(known_on__gte=start, known_on__lte=end)
    for row in ForecastScore.objects.filter(edges).order_by():
        scored = _stored(row)
        if tag_id is not None and tag_id not in scored.tag_ids:
            continue
        for scope in scored.scopes():
            totals[scope] = totals.get(scope, Sums()) + scored.sums()
    return {scope: sums for scope, sums in totals.items() if sums.count > 0}


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    return _next_month(day) - dt.timedelta(days=1)


# --- Checking ------------------------------------------------------------------------

TOLERANCE = 1e-9


@dataclass
class VerifyReport:
    forecasts: int = 0
    sums: int = 0
    tallies: int = 0
    snapshots: int = 0
    differences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences

    def __str__(self) -> str:
        checked = (
            f"{self.forecasts:,} scored forecasts, {self.sums:,} sums, {self.tallies:,} "
            f"tallies, {self.snapshots:,} of today's snapshots ({self.seconds:.1f} s)"
        )
        if self.ok:
            return f"live scores agree with a full recomputation: {checked}"
        return f"{len(self.differences)} differences from a full recomputation: {checked}"


def scores_verify(*, limit: int = 20) -> VerifyReport:
    """Compute every score from the record again and compare it with the live rows, the
    sums, the tallies and today's snapshots, to 1e-9; list the first ``limit``
    differences."""
    began = time.perf_counter()
    report = VerifyReport()
    today = timezone.localdate()

    def differ(message: str) -> None:
        if len(report.differences) < limit:
            report.differences.append(message)
        elif len(report.differences) == limit:
            report.differences.append("… and more")

    with transaction.atomic():
        now = scored_arrays_now()
        scored = dict(scored_now_rows(now))
        stored = {row.pk: _stored(row) for row in ForecastScore.objects.order_by()}
        report.forecasts = len(scored)
        for pk in sorted(set(scored) | set(stored)):
            expected, found = scored.get(pk), stored.get(pk)
            if expected is None or found is None:
                differ(f"forecast {pk}: scored {'live only' if expected is None else 'not live'}")
            elif not _same_forecast(expected, found):
                differ(f"forecast {pk}: live {found} but recomputed {expected}")
        sum_keys, sum_values = additive.sum_table(now.arrays)
        expected_sums = {
            (additive.KIND_NAMES[key[0]], *key[1:]): Sums(*value)
            for key, value in zip(sum_keys.tolist(), sum_values.tolist(), strict=True)
        }
        expected_sums.setdefault((ScopeKind.ALL.value, 0, ANY_TAG, ALL_TIME), Sums())
        found_sums = {
            (kind, scope_id, tag, month): Sums(*values)
            for kind, scope_id, tag, month, *values in ScoreSum.objects.order_by().values_list(
                "scope_kind", "scope_id", "tag_id", "month", "resolved_count", "yes_count",
                "brier_sum", "log_loss_sum", "time_averaged_sum",
            )
        }
        report.sums = len(found_sums)
        for key in sorted(set(found_sums) | set(expected_sums)):
            want, got = expected_sums.get(key, Sums()), found_sums.get(key, Sums())
            if not _close_sums(want, got):
                differ(f"sums {key}: live {got} but recomputed {want}")
        tally_scopes, probabilities, phrases, tally_values = additive.tally_table(now.arrays)
        expected_tallies = {
            (additive.KIND_NAMES[kind], scope_id, probability, phrase): (count, yes)
            for (kind, scope_id), probability, phrase, (count, yes) in zip(
                tally_scopes.tolist(), probabilities.tolist(), phrases, tally_values.tolist(),
                strict=True,
            )
        }
        found_tallies = {
            (kind, scope_id, probability, phrase): (count, yes)
            for kind, scope_id, probability, phrase, count, yes in (
                ScoreTally.objects.order_by().values_list(
                    "scope_kind", "scope_id", "probability", "phrase", "resolved_count",
                    "yes_count",
                )
            )
        }
        report.tallies = len(found_tallies)
        for key in sorted(set(found_tallies) | set(expected_tallies)):
            if found_tallies.get(key, (0, 0)) != expected_tallies.get(key, (0, 0)):
                differ(
                    f"tally {key}: live {found_tallies.get(key, (0, 0))} but recomputed "
                    f"{expected_tallies.get(key, (0, 0))}"
                )
        full = full_snapshots(as_of=today)
        live = {(s.scope_kind, s.scope_id): s for s in live_snapshots(as_of=today)}
        stored_today = {
            (s.scope_kind, s.scope_id): s for s in ScoreSnapshot.objects.filter(as_of=today)
        }
        report.snapshots = len(stored_today)
        expected_snapshots = {(s.scope_kind, s.scope_id): s for s in full}
        for what, snapshots in (("live", live), ("today's stored", stored_today)):
            if what == "today's stored" and not stored_today:
                continue  # no change yet today, and the nightly snapshot has not run
            for message in snapshots_differences(expected_snapshots, snapshots):
                differ(f"{what} snapshot {message}")
    report.seconds = time.perf_counter() - began
    return report


def full_snapshots(*, as_of: dt.date, phrases: bool = True) -> list[ScoreSnapshot]:
    """Every scope's snapshot computed from the whole record as it stood at the end of
    ``as_of``, with the phrase table unless ``phrases`` is False (what the nightly
    snapshot stores)."""
    scored = scored_forecasts(score_rows(as_of=as_of, recorded_by=as_of))
    snapshots = scope_snapshots(scored, as_of=as_of)
    if not phrases:
        return snapshots
    opening = opening_phrases(scored.opening_estimate_ids.tolist())
    tally: dict[tuple[str, int], int] = {}
    yes: dict[str, int] = {}
    for estimate_id, outcome in zip(
        scored.opening_estimate_ids.tolist(), scored.outcomes.tolist(), strict=True
    ):
        phrase = opening.get(estimate_id)
        if phrase:
            tally[(phrase, 0)] = tally.get((phrase, 0), 0) + 1
            yes[phrase] = yes.get(phrase, 0) + int(outcome == 1.0)
    table = phrase_rows(
        [TallyRow(0.0, phrase, count, yes[phrase]) for (phrase, _), count in tally.items()]
    )
    for snapshot in snapshots:
        if snapshot.scope_kind == ScopeKind.ALL:
            snapshot.phrases = [row.to_dict() for row in table]
    return snapshots


_SNAPSHOT_FIELDS = (
    "resolved_count",
    "yes_count",
    "brier",
    "shrunk_brier",
    "time_averaged_brier",
    "log_loss",
    "skill_vs_coin",
    "skill_vs_base_rate",
    "calibration",
    "murphy",
    "phrases",
)


def snapshots_differences(
    expected: dict[Scope, ScoreSnapshot], found: dict[Scope, ScoreSnapshot]
) -> list[str]:
    """How two sets of snapshots (by scope) differ, numbers compared to 1e-9."""
    messages = []
    for scope in sorted(set(expected) | set(found)):
        want, got = expected.get(scope), found.get(scope)
        if want is None or got is None:
            messages.append(f"{scope}: {'not expected' if want is None else 'missing'}")
            continue
        for name in _SNAPSHOT_FIELDS:
            if name == "phrases" and (scope[0] != ScopeKind.ALL or want.phrases is None):
                continue  # only everything's has one (and a backfilled date's none)
            if not _close(getattr(want, name), getattr(got, name)):
                messages.append(
                    f"{scope} {name}: {getattr(got, name)!r}, expected {getattr(want, name)!r}"
                )
    return messages


def _same_forecast(a: ScoredForecast, b: ScoredForecast) -> bool:
    return (
        (a.forecaster_id, a.source_id, a.tag_ids, a.phrase, a.happened, a.known_on)
        == (b.forecaster_id, b.source_id, b.tag_ids, b.phrase, b.happened, b.known_on)
        and _close(a.probability, b.probability)
        and _close(a.brier, b.brier)
        and _close(a.log_loss, b.log_loss)
        and _close(a.time_averaged_brier, b.time_averaged_brier)
    )


def _close_sums(a: Sums, b: Sums) -> bool:
    """Counts equal; each score sum within 1e-9 per forecast (rounding to fixed point is
    1e-12 each)."""
    slack = additive.fixed(TOLERANCE) * max(abs(a.count), 1)
    return (a.count, a.yes) == (b.count, b.yes) and all(
        abs(x - y) <= slack
        for x, y in (
            (a.brier, b.brier),
            (a.log_loss, b.log_loss),
            (a.time_averaged, b.time_averaged),
        )
    )


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=TOLERANCE) or (
            math.isnan(float(a)) and math.isnan(float(b))
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.floating | np.integer):
        return _close(float(a), b)
    return bool(a == b)
