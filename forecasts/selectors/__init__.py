"""Reads the pages, API and tasks need, each with a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import (
    Case,
    Count,
    FilteredRelation,
    Func,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone

from forecasts import scoring
from forecasts.models import (
    DeadlineExtension,
    Estimate,
    Forecast,
    Outcome,
    Resolution,
    ScopeKind,
    ScoreSnapshot,
    Status,
)

PUBLIC_STATUSES = [Status.OPEN, Status.DUE, Status.RESOLVED, Status.ANNULLED]


def forecast_status_counts(*, at: dt.datetime) -> dict[str, int]:
    """How many forecasts are in each lifecycle state, drafts included.

    The states of :meth:`ForecastQuerySet.with_status`, counted in one pass over a
    join with the current resolution (a forecast has at most one) rather than
    through its per-row subqueries, which cost four times as much on 100,000 rows.
    """
    today = timezone.localdate(at) if timezone.is_aware(at) else at.date()
    published = Q(published_at__isnull=False)
    unresolved = published & Q(current__isnull=True)
    counts: dict[str, Count] = {
        Status.DRAFT.value: Count("pk", filter=Q(published_at__isnull=True)),
        Status.ANNULLED.value: Count("pk", filter=published & Q(current__outcome=Outcome.ANNULLED)),
        Status.RESOLVED.value: Count(
            "pk", filter=published & Q(current__outcome__in=[Outcome.YES, Outcome.NO])
        ),
        Status.DUE.value: Count("pk", filter=unresolved & Q(resolve_by__lt=today)),
        Status.OPEN.value: Count("pk", filter=unresolved & Q(resolve_by__gte=today)),
    }
    return Forecast.objects.annotate(
        current=FilteredRelation("resolutions", condition=Q(resolutions__is_current=True))
    ).aggregate(**counts)


def forecast_public_list(*, at: dt.datetime, status: str | None = None) -> QuerySet[Forecast]:
    """Published forecasts with status, outcome and standing probability annotated.

    ``status`` must be one of :data:`PUBLIC_STATUSES` (``ValueError`` otherwise).
    """
    forecasts = Forecast.objects.published()
    if status:
        if status not in PUBLIC_STATUSES:
            raise ValueError(f"Unknown status {status!r}; use one of {', '.join(PUBLIC_STATUSES)}.")
        forecasts = forecasts.with_state(status, at=at)
    return (
        forecasts.with_status(at=at)
        .select_related("source", "forecaster")
        .prefetch_related("tags")
        .order_by("resolve_by", "pk")
    )


def forecast_public_detail(*, slug: str, at: dt.datetime) -> Forecast:
    """One published forecast with everything its page shows; drafts are 404."""
    queryset = (
        Forecast.objects.published()
        .with_status(at=at)
        .select_related("source", "forecaster")
        .prefetch_related(
            "tags",
            Prefetch("estimates", queryset=Estimate.objects.order_by("made_on", "pk")),
            Prefetch(
                "resolutions",
                queryset=Resolution.objects.order_by("-resolved_at", "-pk"),
            ),
            Prefetch("extensions", queryset=DeadlineExtension.objects.order_by("extended_at")),
        )
    )
    return get_object_or_404(queryset, slug=slug)


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


@dataclass(frozen=True)
class ForecastScore:
    """One resolved forecast's scores: Brier at publication, and time-averaged where updated."""

    published_probability: float
    outcome: int
    brier: float
    time_averaged_brier: float | None


def forecast_score(
    *, forecast: Forecast, estimates: list[Estimate], resolution: Resolution | None
) -> ForecastScore | None:
    """None when there is nothing to score: unresolved, annulled, or no estimate."""
    if resolution is None or resolution.outcome == Outcome.ANNULLED or not estimates:
        return None
    ordered = sorted(estimates, key=lambda estimate: (estimate.made_on, estimate.pk))
    outcome = 1 if resolution.outcome == Outcome.YES else 0
    published = ordered[0].probability
    time_averaged = None
    if len(ordered) > 1:
        time_averaged = scoring.time_averaged_brier(
            [(estimate.made_on, estimate.probability) for estimate in ordered],
            outcome,
            ordered[0].made_on,
            min(resolution.known_on, forecast.resolve_by),
        )
    return ForecastScore(
        published_probability=published,
        outcome=outcome,
        brier=scoring.brier_score([published], [outcome]),
        time_averaged_brier=time_averaged,
    )


@dataclass(frozen=True)
class Scoreboard:
    as_of: dt.date | None
    overall: ScoreSnapshot | None
    history: list[ScoreSnapshot]


def scoreboard() -> Scoreboard:
    """The overall scores, latest and over time (the leaderboards are read separately)."""
    history = list(ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL).order_by("as_of"))
    if not history:
        return Scoreboard(None, None, [])
    return Scoreboard(as_of=history[-1].as_of, overall=history[-1], history=history)


def published_brier(forecast: Forecast) -> float | None:
    """Brier at publication for a forecast annotated by ``with_status``; None if not scored."""
    outcome = getattr(forecast, "outcome", None)
    probability = getattr(forecast, "published_probability", None)
    if outcome not in (Outcome.YES, Outcome.NO) or probability is None:
        return None
    return scoring.brier_score([probability], [1 if outcome == Outcome.YES else 0])


def review_queue(*, user: User, at: dt.datetime) -> QuerySet[Forecast]:
    """Due forecasts this user is responsible for, most overdue first.

    Assigned ones; for members of the Reviewers group also every unassigned one;
    for superusers every due forecast.
    """
    from forecasts.permissions import is_group_reviewer

    due = Forecast.objects.due(at=at)
    if not user.is_superuser:
        mine = Q(reviewerassignment__reviewer=user)
        if is_group_reviewer(user):
            mine |= Q(reviewerassignment__isnull=True)
        due = due.filter(mine).distinct()
    return (
        due.with_status(at=at).select_related("source", "forecaster").order_by("resolve_by", "pk")
    )
