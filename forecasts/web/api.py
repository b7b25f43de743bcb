"""The read-only JSON API (django-ninja): thin adapters over the public selectors.

Every response is built field by field from the schemas below, so nothing a
reader should not see (drafts, who resolved or recorded anything, e-mail
addresses) can slip out through a model attribute.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.utils import timezone
from ninja import Field, NinjaAPI, Query, Schema
from ninja import Path as PathParam
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from pydantic import StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from forecasts.core.models import Estimate, Forecast, Resolution
from forecasts.core.selectors import (
    forecast_public_detail,
    forecaster_public_list,
    source_public_list,
)
from forecasts.scores.forecast import forecast_score, published_brier
from forecasts.scores.models import ScoreSnapshot
from forecasts.scores.phrase_table import scope_phrases
from forecasts.scores.scopes import Scope, scope_find
from forecasts.scores.selectors import scores_latest, snapshot_history
from forecasts.web.caching import cached_public_page
from forecasts.web.filters import ForecastFilters, forecast_public_page
from forecasts.web.pagination import paginate

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
# Far beyond any real data, and far below the 64-bit integers the databases accept.
MAX_OFFSET = 1_000_000_000
MAX_ID = 2**63 - 1

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
# NUL cannot be stored or compared by PostgreSQL; no other character is refused.
TEXT_PATTERN = r"^[^\x00]*$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=200)]
PublicStatus = Literal["open", "due", "resolved", "annulled"]
OutcomeValue = Literal["YES", "NO", "ANNULLED"]
Precision = Literal["day", "month", "year"]
BasisValue = Literal["number", "phrase"]
ScopeKindValue = Literal["all", "forecaster", "source", "tag"]
# An optional query parameter is left out, never sent as null: keep null out of the schema.
Absent = SkipJsonSchema[None]


# --- Query parameters ---------------------------------------------------------------


class ForecastFilterQuery(Schema):
    """The forecast filters, shared by ``/api/forecasts`` and ``/export/forecasts.csv``."""

    status: PublicStatus | Absent = Field(None, description="Lifecycle state (never draft).")
    forecaster: Slug | Absent = Field(None, description="Forecaster slug.")
    source: Slug | Absent = Field(None, description="Source key.")
    tag: Slug | Absent = Field(None, description="Tag slug.")
    resolve_by_after: dt.date | Absent = Field(
        None, description="Deadline on or after this day (YYYY-MM-DD)."
    )
    resolve_by_before: dt.date | Absent = Field(
        None, description="Deadline on or before this day (YYYY-MM-DD)."
    )
    q: str | Absent = Field(
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

    def filters(self) -> ForecastFilters:
        return ForecastFilters(
            status=self.status,
            forecaster=self.forecaster,
            source=self.source,
            tag=self.tag,
            resolve_by_after=self.resolve_by_after,
            resolve_by_before=self.resolve_by_before,
            q=self.q,
        )


class PageQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class ScoresQuery(Schema):
    kind: ScopeKindValue | Absent = Field(None, description="Only scopes of this kind.")


class SnapshotQuery(Schema):
    scope_kind: ScopeKindValue = Field("all", description="The kind of scope.")
    scope_id: int = Field(
        0, ge=0, le=MAX_ID, description="The forecaster, source or tag id; 0 for everything."
    )


_PARAMETERS = {
    "slug",
    *ForecastFilterQuery.model_fields,
    *PageQuery.model_fields,
    *ScoresQuery.model_fields,
    *SnapshotQuery.model_fields,
}


def parameter_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's errors as ``{"param", "message"}``: one per parameter, no internals."""
    described: dict[str, str] = {}
    for error in errors:
        # ninja may put the view's argument name in the location, and pydantic the branch
        # of a union after the parameter's name: ("query", "filters", "status", "none").
        # An optional parameter's first error is about its real type, not about None.
        location = [str(part) for part in error.get("loc", ())]
        name = next((part for part in location if part in _PARAMETERS), "request")
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        described.setdefault(name, message)
    return [{"param": name, "message": message} for name, message in described.items()]


def parameter_error_message(errors: Iterable[Mapping[str, Any]]) -> str:
    """One sentence naming every bad parameter, for a 400 response."""
    parts = [f"{error['param']}: {error['message']}" for error in parameter_errors(errors)]
    return "Bad query parameter. " + "; ".join(parts) + "."


# --- Response bodies --------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, str]] | None = None


class TagOut(Schema):
    slug: str
    name: str


class SourceRef(Schema):
    key: str
    title: str
    url: str = Field(description="The article's address; empty when unknown.")
    publisher: str


class ForecasterRef(Schema):
    slug: str
    name: str


class ForecastOut(Schema):
    slug: str
    statement: str
    quote: str
    source: SourceRef
    forecaster: ForecasterRef
    made_on: dt.date
    made_on_precision: Precision
    resolve_by: dt.date
    status: PublicStatus
    probability: float | None = Field(description="The estimate standing now.")
    published_probability: float | None = Field(description="The first estimate (scored).")
    basis: BasisValue | None = Field(description="How the first estimate was stated.")
    phrase: str = Field(description="The verbal phrase of the first estimate, if any.")
    negated: bool = Field(description="The phrase qualified the negation of the statement.")
    outcome: OutcomeValue | None
    known_on: dt.date | None
    evidence_url: str | None
    brier: float | None = Field(description="Brier score at publication; null if not scored.")
    tags: list[TagOut]
    url: str = Field(description="The forecast's public page.")


class EstimateOut(Schema):
    made_on: dt.date
    probability: float
    low: float | None
    high: float | None
    basis: BasisValue
    phrase: str
    negated: bool
    note: str


class ResolutionOut(Schema):
    outcome: OutcomeValue
    known_on: dt.date
    evidence_url: str
    evidence_note: str
    correction_reason: str
    resolved_at: dt.datetime
    is_current: bool


class ExtensionOut(Schema):
    previous_resolve_by: dt.date
    new_resolve_by: dt.date
    reason: str
    extended_at: dt.datetime


class ForecastDetailOut(ForecastOut):
    resolution_criteria: str
    resolve_by_note: str
    condition: str
    time_averaged_brier: float | None
    estimates: list[EstimateOut] = Field(description="Oldest first; the last one stands.")
    resolutions: list[ResolutionOut] = Field(
        description="Newest first: the current resolution, then those it corrected."
    )
    extensions: list[ExtensionOut] = Field(description="Deadline extensions, oldest first.")


class ForecasterOut(Schema):
    id: int
    slug: str
    name: str
    kind: Literal["person", "outlet"]
    url: str
    description: str
    forecast_count: int


class SourceOut(Schema):
    id: int
    key: str
    title: str
    url: str
    publisher: str
    author: str
    published_on: dt.date
    published_precision: Precision
    has_text: bool
    forecast_count: int


class ScopeOut(Schema):
    kind: ScopeKindValue
    id: int
    slug: str
    name: str


class ScoresOut(Schema):
    resolved_count: int
    yes_count: int
    brier: float | None
    shrunk_brier: float | None
    time_averaged_brier: float | None
    log_loss: float | None
    skill_vs_coin: float | None
    skill_vs_base_rate: float | None
    calibration: list[dict[str, Any]]
    murphy: dict[str, Any]


class ScopeScoresOut(ScopeOut, ScoresOut):
    as_of: dt.date


class LatestScoresOut(Schema):
    as_of: dt.date | None
    count: int
    limit: int
    offset: int
    next: str | None
    previous: str | None
    items: list[ScopeScoresOut]


class SnapshotOut(ScoresOut):
    as_of: dt.date
    computed_at: dt.datetime


class PhraseOut(Schema):
    phrase: str = Field(description="The verbal phrase, lower-cased.")
    count: int = Field(description="Resolved forecasts whose first estimate used it.")
    happened: int = Field(description="How many of them came true.")
    observed_frequency: float
    interval_low: float = Field(description="95 % Wilson interval of the frequency.")
    interval_high: float


class PhrasesOut(Schema):
    scope: ScopeOut
    items: list[PhraseOut]


class PageOut(Schema):
    count: int
    limit: int
    offset: int
    next: str | None
    previous: str | None


class ForecastPage(PageOut):
    items: list[ForecastOut]


class ForecasterPage(PageOut):
    items: list[ForecasterOut]


class SourcePage(PageOut):
    items: list[SourceOut]


class SnapshotPage(PageOut):
    scope: ScopeOut
    items: list[SnapshotOut]


# --- Docs ----------------------------------------------------------------------------------

DOCS_TEMPLATE = """{% load static %}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ api.title }}</title>
<link rel="stylesheet" href="{% static 'ninja/swagger-ui.css' %}">
<link rel="icon" href="{% static 'ninja/favicon.svg' %}" type="image/svg+xml">
</head>
<body>
<h1>{{ api.title }}</h1>
<p>Read-only JSON. The OpenAPI 3 schema is at <a href="{{ schema_url }}">{{ schema_url }}</a>.</p>
<ul>{% for path in paths %}<li><code>GET {{ path }}</code></li>{% endfor %}</ul>
<script type="application/json" id="swagger-settings">{{ swagger_settings|safe }}</script>
<div id="swagger-ui"></div>
<script src="{% static 'ninja/swagger-ui-bundle.js' %}"></script>
<script src="{% static 'ninja/swagger-ui-init.js' %}"></script>
</body>
</html>
"""


class BundledSwagger(Swagger):
    """Swagger UI from the static files ninja ships: never a CDN, and a plain list of the
    endpoints for readers without JavaScript."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        if "ninja" not in settings.INSTALLED_APPS:
            raise ImproperlyConfigured(
                "Add 'ninja' to INSTALLED_APPS: the API docs use its bundled Swagger UI files."
            )
        schema_url = self.get_openapi_url(api, kwargs)
        swagger_settings = {**self.settings, "url": schema_url}
        context = {
            "api": api,
            "schema_url": schema_url,
            "paths": list(api.get_openapi_schema(path_params=kwargs)["paths"]),
            # Escaped for an HTML <script> block: no "</script>" can end it early.
            "swagger_settings": json.dumps(swagger_settings).replace("<", "\\u003c"),
        }
        template = engines["django"].from_string(DOCS_TEMPLATE)
        return HttpResponse(template.render(context, request))


api = NinjaAPI(
    title="Forecast tracker API",
    version="1",
    description=(
        "Published forecasts, their estimates, resolutions (with corrections) and scores. "
        "Read-only; bad query parameters get a 400 with a message."
    ),
    urls_namespace="api",
    # No validator badge: Swagger UI would fetch it from validator.swagger.io.
    docs=BundledSwagger(settings={"validatorUrl": None}),
)


@api.exception_handler(NinjaValidationError)
def _bad_parameters(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": parameter_error_message(exc.errors), "errors": parameter_errors(exc.errors)},
        status=400,
    )


# Cached like the public pages: per URL, until a write changes what they show.
_cached = decorate_view(cached_public_page)


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _page_links(request: HttpRequest, *, count: int, limit: int, offset: int) -> dict[str, Any]:
    def link(to: int) -> str:
        params = request.GET.copy()
        params["limit"], params["offset"] = str(limit), str(to)
        return _absolute(f"{request.path}?{params.urlencode()}")

    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "next": link(offset + limit) if offset + limit < count else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
    }


def forecast_row(forecast: Forecast) -> dict[str, Any]:
    """A forecast annotated by :func:`with_row_details`, as the API shows it."""
    source, forecaster = forecast.source, forecast.forecaster
    return {
        "slug": forecast.slug,
        "statement": forecast.statement,
        "quote": forecast.quote,
        "source": {
            "key": source.key,
            "title": source.title,
            "url": source.url,
            "publisher": source.publisher,
        },
        "forecaster": {"slug": forecaster.slug, "name": forecaster.name},
        "made_on": forecast.made_on,
        "made_on_precision": forecast.made_on_precision,
        "resolve_by": forecast.resolve_by,
        "status": forecast.status,  # type: ignore[attr-defined]
        "probability": forecast.probability,  # type: ignore[attr-defined]
        "published_probability": forecast.published_probability,  # type: ignore[attr-defined]
        "basis": getattr(forecast, "published_basis", None),
        "phrase": getattr(forecast, "published_phrase", None) or "",
        "negated": bool(getattr(forecast, "published_negated", False)),
        "outcome": forecast.outcome,  # type: ignore[attr-defined]
        "known_on": getattr(forecast, "known_on", None),
        "evidence_url": getattr(forecast, "evidence_url", None),
        "brier": published_brier(forecast),
        "tags": [{"slug": tag.slug, "name": tag.name} for tag in forecast.tags.all()],
        "url": _absolute(forecast.get_absolute_url()),
    }


def _forecast_detail(forecast: Forecast) -> dict[str, Any]:
    estimates: list[Estimate] = list(forecast.estimates.all())
    resolutions: list[Resolution] = list(forecast.resolutions.all())
    current = next((r for r in resolutions if r.is_current), None)
    first = estimates[0] if estimates else None
    score = forecast_score(forecast=forecast, estimates=estimates, resolution=current)
    forecast.published_basis = first.basis if first else None  # type: ignore[attr-defined]
    forecast.published_phrase = first.phrase if first else ""  # type: ignore[attr-defined]
    forecast.published_negated = first.negated if first else False  # type: ignore[attr-defined]
    forecast.known_on = current.known_on if current else None  # type: ignore[attr-defined]
    forecast.evidence_url = current.evidence_url if current else None  # type: ignore[attr-defined]
    return {
        **forecast_row(forecast),
        "resolution_criteria": forecast.resolution_criteria,
        "resolve_by_note": forecast.resolve_by_note,
        "condition": forecast.condition,
        "time_averaged_brier": score.time_averaged_brier if score else None,
        "estimates": [
            {
                "made_on": e.made_on,
                "probability": e.probability,
                "low": e.low,
                "high": e.high,
                "basis": e.basis,
                "phrase": e.phrase,
                "negated": e.negated,
                "note": e.note,
            }
            for e in estimates
        ],
        "resolutions": [
            {
                "outcome": r.outcome,
                "known_on": r.known_on,
                "evidence_url": r.evidence_url,
                "evidence_note": r.evidence_note,
                "correction_reason": r.correction_reason,
                "resolved_at": r.resolved_at,
                "is_current": r.is_current,
            }
            for r in resolutions
        ],
        "extensions": [
            {
                "previous_resolve_by": x.previous_resolve_by,
                "new_resolve_by": x.new_resolve_by,
                "reason": x.reason,
                "extended_at": x.extended_at,
            }
            for x in forecast.extensions.all()
        ],
    }


def _scores(snapshot: ScoreSnapshot) -> dict[str, Any]:
    return {
        "resolved_count": snapshot.resolved_count,
        "yes_count": snapshot.yes_count,
        "brier": snapshot.brier,
        "shrunk_brier": snapshot.shrunk_brier,
        "time_averaged_brier": snapshot.time_averaged_brier,
        "log_loss": snapshot.log_loss,
        "skill_vs_coin": snapshot.skill_vs_coin,
        "skill_vs_base_rate": snapshot.skill_vs_base_rate,
        "calibration": snapshot.calibration,
        "murphy": snapshot.murphy,
    }


def _scope(scope: Scope) -> dict[str, Any]:
    return {"kind": scope.kind, "id": scope.id, "slug": scope.slug, "name": scope.name}


ERRORS = {400: ErrorOut, 404: ErrorOut}


@api.get("/forecasts", response={200: ForecastPage, 400: ErrorOut}, tags=["forecasts"])
@_cached
def forecast_list(
    request: HttpRequest, filters: Query[ForecastFilterQuery], page: Query[PageQuery]
) -> dict[str, Any]:
    """Published forecasts, soonest deadline first, filtered and paginated."""
    result = forecast_public_page(
        at=timezone.now(), filters=filters.filters(), limit=page.limit, offset=page.offset
    )
    return {
        **_page_links(request, count=result.count, limit=page.limit, offset=page.offset),
        "items": [forecast_row(forecast) for forecast in result.items],
    }


@api.get("/forecasts/{slug}", response={200: ForecastDetailOut, **ERRORS}, tags=["forecasts"])
@_cached
def forecast_detail(request: HttpRequest, slug: PathParam[Slug]) -> dict[str, Any]:
    """One published forecast with its estimates, resolutions and deadline extensions."""
    forecast = forecast_public_detail(slug=slug, at=timezone.now())
    return _forecast_detail(forecast)


@api.get("/forecasters", response={200: ForecasterPage, 400: ErrorOut}, tags=["scopes"])
@_cached
def forecaster_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """Forecasters with at least one published forecast, by name."""
    result = paginate(forecaster_public_list(), limit=page.limit, offset=page.offset)
    return {
        **_page_links(request, count=result.count, limit=page.limit, offset=page.offset),
        "items": [
            {
                "id": f.pk,
                "slug": f.slug,
                "name": f.name,
                "kind": f.kind,
                "url": f.url,
                "description": f.description,
                "forecast_count": f.forecast_count,
            }
            for f in result.items
        ],
    }


@api.get("/sources", response={200: SourcePage, 400: ErrorOut}, tags=["scopes"])
@_cached
def source_list(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """Sources with at least one published forecast, newest first."""
    result = paginate(source_public_list(), limit=page.limit, offset=page.offset)
    return {
        **_page_links(request, count=result.count, limit=page.limit, offset=page.offset),
        "items": [
            {
                "id": s.pk,
                "key": s.key,
                "title": s.title,
                "url": s.url,
                "publisher": s.publisher,
                "author": s.author,
                "published_on": s.published_on,
                "published_precision": s.published_precision,
                "has_text": s.has_text,
                "forecast_count": s.forecast_count,
            }
            for s in result.items
        ],
    }


@api.get("/scores", response={200: LatestScoresOut, 400: ErrorOut}, tags=["scores"])
@_cached
def scores(
    request: HttpRequest, query: Query[ScoresQuery], page: Query[PageQuery]
) -> dict[str, Any]:
    """The latest snapshot of every scope (everything, forecasters, sources, tags), best
    first within each kind, a page at a time (each item carries its calibration bins:
    all 750 scopes of a large tracker make a response of megabytes)."""
    latest = scores_latest(kind=query.kind)
    shown = latest.items[page.offset : page.offset + page.limit]
    return {
        **_page_links(request, count=len(latest.items), limit=page.limit, offset=page.offset),
        "as_of": latest.as_of,
        "items": [
            {**_scope(item.scope), **_scores(item.snapshot), "as_of": item.snapshot.as_of}
            for item in shown
        ],
    }


@api.get("/phrases", response={200: PhrasesOut, **ERRORS}, tags=["scores"])
@_cached
def phrases(request: HttpRequest, query: Query[SnapshotQuery]) -> dict[str, Any]:
    """How often the events a scope described with each verbal phrase ("unlikely", "may")
    came true, most used phrase first. Everything's table is the latest snapshot's."""
    scope = scope_find(kind=query.scope_kind, scope_id=query.scope_id)
    if scope is None:
        raise HttpError(404, f"No {query.scope_kind} with id {query.scope_id}.")
    table = scope_phrases(kind=scope.kind, scope_id=scope.id)
    return {"scope": _scope(scope), "items": [row.to_dict() for row in table]}


@api.get("/snapshots", response={200: SnapshotPage, **ERRORS}, tags=["scores"])
@_cached
def snapshots(
    request: HttpRequest, query: Query[SnapshotQuery], page: Query[PageQuery]
) -> dict[str, Any]:
    """One scope's score history, newest first."""
    scope = scope_find(kind=query.scope_kind, scope_id=query.scope_id)
    if scope is None:
        raise HttpError(404, f"No {query.scope_kind} with id {query.scope_id}.")
    result = paginate(snapshot_history(scope=scope), limit=page.limit, offset=page.offset)
    return {
        **_page_links(request, count=result.count, limit=page.limit, offset=page.offset),
        "scope": _scope(scope),
        "items": [
            {**_scores(s), "as_of": s.as_of, "computed_at": s.computed_at} for s in result.items
        ],
    }
