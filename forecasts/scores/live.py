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
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from forecasts.core.compiled import CompiledQuery, prepared_cursor
from forecasts.core.models import Basis, Estimate, Outcome, Resolution
from forecasts.scores import additive
from forecasts.scores.additive import (
    ALL_TIME,
    ANY_TAG,
    Delta,
    ScoredArrays,
    ScoredForecast,
    Sums,
)
from forecasts.scores.bulk import objects_upsert, rows_insert
from forecasts.scores.compute import day_of, scored_forecasts
from forecasts.scores.maths import log_losses
from forecasts.scores.models import (
    ForecastScore,
    ScopeKind,
    ScoreSum,
    ScoreTally,
)
from forecasts.scores.rows import score_rows
from forecasts.scores.sums import STORED_FIELDS, Scope, stored_forecasts
from forecasts.scores.today import today_snapshots_replace, today_snapshots_update

# Up to this many forecasts (or estimates) are read with SQL compiled once
# (:mod:`forecasts.core.compiled`); more, with the query built afresh.
FEW = 50
EVERYTHING_KEY = {"scope_kind": ScopeKind.ALL, "scope_id": 0, "tag_id": ANY_TAG, "month": ALL_TIME}
# Opening estimates' phrases are read this many ids at a time.
PHRASE_CHUNK = 10_000


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
        score_rows(as_of=today, forecast_ids=None if forecast_ids is None else list(forecast_ids))
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
        if len(chunk) <= FEW:  # a resolution's: the SQL compiled once
            rows = _PHRASES.execute(estimate_ids=chunk)
        else:
            rows = list(_phrases(estimate_ids=chunk))
        for pk, phrase in rows:
            key = phrase.strip().lower()
            if key:
                phrases[pk] = key
    return phrases


def _phrases(*, estimate_ids: list[int]) -> QuerySet[Any]:
    query = Estimate.objects.filter(pk__in=estimate_ids, basis=Basis.PHRASE, negated=False)
    return query.order_by().values_list("pk", "phrase")


_PHRASES = CompiledQuery(_phrases)


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
    """Take the live scores' lock (the row of everything's sums) until the transaction ends:
    one statement that creates the row if need be and locks it either way."""
    table = connection.ops.quote_name(ScoreSum._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Identifiers from the model's own metadata, quoted; values are parameters.
            f"INSERT INTO {table} AS t (scope_kind, scope_id, tag_id, month, resolved_count, "  # noqa: S608
            "yes_count, brier_sum, log_loss_sum, time_averaged_sum) "
            "VALUES (%s, 0, 0, 0, 0, 0, 0, 0, 0) "
            "ON CONFLICT (scope_kind, scope_id, tag_id, month) "
            "DO UPDATE SET resolved_count = t.resolved_count RETURNING id",
            [ScopeKind.ALL.value],
        )


def scores_refresh(*, forecast_ids: Iterable[int]) -> int:
    """Score these forecasts afresh and move the live sums and today's snapshots by what
    changed. Runs in the caller's transaction (it must be in one). Returns how many of
    the forecasts' scores changed."""
    ids = sorted({int(pk) for pk in forecast_ids})
    if not ids:
        return 0
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("scores_refresh runs inside the transaction that changed the record")
    if not _may_be_scored(ids):
        return 0
    live_lock()
    new = scored_now(ids)
    old = stored_forecasts(_STORED.execute(ids=ids) if len(ids) <= FEW else list(_stored(ids=ids)))
    changed = [pk for pk in ids if old.get(pk) != new.get(pk)]
    if not changed:
        return 0
    delta = Delta.between(
        [old[pk] for pk in changed if pk in old], [new[pk] for pk in changed if pk in new]
    )
    totals = _apply(delta)
    now = timezone.now()
    gone = [pk for pk in changed if pk not in new]
    if gone:
        ForecastScore.objects.filter(pk__in=gone).delete()
    rows = [_row(pk, new[pk], now) for pk in changed if pk in new]
    objects_upsert(rows, conflict="forecast")
    today_snapshots_update(delta.scopes, totals)
    return len(changed)


def _may_be_scored(ids: list[int]) -> bool:
    """Whether any of these forecasts is scored, or was: resolved YES or NO, or holding a
    score row. Two indexed reads that spare the lock and the scoring for the rest (a
    tag change before resolution). The services lock the forecast row before changing
    it, so no change to the same forecast can slip between this read and the commit."""
    if len(ids) > FEW:
        return bool(_decided(ids=ids).exists() or _held(ids=ids).exists())
    return bool(_DECIDED.execute(ids=ids) or _HELD.execute(ids=ids))


def _decided(*, ids: list[int]) -> QuerySet[Resolution]:
    return Resolution.objects.filter(
        forecast_id__in=ids, is_current=True, outcome__in=[Outcome.YES, Outcome.NO]
    )


def _held(*, ids: list[int]) -> QuerySet[ForecastScore]:
    return ForecastScore.objects.filter(pk__in=ids)


def _stored(*, ids: list[int]) -> QuerySet[ForecastScore, tuple[Any, ...]]:
    return ForecastScore.objects.filter(pk__in=ids).order_by().values_list(*STORED_FIELDS)


# A few forecasts' score rows as they stand, compiled once (converted as the ORM does).
_STORED = CompiledQuery(_stored, converted=True)
# _may_be_scored's two reads for a few forecasts, compiled once.
_DECIDED = CompiledQuery(lambda *, ids: _decided(ids=ids).query.exists())
_HELD = CompiledQuery(lambda *, ids: _held(ids=ids).query.exists())


def _apply(delta: Delta) -> dict[Scope, Sums]:
    """Add the delta to the stored sums and tallies, then drop the rows it emptied (except
    everything's): one statement each, by primary key. Returns the all-time, unfiltered
    sums of the scopes it changed, as they now stand."""
    sums = sorted(delta.sums.items())
    tallies = sorted(delta.tallies.items())
    totals: dict[Scope, Sums] = {}
    if sums:
        stored = _upsert_add(
            ScoreSum,
            ScoreSum.KEY_FIELDS,
            ScoreSum.SUM_FIELDS,
            [(*key, s.count, s.yes, s.brier, s.log_loss, s.time_averaged) for key, s in sums],
        )
        emptied = [row[0] for row in stored if row[5] == 0]
        if emptied:
            ScoreSum.objects.filter(pk__in=emptied).exclude(**EVERYTHING_KEY).delete()
        for _, kind, scope_id, tag, month, *values in stored:
            if tag == ANY_TAG and month == ALL_TIME:
                totals[(kind, scope_id)] = Sums(*values)
    if tallies:
        stored = _upsert_add(
            ScoreTally,
            ("scope_kind", "scope_id", "probability", "phrase"),
            ("resolved_count", "yes_count"),
            [(*key, count, yes) for key, (count, yes) in tallies],
        )
        emptied = [row[0] for row in stored if row[5] == 0]
        if emptied:
            ScoreTally.objects.filter(pk__in=emptied).delete()
    return totals


def _upsert_add(
    model: type[Model],
    keys: tuple[str, ...],
    values: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """INSERT the rows, or add their values to the rows already there (PostgreSQL and
    SQLite both know ``ON CONFLICT … DO UPDATE … RETURNING``); returns each row as it
    now stands: id, keys, values.

    On PostgreSQL the rows go as one array per column (``unnest``), so the statement's
    text is the same whatever the number of rows: psycopg parses a new text for its
    placeholders in Python each time, which for a resolution's few dozen sums cost
    more than running it. SQLite takes them as VALUES, in batches."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = (*keys, *values)
    names = ", ".join(quote(c) for c in columns)
    updates = ", ".join(f"{quote(v)} = {table}.{quote(v)} + excluded.{quote(v)}" for v in values)
    tail = (
        f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {updates}"
        f" RETURNING {', '.join(quote(c) for c in ('id', *columns))}"
    )
    stored: list[tuple[Any, ...]] = []
    # (On PostgreSQL the text never changes, so it is prepared once per connection.)
    with prepared_cursor(connection) as cursor:
        if connection.vendor == "postgresql":
            by_column = {field.column: field for field in model._meta.concrete_fields}
            types = [by_column[c].db_type(connection) for c in columns]
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            cursor.execute(  # identifiers and types from model metadata; values are parameters
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})" + tail,  # noqa: S608
                [list(column) for column in zip(*rows, strict=True)],
            )
            stored = cursor.fetchall()
            return stored
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), 100):  # SQLite allows so many parameters
            batch = rows[start : start + 100]
            cursor.execute(  # identifiers from model metadata, quoted; values are parameters
                f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
                + ", ".join([placeholders] * len(batch))
                + tail,
                [value for row in batch for value in row],
            )
            stored.extend(cursor.fetchall())
    return stored


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
    rows_insert(
        ForecastScore,
        (*STORED_FIELDS, "updated_at"),
        (
            (
                pk,
                s.forecaster_id,
                s.source_id,
                json.dumps(list(s.tag_ids)),
                s.probability,
                s.phrase,
                s.happened,
                s.known_on,
                s.brier,
                s.log_loss,
                s.time_averaged_brier,
                stamp,
            )
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
    rows_insert(
        ScoreSum,
        (*ScoreSum.KEY_FIELDS, *ScoreSum.SUM_FIELDS),
        (
            (additive.KIND_NAMES[key[0]], *key[1:], *value)
            for key, value in zip(
                sum_keys[~everything].tolist(), sum_values[~everything].tolist(), strict=True
            )
        ),
    )
    ScoreTally.objects.all().delete()
    rows_insert(
        ScoreTally,
        ("scope_kind", "scope_id", "probability", "phrase", "resolved_count", "yes_count"),
        (
            (additive.KIND_NAMES[kind], scope_id, probability, phrase, count, yes)
            for (kind, scope_id), probability, phrase, (count, yes) in zip(
                tally_scopes.tolist(),
                probabilities.tolist(),
                phrases,
                tally_values.tolist(),
                strict=True,
            )
        ),
    )
    if snapshots:
        today_snapshots_replace(timezone.localdate())
    if connection.vendor == "postgresql":  # the planner's statistics of the new rows
        with connection.cursor() as cursor:
            for model in (ForecastScore, ScoreSum, ScoreTally):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
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
        for i, (
            forecast_id,
            forecaster,
            source,
            probability,
            happened,
            brier,
            log_loss,
            time_averaged,
        ) in enumerate(
            zip(
                now.forecast_ids.tolist(),
                a.forecaster_ids.tolist(),
                a.source_ids.tolist(),
                a.probabilities.tolist(),
                a.happened.tolist(),
                a.brier.tolist(),
                a.log_loss.tolist(),
                a.time_averaged.tolist(),
                strict=True,
            )
        )
    ]
