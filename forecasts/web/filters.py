"""The public forecast filters: one definition for the API, the CSV export and the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from forecasts.core.models import Forecast
from forecasts.core.selectors import forecast_public_list, with_row_details
from forecasts.web.pagination import Page


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
