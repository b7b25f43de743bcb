"""The read-only JSON API (django-ninja): thin adapters over the public selectors.

Each view returns model objects or querysets; the schemas (:mod:`.schemas`) say which
of their fields a reader sees, and :class:`~forecasts.web.pagination.PublicPagination`
pages the lists.
"""

# No "from __future__ import annotations": django-ninja reads the views' parameter types
# through @paginate's wrapper, whose module cannot resolve their names.

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import NinjaAPI, Query, Schema
from ninja import Path as PathParam
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation
from ninja.pagination import paginate

from forecasts.core.ledger.models import LedgerEntry
from forecasts.core.ledger.selectors import Head, ledger_entries, ledger_head
from forecasts.core.models import Forecast, Forecaster, Source
from forecasts.core.selectors import (
    forecast_public_detail,
    forecaster_public_list,
    source_public_list,
)
from forecasts.scores.phrase_table import scope_phrases
from forecasts.scores.scopes import Scope, scope_find
from forecasts.scores.selectors import scores_latest, snapshot_history
from forecasts.web.api.docs import BundledSwagger
from forecasts.web.api.errors import parameter_error_message, parameter_errors
from forecasts.web.api.schemas import (
    ErrorOut,
    ForecastDetailOut,
    ForecasterPage,
    ForecastPage,
    HeadQuery,
    LatestScoresOut,
    LedgerHeadOut,
    LedgerPage,
    LedgerQuery,
    PhrasesOut,
    ScoresQuery,
    SnapshotPage,
    SnapshotQuery,
    SourcePage,
)
from forecasts.web.caching import cached_public_page
from forecasts.web.filters import ForecastFilters, Slug, forecast_public_results
from forecasts.web.pagination import Beside, IdsFirst, PageQuery, PublicPagination


class PublicAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # The ids from when the API was one module (forecasts/web/api.py): clients
        # generated from the schema name their methods after them.
        return f"forecasts_web_api_{operation.view_func.__name__}"


api = PublicAPI(
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


def _cached(
    *queries: type[Schema], paged: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Cached like the public pages, until a write changes what they show: per path and
    the parameters the endpoint reads (those of its query schemas, and the page's); any
    other is dropped before it runs, and makes no entry of its own."""
    names = [name for query in queries for name in query.model_fields]
    if paged:
        names += list(PageQuery.model_fields)
    return decorate_view(cached_public_page(params=names))


ERRORS = {400: ErrorOut, 404: ErrorOut}


def _scope(kind: str, scope_id: int) -> Scope:
    scope = scope_find(kind=kind, scope_id=scope_id)
    if scope is None:
        raise HttpError(404, f"No {kind} with id {scope_id}.")
    return scope


@api.get("/forecasts", response={200: ForecastPage, 400: ErrorOut}, tags=["forecasts"])
@_cached(ForecastFilters, paged=True)
@paginate(PublicPagination)
def forecast_list(request: HttpRequest, filters: Query[ForecastFilters]) -> IdsFirst[Forecast]:
    """Published forecasts, soonest deadline first, filtered and paginated."""
    return forecast_public_results(at=timezone.now(), filters=filters)


@api.get("/forecasts/{slug}", response={200: ForecastDetailOut, **ERRORS}, tags=["forecasts"])
@_cached()
def forecast_detail(request: HttpRequest, slug: PathParam[Slug]) -> Forecast:
    """One published forecast with its estimates, resolutions and deadline extensions."""
    return forecast_public_detail(slug=slug, at=timezone.now())


@api.get("/forecasters", response={200: ForecasterPage, 400: ErrorOut}, tags=["scopes"])
@_cached(paged=True)
@paginate(PublicPagination)
def forecaster_list(request: HttpRequest) -> QuerySet[Forecaster]:
    """Forecasters with at least one published forecast, by name."""
    return forecaster_public_list()


@api.get("/sources", response={200: SourcePage, 400: ErrorOut}, tags=["scopes"])
@_cached(paged=True)
@paginate(PublicPagination)
def source_list(request: HttpRequest) -> QuerySet[Source]:
    """Sources with at least one published forecast, newest first."""
    return source_public_list()


@api.get("/scores", response={200: LatestScoresOut, 400: ErrorOut}, tags=["scores"])
@_cached(ScoresQuery, paged=True)
@paginate(PublicPagination)
def scores(request: HttpRequest, query: Query[ScoresQuery]) -> Beside:
    """The latest snapshot of every scope (everything, forecasters, sources, tags), a page
    at a time (each item carries its calibration bins: all 750 scopes of a large tracker
    make a response of megabytes). Within each kind, as its leaderboard: the ranked
    scopes best first, each with its ``rank``, then those with too few resolved forecasts
    to rank (``ranked`` false, ``rank`` null), most resolved first."""
    latest = scores_latest(kind=query.kind)
    return Beside(latest.items, as_of=latest.as_of)


@api.get("/phrases", response={200: PhrasesOut, **ERRORS}, tags=["scores"])
@_cached(SnapshotQuery)
def phrases(request: HttpRequest, query: Query[SnapshotQuery]) -> dict[str, object]:
    """How often the events a scope described with each verbal phrase ("unlikely", "may")
    came true, most used phrase first. Everything's table is the latest snapshot's."""
    scope = _scope(query.scope_kind, query.scope_id)
    return {"scope": scope, "items": scope_phrases(kind=scope.kind, scope_id=scope.id)}


@api.get("/snapshots", response={200: SnapshotPage, **ERRORS}, tags=["scores"])
@_cached(SnapshotQuery, paged=True)
@paginate(PublicPagination)
def snapshots(request: HttpRequest, query: Query[SnapshotQuery]) -> Beside:
    """One scope's score history, newest first."""
    scope = _scope(query.scope_kind, query.scope_id)
    return Beside(snapshot_history(scope=scope), scope=scope)


@api.get("/ledger", response={200: LedgerPage, 400: ErrorOut}, tags=["ledger"])
@_cached(LedgerQuery, paged=True)
@paginate(PublicPagination)
def ledger(request: HttpRequest, query: Query[LedgerQuery]) -> QuerySet[LedgerEntry]:
    """The ledger, oldest entry first: every public change, each entry's canonical JSON
    (``payload``) and its hash, chained to the previous one (docs/LEDGER.md says how to
    verify an export). ``after`` resumes from the last seq you hold."""
    return ledger_entries(chain=query.chain, after=query.after, forecast_slug=query.forecast)


@api.get("/ledger/head", response={200: LedgerHeadOut, 400: ErrorOut}, tags=["ledger"])
@_cached(HeadQuery)
def ledger_head_view(request: HttpRequest, query: Query[HeadQuery]) -> Head:
    """The chain's newest seq and hash: keep it, and check a later export against it."""
    return ledger_head(chain=query.chain)


# Not a redirect to the docs: a client that asks the API's root for JSON gets JSON (as
# GitHub's API root answers with its endpoints), with links it can follow; a person in
# a browser reads the same, the docs one link away. Built from the OpenAPI schema, so
# it lists every endpoint and no other.
@api.get("/", include_in_schema=False)
@_cached()
def index(request: HttpRequest) -> dict[str, Any]:
    """The API's endpoints with their descriptions, the docs and the schema."""
    schema = api.get_openapi_schema()
    site = settings.SITE_URL
    return {
        "title": api.title,
        "version": api.version,
        "description": api.description,
        "docs": site + reverse("api:openapi-view"),
        "openapi": site + reverse("api:openapi-json"),
        "endpoints": [
            {
                "path": path,
                "url": site + path,
                "method": method.upper(),
                "summary": operation.get("summary", ""),
                # Its first paragraph, on one line (the docstring's line breaks are not the text's).
                "description": " ".join(
                    (operation.get("description") or "").split("\n\n")[0].split()
                ),
            }
            for path, operations in schema["paths"].items()
            for method, operation in operations.items()
        ],
    }
