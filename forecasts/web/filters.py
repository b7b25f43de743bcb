"""The public forecast filters: one definition for ``/api/forecasts`` and the CSV export.

:class:`ForecastFilters` is a django-ninja ``FilterSchema``: the API reads it from the
query string, the export validates ``request.GET`` with it, and both answer a bad value
with the same 400 message (:mod:`forecasts.web.api.errors`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.db.models import Exists, OuterRef, Q, QuerySet
from ninja import Field, FilterLookup, FilterSchema
from pydantic import StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from forecasts.core.models import Forecast
from forecasts.core.selectors import (
    forecast_public_count,
    forecast_public_list,
    with_row_details,
)
from forecasts.web.pagination import IdsFirst

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
# NUL cannot be stored or compared by PostgreSQL; no other character is refused.
TEXT_PATTERN = r"^[^\x00]*$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=200)]
PublicStatus = Literal["open", "due", "resolved", "annulled"]
# An optional query parameter is left out, never sent as null: keep null out of the schema.
Absent = SkipJsonSchema[None]


# Applied by search(), not by filter() alone: the status filter is the selector's (below).
class ForecastFilters(FilterSchema):
    """The forecast filters, shared by ``/api/forecasts`` and ``/export/forecasts.csv``;
    each is optional, and both ends of the deadline range are inclusive."""

    status: PublicStatus | Absent = Field(None, description="Lifecycle state (never draft).")
    forecaster: Annotated[Slug | Absent, FilterLookup("forecaster__slug")] = Field(
        None, description="Forecaster slug."
    )
    source: Annotated[Slug | Absent, FilterLookup("source__key")] = Field(
        None, description="Source key."
    )
    tag: Slug | Absent = Field(None, description="Tag slug.")
    resolve_by_after: Annotated[dt.date | Absent, FilterLookup("resolve_by__gte")] = Field(
        None, description="Deadline on or after this day (YYYY-MM-DD)."
    )
    resolve_by_before: Annotated[dt.date | Absent, FilterLookup("resolve_by__lte")] = Field(
        None, description="Deadline on or before this day (YYYY-MM-DD)."
    )
    q: Annotated[str | Absent, FilterLookup("statement__icontains")] = Field(
        None,
        max_length=200,
        pattern=TEXT_PATTERN,
        description="Text the statement contains (case-insensitive).",
    )

    @field_validator("resolve_by_after", "resolve_by_before", mode="before")
    @classmethod
    def _iso_day(cls, value: Any) -> Any:
        # Only YYYY-MM-DD: pydantic alone would also read "1700000000" as a timestamp.
        if isinstance(value, str):
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                raise ValueError("must be a day written YYYY-MM-DD")
            return dt.date.fromisoformat(value)
        return value

    def filter_status(self, value: str | None) -> Q:
        # A lifecycle state as of a moment, not a lookup: search() has forecast_public_list
        # apply it (ForecastQuerySet.with_state: NOT EXISTS on the current resolution, the
        # deadline against the day). As a Q it would need the forecasts table a second time
        # (id IN (...)): up to 2.5 times as slow on PostgreSQL with 100,000 forecasts.
        return Q()

    def filter_tag(self, value: str | None) -> Q:
        # One subquery, not a join: a join would repeat a forecast once per matching tag.
        tagged = Forecast.tags.through.objects.filter(forecast_id=OuterRef("pk"), tag__slug=value)
        return Q(Exists(tagged)) if value is not None else Q()

    def search(self, *, at: dt.datetime) -> QuerySet[Forecast]:
        """Published forecasts matching the filters at ``at``, annotated like
        :func:`~forecasts.core.selectors.forecast_public_list`."""
        return self.filter(forecast_public_list(at=at, status=self.status))


def forecast_public_results(*, at: dt.datetime, filters: ForecastFilters) -> IdsFirst[Forecast]:
    """:meth:`ForecastFilters.search`, to be paged ids first, each row of the page with
    :func:`~forecasts.core.selectors.with_row_details`.

    Four or five queries a page: the count, the page's ids, their rows and their tags.
    Filtered by status alone (or not at all), the count is the stored one
    (:func:`~forecasts.core.selectors.forecast_public_count`), not a count of the table.
    """
    narrowed = filters.model_dump(exclude={"status"}, exclude_none=True)
    return IdsFirst(
        matching=filters.search(at=at),
        rows=lambda ids: with_row_details(forecast_public_list(at=at).filter(pk__in=ids)),
        count=None if narrowed else lambda: forecast_public_count(at=at, status=filters.status),
    )
