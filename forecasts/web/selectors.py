"""Reads that put several domains together for one page: the scorecard's headline, the
forecaster, source and tag pages and their indexes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from forecasts.core.counts import PublishedTagListing, published_scope_count
from forecasts.core.models import Forecast, ForecastQuerySet
from forecasts.core.selectors import forecast_status_counts
from forecasts.scores import maths
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.phrase_table import scope_phrases
from forecasts.scores.scopes import (
    forecasts_in_scope,
    public_scope_counts,
    public_scopes,
    scope_model,
)
from forecasts.scores.selectors import latest_overall, scope_history
from forecasts.web.pagination import (
    PAGE_SIZE,
    IdsFirst,
    NumberedPage,
    Window,
    checked_page,
    numbered_page,
    page_offset,
)


@dataclass(frozen=True)
class Headline:
    tracked: int
    resolved: int
    due: int
    open: int
    overall: ScoreSnapshot | None


def headline(*, at: dt.datetime) -> Headline:
    by_status = forecast_status_counts(at=at)
    return Headline(
        tracked=sum(by_status.values()) - by_status["draft"],
        resolved=by_status.get("resolved", 0),
        due=by_status.get("due", 0),
        open=by_status.get("open", 0),
        overall=latest_overall(),
    )


# The most forecasters, sources or tags a filter of the list offers to choose from: the
# page stays small however many there are (the index pages list them all).
FILTER_CHOICES = 200


@dataclass(frozen=True)
class FilterChoices:
    """What the list's filter by forecaster, source or tag offers: (key, name) pairs in
    their index's order, and the name of the one chosen (None when none is chosen, or
    when the key is no public one's)."""

    options: list[tuple[str, str]]
    chosen: str | None


def filter_choices(kind: str, *, chosen: str | None) -> FilterChoices:
    """The public forecasters, sources or tags (:func:`~forecasts.scores.scopes.public_scopes`)
    to filter the list by: one query, and one more when one is chosen (its name, and its
    place among the options when it is beyond the first :data:`FILTER_CHOICES`)."""
    spec = scope_model(kind)
    public = public_scopes(kind).order_by(*SCOPE_INDEX_ORDER[kind])
    options: list[tuple[str, str]] = list(
        public.values_list(spec.key_field, spec.name_field)[:FILTER_CHOICES]
    )
    name = None
    if chosen is not None:
        found = public.filter(**{spec.key_field: chosen}).values_list(spec.name_field, flat=True)
        name = found.first()
        if name is not None and (chosen, name) not in options:
            options.insert(0, (chosen, name))
    return FilterChoices(options=options, chosen=name)


@dataclass(frozen=True)
class ScopePage:
    obj: Any
    forecasts: list[Forecast]  # one page of them
    total: int
    number: int
    pages: int
    latest: ScoreSnapshot | None
    history: list[ScoreSnapshot]
    phrases: list[maths.PhraseCalibration]


# What a row of a scope page shows (and links to): only these columns are read and
# loaded, not a forecast's criteria and notes, nor its source's whole text.
SCOPE_ROW_FIELDS = (
    "slug",
    "statement",
    "quote",
    "resolve_by",
    "current_outcome",
    "published_at",
    "forecaster__slug",
    "forecaster__name",
    "source__key",
    "source__title",
)


def _scope_page(
    kind: str,
    obj: Any,
    forecasts: ForecastQuerySet,
    *,
    at: dt.datetime,
    number: int,
    order: tuple[Any, ...] = ("resolve_by", "pk"),
) -> ScopePage:
    """``ValueError`` when ``number`` is past the last page."""
    # Ids first: the page's per-row subqueries run for its 50 rows, not for every row
    # of the scope the sort and the OFFSET pass over; counted from the stored counts.
    # The ids are one index range: of the forecasts (a forecaster's or source's, in the
    # page's order) or of a tag's listing (by deadline, as the rows are ordered).
    matching: QuerySet[Any] = forecasts.published().order_by(*order)
    id_field = "pk"
    if kind == ScopeKind.TAG:
        matching = PublishedTagListing.objects.filter(tag_id=obj.pk).order_by(
            "resolve_by", "forecast_id"
        )
        id_field = "forecast_id"
    listed = numbered_page(
        IdsFirst(
            matching=matching,
            id_field=id_field,
            rows=lambda ids: (
                Forecast.objects.filter(pk__in=ids)
                .with_status(at=at)
                .select_related("forecaster", "source")
                .only(*SCOPE_ROW_FIELDS)
                .order_by(*order)
            ),
            count=lambda: published_scope_count(kind, obj.pk),
        ),
        number=number,
    )
    history = scope_history(kind, obj.pk)
    return ScopePage(
        obj=obj,
        forecasts=listed.object_list,
        total=listed.paginator.count,
        number=listed.number,
        pages=listed.paginator.num_pages,
        latest=history[-1] if history else None,
        history=history,
        phrases=scope_phrases(kind=kind, scope_id=obj.pk),
    )


def scope_page(kind: str, *, key: str, at: dt.datetime, number: int = 1) -> ScopePage:
    """A forecaster's, source's or tag's page, found by the field its URL holds
    (:data:`~forecasts.scores.scopes.SCOPES`); 404 when there is none, or when none of its
    forecasts is published (drafts alone, rejected or not, make nothing public: not the
    name, nor a source's stored text). A source lists its forecasts in the order their
    quotes stand in its text."""
    spec = scope_model(kind)
    obj = get_object_or_404(public_scopes(kind), **{spec.key_field: key})
    order: tuple[Any, ...] = (
        (F("quote_start").asc(nulls_last=True), "pk")
        if kind == ScopeKind.SOURCE
        else ("resolve_by", "pk")
    )
    return _scope_page(
        kind, obj, forecasts_in_scope(kind, obj.pk), at=at, number=number, order=order
    )


# --- The index pages of forecasters, sources and tags ------------------------------------

# Each index in the order of an index of its table: forecasters and tags by their unique
# names, sources newest first (``source_newest_first``, migration 0017).
SCOPE_INDEX_ORDER: dict[str, tuple[str, ...]] = {
    ScopeKind.FORECASTER: ("name",),
    ScopeKind.SOURCE: ("-published_on", "-id"),
    ScopeKind.TAG: ("name",),
}
# What a row shows beside its name and key (a source's text is never read here).
_SCOPE_INDEX_FIELDS: dict[str, tuple[str, ...]] = {
    ScopeKind.FORECASTER: ("kind",),
    ScopeKind.SOURCE: ("publisher", "published_on", "published_precision"),
    ScopeKind.TAG: (),
}


def scope_index(kind: str, *, number: int = 1) -> NumberedPage[Any]:
    """Page ``number`` of the public forecasters, sources or tags
    (:func:`~forecasts.scores.scopes.public_scopes`: only those with a published forecast),
    each annotated with ``published``, its number of published forecasts. Two queries
    whatever their number: the stored counts counted, then one page of rows, each with
    an index probe for its count. ``ValueError`` when ``number`` is past the last page."""
    spec = scope_model(kind)
    counted = public_scope_counts(kind)
    total = counted.count()
    offset = page_offset(number, PAGE_SIZE)
    rows: list[Any] = []
    if offset < total:
        published = counted.filter(scope_id=OuterRef("pk")).values("count")[:1]
        rows = list(
            public_scopes(kind)
            .only(spec.key_field, spec.name_field, *_SCOPE_INDEX_FIELDS[kind])
            .annotate(published=Subquery(published))
            .order_by(*SCOPE_INDEX_ORDER[kind])[offset : offset + PAGE_SIZE]
        )
    return checked_page(Window(total, rows), number=number, per_page=PAGE_SIZE)
