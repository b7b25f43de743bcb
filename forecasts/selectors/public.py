"""Reads for the public API, the CSV export and the Atom feeds.

Drafts never appear, and neither does anyone who resolved, extended or recorded
anything: these rows carry no user. Each function runs a fixed number of
queries, whatever the amount of data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from forecasts.models import (
    Estimate,
    Forecast,
    Forecaster,
    Outcome,
    Resolution,
    ScopeKind,
    ScoreSnapshot,
    Source,
    Tag,
)
from forecasts.selectors import forecast_public_list

T = TypeVar("T")

# The CSV export fetches this many forecasts per query, so a large export never
# sits in memory at once.
EXPORT_CHUNK_ROWS = 1_000
FEED_ITEMS = 50


@dataclass(frozen=True)
class ForecastFilters:
    """What a reader may filter published forecasts by; every field is optional."""

    status: str | None = None
    forecaster: str | None = None
    source: str | None = None
    tag: str | None = None
    resolve_by_after: dt.date | None = None
    resolve_by_before: dt.date | None = None
    q: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    count: int
    items: list[T]


def paginate(queryset: QuerySet[Any], *, limit: int, offset: int) -> Page[Any]:
    """One count query and one page query (plus the queryset's own prefetches)."""
    count = queryset.count()
    items = list(queryset[offset : offset + limit]) if offset < count else []
    return Page(count=count, items=items)


def forecast_public_search(*, at: dt.datetime, filters: ForecastFilters) -> QuerySet[Forecast]:
    """Published forecasts matching ``filters``, annotated like :func:`forecast_public_list`.

    Deadlines between ``resolve_by_after`` and ``resolve_by_before`` match
    inclusively. Raises ``ValueError`` for a status that is not public.
    """
    forecasts = forecast_public_list(at=at, status=filters.status)
    if filters.forecaster:
        forecasts = forecasts.filter(forecaster__slug=filters.forecaster)
    if filters.source:
        forecasts = forecasts.filter(source__key=filters.source)
    if filters.tag:
        tagged = Forecast.tags.through.objects.filter(
            forecast_id=OuterRef("pk"), tag__slug=filters.tag
        )
        forecasts = forecasts.filter(Exists(tagged))
    if filters.resolve_by_after:
        forecasts = forecasts.filter(resolve_by__gte=filters.resolve_by_after)
    if filters.resolve_by_before:
        forecasts = forecasts.filter(resolve_by__lte=filters.resolve_by_before)
    if filters.q:
        forecasts = forecasts.filter(statement__icontains=filters.q)
    return forecasts


def with_row_details(
    forecasts: QuerySet[Forecast],
    *,
    first_estimate: tuple[str, ...] = ("basis", "phrase", "negated"),
) -> QuerySet[Forecast]:
    """Annotate ``published_<field>`` of the first estimate for each of ``first_estimate``,
    and ``known_on`` and ``evidence_url`` of the current resolution."""
    first = Estimate.objects.filter(forecast=OuterRef("pk")).order_by("made_on", "pk")
    # There is at most one current resolution; the model's default ordering would join
    # the forecasts table into every row's subquery only to sort that one row.
    current = Resolution.objects.filter(forecast=OuterRef("pk"), is_current=True).order_by()
    return forecasts.annotate(
        **{f"published_{name}": Subquery(first.values(name)[:1]) for name in first_estimate},
        known_on=Subquery(current.values("known_on")[:1]),
        evidence_url=Subquery(current.values("evidence_url")[:1]),
    )


def forecast_public_page(
    *, at: dt.datetime, filters: ForecastFilters, limit: int, offset: int
) -> Page[Forecast]:
    """One page of :func:`forecast_public_search` with :func:`with_row_details`.

    Four queries: the count, the page's ids, their rows and their tags. The ids
    come first so that the annotations are computed for the page's rows only:
    PostgreSQL computes them for every row an OFFSET skips.
    """
    forecasts = forecast_public_search(at=at, filters=filters)
    count = forecasts.count()
    ids = list(forecasts.values_list("pk", flat=True)[offset : offset + limit])
    if not ids:
        return Page(count=count, items=[])
    rows = with_row_details(forecast_public_list(at=at).filter(pk__in=ids))
    return Page(count=count, items=list(rows))


# An export row's values in CSV column order; ``brier`` is computed, the rest read.
EXPORT_ROW = (
    "slug",
    "statement",
    "forecaster__name",
    "source__title",
    "made_on",
    "resolve_by",
    "status",
    "published_probability",
    "probability",
    "published_phrase",
    "outcome",
    "known_on",
    "brier",
    "evidence_url",
)
EXPORT_FIELDS = tuple(field for field in EXPORT_ROW if field != "brier")


def forecast_public_export(
    *, at: dt.datetime, filters: ForecastFilters
) -> Iterator[dict[str, Any]]:
    """Every matching forecast as a dict of :data:`EXPORT_FIELDS` plus ``brier``.

    The matching ids are read first (one query), then the rows a chunk of ids at a
    time: the first rows go out at once, a large export never sits in memory, and
    no query holds a cursor open for the whole download. Plain values, not model
    instances: building 100,000 models would cost more than the queries.
    Raises ``ValueError`` at once (not when iterated) for a status that is not public.
    """
    matching = forecast_public_search(at=at, filters=filters)
    rows = with_row_details(forecast_public_list(at=at), first_estimate=("phrase",))
    return _export_rows(matching, rows.prefetch_related(None))


def _export_rows(
    matching: QuerySet[Forecast], rows: QuerySet[Forecast]
) -> Iterator[dict[str, Any]]:
    ids = list(matching.values_list("pk", flat=True))
    for start in range(0, len(ids), EXPORT_CHUNK_ROWS):
        chunk = ids[start : start + EXPORT_CHUNK_ROWS]
        for row in rows.filter(pk__in=chunk).values(*EXPORT_FIELDS):
            row["brier"] = single_brier(row["published_probability"], row["outcome"])
            yield row


def single_brier(probability: float | None, outcome: str | None) -> float | None:
    """One forecast's Brier score at publication, (p − o)², as
    :func:`forecasts.selectors.published_brier` computes it through
    :func:`forecasts.scoring.brier_score` (which costs 50 µs a call: an export
    would spend seconds on it). None when the forecast is not scored."""
    if probability is None or outcome not in (Outcome.YES, Outcome.NO):
        return None
    return (probability - (1.0 if outcome == Outcome.YES else 0.0)) ** 2


def forecaster_public_list() -> QuerySet[Forecaster]:
    """Forecasters with at least one published forecast, with ``forecast_count`` annotated."""
    return (
        Forecaster.objects.annotate(
            forecast_count=Count("forecasts", filter=Q(forecasts__published_at__isnull=False))
        )
        .filter(forecast_count__gt=0)
        .order_by("name", "pk")
    )


def source_public_list() -> QuerySet[Source]:
    """Sources with at least one published forecast, with ``forecast_count`` annotated.

    The full text is deferred: the list says whether it is stored, not what it is.
    """
    return (
        Source.objects.defer("text")
        .annotate(
            forecast_count=Count("forecasts", filter=Q(forecasts__published_at__isnull=False)),
            has_text=~Q(text=""),
        )
        .filter(forecast_count__gt=0)
        .order_by("-published_on", "title", "pk")
    )


@dataclass(frozen=True)
class Scope:
    kind: str
    id: int
    slug: str
    name: str


_SCOPE_ORDER = {kind: position for position, kind in enumerate(ScopeKind.values)}
EVERYTHING = Scope(kind=ScopeKind.ALL, id=0, slug="", name="Everything")


def _scopes(kind: str, ids: list[int]) -> dict[int, Scope]:
    """Names and slugs of the given scopes: one query (none for 'all')."""
    if kind == ScopeKind.ALL:
        return {0: EVERYTHING}
    rows: QuerySet[Any]
    if kind == ScopeKind.FORECASTER:
        rows = Forecaster.objects.filter(pk__in=ids).values_list("pk", "slug", "name")
    elif kind == ScopeKind.SOURCE:
        rows = Source.objects.filter(pk__in=ids).values_list("pk", "key", "title")
    else:
        rows = Tag.objects.filter(pk__in=ids).values_list("pk", "slug", "name")
    return {pk: Scope(kind=kind, id=pk, slug=slug, name=name) for pk, slug, name in rows}


@dataclass(frozen=True)
class ScopeSnapshot:
    scope: Scope
    snapshot: ScoreSnapshot


@dataclass(frozen=True)
class LatestScores:
    as_of: dt.date | None
    items: list[ScopeSnapshot]


def scores_latest(*, kind: str | None = None) -> LatestScores:
    """Every scope's snapshot from the latest snapshot date, best (lowest shrunk Brier) first
    within each kind. At most five queries."""
    snapshots = ScoreSnapshot.objects.all()
    if kind is not None:
        if kind not in ScopeKind.values:
            raise ValueError(f"Unknown scope kind {kind!r}; use one of {', '.join(ScopeKind)}.")
        snapshots = snapshots.filter(scope_kind=kind)
    latest = snapshots.order_by("-as_of").values_list("as_of", flat=True).first()
    if latest is None:
        return LatestScores(as_of=None, items=[])
    rows = list(snapshots.filter(as_of=latest))
    ids: dict[str, list[int]] = {}
    for row in rows:
        ids.setdefault(row.scope_kind, []).append(row.scope_id)
    scopes = {kind: _scopes(kind, kind_ids) for kind, kind_ids in ids.items()}
    items = [
        ScopeSnapshot(scope=scopes[row.scope_kind][row.scope_id], snapshot=row)
        for row in rows
        if row.scope_id in scopes[row.scope_kind]
    ]
    items.sort(
        key=lambda item: (
            _SCOPE_ORDER[item.scope.kind],
            item.snapshot.shrunk_brier is None,
            item.snapshot.shrunk_brier or 0.0,
            item.scope.name,
        )
    )
    return LatestScores(as_of=latest, items=items)


def scope_find(*, kind: str, scope_id: int) -> Scope | None:
    """The named scope, or None when there is no such forecaster, source or tag
    (everything is id 0, and nothing else)."""
    return _scopes(kind, [scope_id]).get(scope_id)


def snapshot_history(*, scope: Scope) -> QuerySet[ScoreSnapshot]:
    """A scope's snapshots, newest first."""
    return ScoreSnapshot.objects.filter(scope_kind=scope.kind, scope_id=scope.id).order_by("-as_of")


def feed_new_forecasts(*, at: dt.datetime) -> list[Forecast]:
    """The latest published forecasts, newest first, annotated like the list (two queries)."""
    forecasts = with_row_details(forecast_public_list(at=at), first_estimate=("phrase",))
    return list(forecasts.order_by("-published_at", "-pk")[:FEED_ITEMS])


def feed_resolutions() -> list[Resolution]:
    """Current resolutions of published forecasts, corrections included, newest first.

    Each row has its forecast (with forecaster and source) and the resolution it
    superseded, if any, in the same query.
    """
    return list(
        Resolution.objects.filter(is_current=True, forecast__published_at__isnull=False)
        .select_related("forecast__forecaster", "forecast__source", "supersedes")
        .order_by("-resolved_at", "-pk")[:FEED_ITEMS]
    )
