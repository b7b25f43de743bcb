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
from forecasts.core.selectors import (
    forecast_public_count,
    forecast_public_list,
    forecast_status_counts,
)
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


def forecast_list_results(*, at: dt.datetime, status: str | None) -> IdsFirst[Forecast]:
    """The public list (:func:`~forecasts.core.selectors.forecast_public_list`) to be paged
    ids first and counted from the stored counts: a page reads its own rows, whatever
    the number of forecasts. ``ValueError`` for an unknown status."""
    matching = forecast_public_list(at=at, status=status)
    return IdsFirst(
        matching=matching,
        rows=lambda ids: forecast_public_list(at=at).filter(pk__in=ids),
        count=lambda: forecast_public_count(at=at, status=status),
    )


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
                .defer("source__text")  # an article's whole text, never shown in a list
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
