"""What a score snapshot reads: three queries streamed in chunks into numpy arrays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import Case, Func, IntegerField, QuerySet, Value, When

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


@dataclass(frozen=True)
class ScoreRows:
    """What a score snapshot reads, as float64 arrays (every value is numeric and exact).

    ``resolutions`` (n, 6): forecast id, forecaster id, source id, deadline day,
    1 if YES else 0, day the outcome became known.
    ``estimates`` (m, 4): forecast id, estimate id, day made, probability.
    ``tags`` (k, 2): forecast id, tag id.
    Days are whole days since 1970-01-01.
    """

    resolutions: npt.NDArray[np.float64]
    estimates: npt.NDArray[np.float64]
    tags: npt.NDArray[np.float64]


# Rows are fetched this many at a time (a server-side cursor on PostgreSQL), so a
# million estimates never sit in memory as Python tuples all at once.
SCORE_CHUNK_ROWS = 50_000


def score_queries(
    *, as_of: dt.date, known_from: dt.date | None = None, tag_id: int | None = None
) -> tuple[QuerySet[Any], QuerySet[Any], QuerySet[Any]]:
    """Every scored forecast as of a date: published, resolved YES or NO, outcome known by then.

    ``known_from`` keeps only outcomes known on or after that date and ``tag_id``
    only forecasts with that tag (the leaderboards' period and tag filters).
    Returns the resolutions, estimates and tags queries, each of plain numbers.
    """
    resolved = Resolution.objects.filter(
        is_current=True,
        outcome__in=[Outcome.YES, Outcome.NO],
        known_on__lte=as_of,
        forecast__published_at__isnull=False,
    )
    if known_from is not None:
        resolved = resolved.filter(known_on__gte=known_from)
    if tag_id is not None:
        resolved = resolved.filter(forecast__tags=tag_id)
    resolutions = resolved.annotate(
        deadline_day=DayNumber("forecast__resolve_by"),
        yes=Case(When(outcome=Outcome.YES, then=Value(1)), default=Value(0)),
        known_day=DayNumber("known_on"),
    ).values_list(
        "forecast_id",
        "forecast__forecaster_id",
        "forecast__source_id",
        "deadline_day",
        "yes",
        "known_day",
    )
    forecast_ids = resolved.values("forecast_id")
    estimates = (
        Estimate.objects.filter(forecast_id__in=forecast_ids)
        .annotate(day=DayNumber("made_on"))
        .values_list("forecast_id", "pk", "day", "probability")
    )
    tags = Forecast.tags.through.objects.filter(forecast_id__in=forecast_ids).values_list(
        "forecast_id", "tag_id"
    )
    return resolutions, estimates, tags


def score_rows(
    *, as_of: dt.date, known_from: dt.date | None = None, tag_id: int | None = None
) -> ScoreRows:
    """The snapshot's input: three queries, streamed in chunks into numpy arrays."""
    resolutions, estimates, tags = score_queries(as_of=as_of, known_from=known_from, tag_id=tag_id)
    return ScoreRows(
        resolutions=_numeric(resolutions, width=6),
        estimates=_numeric(estimates, width=4),
        tags=_numeric(tags, width=2),
    )


def score_rows_fetch_only(*, as_of: dt.date) -> int:
    """The same three queries, every row fetched the same way and dropped.

    The floor a snapshot's cost is measured against (``make bench``): the time
    it takes only to read the columns. Returns the number of rows read.
    """
    return sum(len(chunk) for query in score_queries(as_of=as_of) for chunk in _chunks(query))


def _chunks(queryset: QuerySet[Any]) -> Iterator[list[tuple[Any, ...]]]:
    sql, params = queryset.query.sql_with_params()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(SCORE_CHUNK_ROWS):
            yield rows


def _numeric(queryset: QuerySet[Any], *, width: int) -> npt.NDArray[np.float64]:
    parts = [np.array(rows, dtype=np.float64) for rows in _chunks(queryset)]
    return np.concatenate(parts) if parts else np.zeros((0, width), dtype=np.float64)
