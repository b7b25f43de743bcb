"""The scopes scores are kept for: everything, a forecaster, a source, a tag.

:data:`SCOPES` is the one map from a scope kind to its model, the field its pages
are keyed by, the field it is named by and how its forecasts are found; boards,
phrase tables, the API and the digests all read it. :func:`public_scopes` is the one
rule for which of them may be shown at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, QuerySet

from forecasts.core.counts import PublishedScopeCount
from forecasts.core.models import Forecast, Forecaster, ForecastQuerySet, Source, Tag
from forecasts.scores.models import ScopeKind


@dataclass(frozen=True)
class ScopeModel:
    model: type[models.Model]
    key_field: str  # what its public page's URL holds (slug, or a source's key)
    name_field: str
    member: str  # the Forecast field that puts a forecast in it


SCOPES: dict[str, ScopeModel] = {
    ScopeKind.FORECASTER: ScopeModel(Forecaster, "slug", "name", "forecaster_id"),
    ScopeKind.SOURCE: ScopeModel(Source, "key", "title", "source_id"),
    ScopeKind.TAG: ScopeModel(Tag, "slug", "name", "tags"),
}


@dataclass(frozen=True)
class Scope:
    kind: str
    id: int
    slug: str
    name: str


SCOPE_ORDER = {kind: position for position, kind in enumerate(ScopeKind.values)}
EVERYTHING = Scope(kind=ScopeKind.ALL, id=0, slug="", name="Everything")


def scope_model(kind: str) -> ScopeModel:
    """``ValueError`` for a kind that is not a forecaster, source or tag."""
    if kind not in SCOPES:
        raise ValueError(f"Unknown scope kind {kind!r}; use one of {', '.join(SCOPES)}.")
    return SCOPES[kind]


def public_scopes(kind: str) -> QuerySet[Any]:
    """The forecasters, sources or tags with at least one published forecast: the only
    ones any public page, feed, API response or e-mail may name. One with drafts alone
    (rejected or not) is not public, nor is a source's stored text."""
    spec = scope_model(kind)
    # The stored counts (kept by the database, forecasts.core.counts): one index probe
    # per scope, where an EXISTS over the forecasts read a tag's many rows.
    published = public_scope_counts(kind).filter(scope_id=OuterRef("pk"))
    return spec.model._default_manager.filter(Exists(published))


def public_scope_counts(kind: str) -> QuerySet[PublishedScopeCount]:
    """The stored counts of the public scopes of a kind (:func:`public_scopes`): for
    queries keyed by a scope's id rather than its row (a snapshot's ``scope_id``)."""
    scope_model(kind)
    return PublishedScopeCount.objects.filter(kind=kind, count__gt=0)


def scopes_named(kind: str, ids: list[int]) -> dict[int, Scope]:
    """Names and slugs of the given scopes that are public (:func:`public_scopes`): one
    query (none for 'all')."""
    if kind == ScopeKind.ALL:
        return {0: EVERYTHING}
    spec = scope_model(kind)
    rows: Any = (
        public_scopes(kind).filter(pk__in=ids).values_list("pk", spec.key_field, spec.name_field)
    )
    return {pk: Scope(kind=kind, id=pk, slug=slug, name=name) for pk, slug, name in rows}


def scope_find(*, kind: str, scope_id: int) -> Scope | None:
    """The named scope, or None when there is no such forecaster, source or tag, or it
    has no published forecast (everything is id 0, and nothing else)."""
    return scopes_named(kind, [scope_id]).get(scope_id)


def forecasts_in_scope(kind: str, scope_id: int) -> ForecastQuerySet:
    """Every forecast (drafts too) of a forecaster, source or tag."""
    return Forecast.objects.filter(**{scope_model(kind).member: scope_id})
