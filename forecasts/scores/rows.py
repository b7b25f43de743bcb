"""What a score snapshot reads: three queries streamed in chunks into numpy arrays.

Every resolution is read, corrections and the rows they superseded alike, each with the
day it was recorded, so that the scores as of a date can use the resolution that stood
then (:mod:`forecasts.scores.standing`); estimates carry the day they were recorded too.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Case, FloatField, Func, IntegerField, QuerySet, Value, When
from django.utils import timezone

from forecasts.core.compiled import CompiledQuery
from forecasts.core.models import Estimate, Forecast, Outcome, Resolution


class DayNumber(Func):
    """A date as whole days since 1970-01-01, computed by the database.

    The snapshot needs day arithmetic on a million estimates; integers from SQL
    skip building a million ``date`` objects in Python.
    """

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)"
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="(%(expressions)s - DATE '1970-01-01')")


class EpochSeconds(Func):
    """A moment as seconds since 1970-01-01 UTC (a float), computed by the database.

    Turned into the site's local day with numpy (:func:`local_days`): SQLite knows no
    time zones, and a million ``datetime`` objects would cost seconds.
    """

    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)",
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::double precision"
        )


# Outcome codes in the resolution rows.
YES, NO, ANNULLED = 1, 0, -1


@dataclass(frozen=True)
class ScoreRows:
    """What a score snapshot reads, as float64 arrays (every value is numeric and exact).

    ``resolutions`` (n, 7): forecast id, forecaster id, source id, deadline day, outcome
    (``YES``, ``NO`` or ``ANNULLED``), day the outcome became known, day the resolution
    was recorded; every resolution, superseded ones too, in the order they were recorded
    within each forecast (by ``resolved_at``, then id).
    ``estimates`` (m, 5): forecast id, estimate id, day made, probability, day recorded
    (for the historical import's, the day it was made if that is earlier).
    ``tags`` (k, 2): forecast id, tag id.
    Days are whole days since 1970-01-01, recorded days in the site's time zone.

    ``recorded_by`` is the last day whose records were read (None: the whole record);
    ``known_from`` and ``known_until`` bound the day the outcome became known.
    """

    resolutions: npt.NDArray[np.float64]
    estimates: npt.NDArray[np.float64]
    tags: npt.NDArray[np.float64]
    known_until: int
    known_from: int | None = None
    recorded_by: int | None = None


# Rows are fetched this many at a time (a server-side cursor on PostgreSQL), so a
# million estimates never sit in memory as Python tuples all at once.
SCORE_CHUNK_ROWS = 50_000


def score_queries(
    *,
    tag_id: int | None = None,
    recorded_by: dt.date | None = None,
    known_from: dt.date | None = None,
    forecast_ids: list[int] | None = None,
) -> tuple[QuerySet[Any], QuerySet[Any], QuerySet[Any]]:
    """Every resolution of a published forecast, with the estimates and tags of those that
    were ever resolved YES or NO.

    ``recorded_by`` keeps what was on record by the end of that day (the site's local
    day; None keeps everything) and ``tag_id`` only forecasts with that tag (the
    leaderboards' filter). The day the outcome became known is not filtered here: a
    correction may move it, so only the resolution that stood on a day can say
    (:mod:`forecasts.scores.standing`); but with ``known_from`` (a period's boards) only
    forecasts with some YES or NO outcome known from that day are read, whole: the
    resolution that stands is one of a forecast's own, so no other can count in the
    period. ``forecast_ids`` reads only those forecasts (the live scores' refresh).
    Returns the resolutions, estimates and tags queries, each of plain numbers.
    """
    resolved = Resolution.objects.filter(forecast__published_at__isnull=False)
    if forecast_ids is not None:
        resolved = resolved.filter(forecast_id__in=forecast_ids)
    if recorded_by is not None:
        resolved = resolved.filter(resolved_at__lt=_day_end(recorded_by))
    if tag_id is not None:
        resolved = resolved.filter(forecast__tags=tag_id)
    if known_from is not None:
        in_period = Resolution.objects.filter(
            known_on__gte=known_from, outcome__in=[Outcome.YES, Outcome.NO]
        ).values("forecast_id")
        resolved = resolved.filter(forecast_id__in=in_period)
    resolutions = (
        resolved.annotate(
            deadline_day=DayNumber("forecast__resolve_by"),
            outcome_code=Case(
                When(outcome=Outcome.YES, then=Value(YES)),
                When(outcome=Outcome.NO, then=Value(NO)),
                default=Value(ANNULLED),
            ),
            known_day=DayNumber("known_on"),
            recorded=EpochSeconds("resolved_at"),
        )
        .order_by("forecast_id", "resolved_at", "pk")
        .values_list(
            "forecast_id",
            "forecast__forecaster_id",
            "forecast__source_id",
            "deadline_day",
            "outcome_code",
            "known_day",
            "recorded",
        )
    )
    decided = resolved.filter(outcome__in=[Outcome.YES, Outcome.NO]).values("forecast_id")
    on_record = Estimate.objects.filter(forecast_id__in=decided)
    if recorded_by is not None:
        on_record = on_record.recorded_by(recorded_by)
    estimates = on_record.annotate(
        day=DayNumber("made_on"),
        recorded=EpochSeconds("created_at"),
        from_history=Case(When(historical=True, then=Value(1)), default=Value(0)),
    ).values_list("forecast_id", "pk", "day", "probability", "recorded", "from_history")
    tags = Forecast.tags.through.objects.filter(forecast_id__in=decided).values_list(
        "forecast_id", "tag_id"
    )
    return resolutions, estimates, tags


def score_rows(
    *,
    as_of: dt.date,
    known_from: dt.date | None = None,
    tag_id: int | None = None,
    recorded_by: dt.date | None = None,
    forecast_ids: list[int] | None = None,
) -> ScoreRows:
    """The snapshot's input: three queries, streamed in chunks into numpy arrays.

    Outcomes known from ``known_from`` to ``as_of``; ``recorded_by`` reads the record as
    it stood at the end of that day (a snapshot's date), None the record as it is now
    (the leaderboards' period filters: outcomes known in a period, as recorded today).
    """
    if forecast_ids is not None and tag_id is None and recorded_by is None and known_from is None:
        # A few forecasts as they stand (the live scores' refresh, on a resolution's
        # path): one round trip each, the SQL compiled once.
        resolved, read, tagged = (
            _array(query.execute(forecast_ids=forecast_ids), width=width)
            for query, width in zip(_FEW, (7, 6, 2), strict=True)
        )
    else:  # the whole record, or a filtered part, through a server-side cursor, in chunks
        resolutions, estimates, tags = score_queries(
            tag_id=tag_id, recorded_by=recorded_by, known_from=known_from, forecast_ids=forecast_ids
        )
        chunked = forecast_ids is None
        resolved = _numeric(resolutions, width=7, chunked=chunked)
        read = _numeric(estimates, width=6, chunked=chunked)
        tagged = _numeric(tags, width=2, chunked=chunked)
    resolved[:, 6] = local_days(resolved[:, 6])
    recorded = local_days(read[:, 4])
    from_history = read[:, 5] == 1
    # A historical import stands for what its source published on its date.
    recorded[from_history] = np.minimum(recorded[from_history], read[from_history, 2])
    read[:, 4] = recorded
    return ScoreRows(
        resolutions=resolved,
        estimates=read[:, :5],
        tags=tagged,
        known_until=_day_number(as_of),
        known_from=None if known_from is None else _day_number(known_from),
        recorded_by=None if recorded_by is None else _day_number(recorded_by),
    )


def local_days(epochs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The site's local day (as a day number) each moment falls on, given as seconds since
    1970-01-01 UTC: the day ``EstimateQuerySet.recorded_by`` counts it in (recorded by
    the end of day D means before the local midnight that starts D + 1)."""
    if not len(epochs):
        return np.zeros(0, np.float64)
    utc_days = np.floor(epochs / 86_400).astype(np.int64)
    # A local day is the UTC day or a neighbour (offsets stay within a day).
    candidates = np.unique(np.concatenate([utc_days - 1, utc_days, utc_days + 1]))
    zone = timezone.get_current_timezone()
    starts = np.array([_day_start(int(day), zone) for day in candidates], dtype=np.float64)
    return candidates[np.searchsorted(starts, epochs, side="right") - 1].astype(np.float64)


_EPOCH = dt.date(1970, 1, 1)


def _day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


@functools.lru_cache(maxsize=65_536)
def _day_start(number: int, zone: dt.tzinfo) -> float:
    """When a local day starts, as seconds since 1970-01-01 UTC (cached: a backfill and a
    snapshot ask for the same few thousand days)."""
    day = _EPOCH + dt.timedelta(days=number)
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).timestamp()


def _day_end(day: dt.date) -> dt.datetime:
    """The local midnight that ends ``day`` (as ``EstimateQuerySet.recorded_by`` has it)."""
    return dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
    )


def _few_query(index: int) -> CompiledQuery:
    """One of :func:`score_queries`' three for given forecasts, compiled once."""

    def build(*, forecast_ids: list[int]) -> QuerySet[Any]:
        return score_queries(forecast_ids=forecast_ids)[index]

    return CompiledQuery(build)


# score_queries(forecast_ids=…): resolutions, estimates, tags.
_FEW = tuple(_few_query(index) for index in range(3))


def score_rows_fetch_only(*, as_of: dt.date) -> int:
    """The same three queries, every row fetched the same way and dropped.

    The floor a snapshot's cost is measured against (``make bench``): the time
    it takes only to read the columns. Returns the number of rows read.
    """
    queries = score_queries(recorded_by=as_of)
    return sum(len(chunk) for query in queries for chunk in _chunks(query))


def _chunks(queryset: QuerySet[Any]) -> Iterator[list[tuple[Any, ...]]]:
    sql, params = queryset.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(SCORE_CHUNK_ROWS):
            yield rows


def _array(rows: list[tuple[Any, ...]], *, width: int) -> npt.NDArray[np.float64]:
    return np.array(rows, dtype=np.float64) if rows else np.zeros((0, width), np.float64)


def _numeric(
    queryset: QuerySet[Any], *, width: int, chunked: bool = True
) -> npt.NDArray[np.float64]:
    if not chunked:
        return _array(list(queryset), width=width)
    parts = [np.array(rows, dtype=np.float64) for rows in _chunks(queryset)]
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.float64)
