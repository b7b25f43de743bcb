"""The public forecast filters and sort orders: one definition for the list page,
``/api/forecasts`` and the CSV export.

:class:`ForecastFilters` is a django-ninja ``FilterSchema``: the API reads it from the
query string, the page and the export validate ``request.GET`` with it, and all three
answer a bad value with the same message (:mod:`forecasts.web.api.errors`), and list
the same forecasts in the same order.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.expressions import OrderBy
from ninja import Field, FilterLookup, FilterSchema
from pydantic import StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from forecasts.core.models import Forecast
from forecasts.core.search import statement_matches, statement_rank
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
# On the type, not the field: the field's max_length on an optional string reads
# "Value should have at most 200 items after validation".
SearchText = Annotated[str, StringConstraints(pattern=TEXT_PATTERN, max_length=200)]
PublicStatus = Literal["open", "due", "resolved", "annulled"]
# An optional query parameter is left out, never sent as null: keep null out of the schema.
Absent = SkipJsonSchema[None]

# The orders a list can be in: a field ascending, or descending with a leading "-".
SORT_FIELDS = {
    "deadline": "resolve_by",
    "made": "made_on",
    "probability": "probability",  # the estimate standing now (with_status)
    # The Brier score at publication, from the forecast's live score row (scores.live),
    # which exists exactly while the forecast is scored: unresolved and annulled last.
    "brier": "live_score__brier",
}
Sort = Literal[
    "deadline",
    "-deadline",
    "made",
    "-made",
    "probability",
    "-probability",
    "brier",
    "-brier",
    "relevance",
]
DEFAULT_SORT = "deadline"
# How the list page names each order, in the order its menu offers them.
SORT_LABELS: dict[str, str] = {
    "deadline": "deadline, soonest first",
    "-deadline": "deadline, latest first",
    "made": "date made, earliest first",
    "-made": "date made, latest first",
    "probability": "probability, lowest first",
    "-probability": "probability, highest first",
    "brier": "Brier score, best first",
    "-brier": "Brier score, worst first",
    "relevance": "best match to the search",
}
# Where a sort puts equal values (and everything, for relevance without full-text search).
_THEN = (F("resolve_by").asc(), F("pk").asc())


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
    q: SearchText | Absent = Field(
        None,
        description=(
            "Words to search the statements for: on PostgreSQL a full-text search by word "
            'stem ("quoted phrase", or, -word), elsewhere the text as a case-insensitive '
            "substring."
        ),
    )
    sort: Sort | Absent = Field(
        None,
        description=(
            "Order: deadline (the default), made, probability (standing now) or brier (at "
            "publication; unscored last either way), ascending, or descending with a leading "
            "'-'; relevance: best match for q first (PostgreSQL; elsewhere by deadline)."
        ),
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

    @field_validator("q")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        # An empty search box searches for nothing: the whole list, counted as such.
        return value if value is not None and value.strip() else None

    def filter_status(self, value: str | None) -> Q:
        # A lifecycle state as of a moment, not a lookup: search() has forecast_public_list
        # apply it (ForecastQuerySet.with_state: NOT EXISTS on the current resolution, the
        # deadline against the day). As a Q it would need the forecasts table a second time
        # (id IN (...)): up to 2.5 times as slow on PostgreSQL with 100,000 forecasts.
        return Q()

    def filter_q(self, value: str | None) -> Q:
        return statement_matches(value) if value is not None else Q()

    def filter_sort(self, value: str | None) -> Q:
        return Q()  # an order, not a filter: ordered() applies it

    def filter_tag(self, value: str | None) -> Q:
        # One subquery, not a join: a join would repeat a forecast once per matching tag.
        tagged = Forecast.tags.through.objects.filter(forecast_id=OuterRef("pk"), tag__slug=value)
        return Q(Exists(tagged)) if value is not None else Q()

    def search(self, *, at: dt.datetime) -> QuerySet[Forecast]:
        """Published forecasts matching the filters at ``at``, annotated like
        :func:`~forecasts.core.selectors.forecast_public_list`, in the order asked for."""
        return self.ordered(self.filter(forecast_public_list(at=at, status=self.status)))

    def ordering(self) -> list[OrderBy]:
        """The order :meth:`search` lists in, ties broken by deadline, then id; for
        :meth:`ordered` and for a window function numbering the rows (the CSV's COPY)."""
        sort = self.sort or DEFAULT_SORT
        if sort == "relevance":
            ranked = self.q is not None and statement_rank(self.q) is not None
            return [F("rank").desc(), *_THEN] if ranked else list(_THEN)
        field = SORT_FIELDS[sort.removeprefix("-")]
        if sort == "-deadline":
            return [F(field).desc(), F("pk").desc()]
        if sort.startswith("-"):
            return [F(field).desc(nulls_last=True), *_THEN]
        return [F(field).asc(nulls_last=True), *_THEN]

    def ordered(self, forecasts: QuerySet[Forecast]) -> QuerySet[Forecast]:
        """``forecasts`` (annotated by ``with_status``) in :meth:`ordering`'s order, with
        ``rank`` annotated when it needs it: for the matching ids and for a page's rows."""
        rank = statement_rank(self.q) if self.sort == "relevance" and self.q else None
        if rank is not None:
            forecasts = forecasts.annotate(rank=rank)
        return forecasts.order_by(*self.ordering())

    def narrowed(self) -> bool:
        """Whether anything but the status narrows the list (then it is counted, not
        read from the stored counts)."""
        return bool(self.model_dump(exclude={"status", "sort"}, exclude_none=True))


def forecast_public_results(*, at: dt.datetime, filters: ForecastFilters) -> IdsFirst[Forecast]:
    """:meth:`ForecastFilters.search`, to be paged ids first, each row of the page with
    :func:`~forecasts.core.selectors.with_row_details`.

    Four or five queries a page: the count, the page's ids, their rows and their tags.
    Filtered by status alone (or not at all), the count is the stored one
    (:func:`~forecasts.core.selectors.forecast_public_count`), not a count of the table.
    """
    return IdsFirst(
        matching=filters.search(at=at),
        rows=lambda ids: filters.ordered(
            with_row_details(forecast_public_list(at=at).filter(pk__in=ids))
        ),
        count=(
            None
            if filters.narrowed()
            else lambda: forecast_public_count(at=at, status=filters.status)
        ),
    )
