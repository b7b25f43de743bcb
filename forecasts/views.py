"""Public pages: thin adapters over selectors."""

import logging
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from forecasts import charts, links, selectors, services
from forecasts.caching import cached_public_page
from forecasts.forms import CorrectionForm, ExtendForm, ResolveForm, add_service_errors
from forecasts.models import Forecast, ReviewLinkUse, ScopeKind, ScoreSnapshot, Status
from forecasts.permissions import can_resolve
from forecasts.selectors import scorecard as scorecard_selectors
from forecasts.services.scores import SHRINK_PSEUDOCOUNT

PAGE_SIZE = 50
logger = logging.getLogger(__name__)


@require_safe
@cached_public_page
def forecast_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    now = timezone.now()
    try:
        forecasts = selectors.forecast_public_list(at=now, status=status or None)
    except ValueError as exc:
        return render(
            request,
            "forecasts/forecast_list.html",
            _list_context(status, error=str(exc)),
            status=400,
        )
    page = Paginator(forecasts, PAGE_SIZE).get_page(request.GET.get("page"))
    for forecast in page.object_list:
        forecast.brier = selectors.published_brier(forecast)
    return render(request, "forecasts/forecast_list.html", _list_context(status, page=page))


def _list_context(status: str, **extra: object) -> dict[str, object]:
    choices = [(value, Status(value).label) for value in selectors.PUBLIC_STATUSES]
    return {"status": status, "status_choices": choices, **extra}


@require_safe
@cached_public_page
def forecast_detail(request: HttpRequest, slug: str) -> HttpResponse:
    forecast = selectors.forecast_public_detail(slug=slug, at=timezone.now())
    resolutions = list(forecast.resolutions.all())
    estimates = list(forecast.estimates.all())
    current = next((r for r in resolutions if r.is_current), None)
    return render(
        request,
        "forecasts/forecast_detail.html",
        {
            "forecast": forecast,
            "estimates": estimates,
            "current_resolution": current,
            "earlier_resolutions": [r for r in resolutions if not r.is_current],
            "score": selectors.forecast_score(
                forecast=forecast, estimates=estimates, resolution=current
            ),
            "probability_chart": charts.forecast_probability_chart(forecast, estimates, current),
        },
    )


@require_safe
@cached_public_page
def scores(request: HttpRequest) -> HttpResponse:
    sort, filters = "rank", scorecard_selectors.BoardFilters()
    return render(
        request,
        "forecasts/scores.html",
        {
            "scoreboard": selectors.scoreboard(),
            "boards": [
                _board_context(name, sort, filters, limit=TOP_ROWS)
                for name in ("forecasters", "sources", "tags")
            ],
            **_filter_context(sort, filters),
        },
    )


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Readiness for load balancers and container health checks.

    200 "ok" when the database answers a query and the Celery broker accepts a
    connection; 503 naming what failed otherwise (no details: they may hold hosts).
    """
    failures = [name for name, check in HEALTH_CHECKS.items() if not _healthy(name, check)]
    if failures:
        return HttpResponse(
            f"unavailable: {', '.join(failures)}\n", status=503, content_type="text/plain"
        )
    return HttpResponse("ok\n", content_type="text/plain")


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_broker() -> None:
    from tracker.celery import app

    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=HEALTH_TIMEOUT)


HEALTH_TIMEOUT = 2  # seconds for the broker to answer
HEALTH_CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "broker": _check_broker,
}


def _healthy(name: str, check: Callable[[], None]) -> bool:
    try:
        check()
    except Exception:
        logger.exception("Health check failed: %s", name)
        return False
    return True


# --- Review pages -------------------------------------------------------------


@login_required
@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    """The reviewer's own queue: due forecasts they are responsible for."""
    forecasts = selectors.review_queue(user=request.user, at=timezone.now())  # type: ignore[arg-type]
    today = timezone.localdate()
    rows = [(forecast, (today - forecast.resolve_by).days) for forecast in forecasts]
    return render(request, "forecasts/review_queue.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def review_forecast(request: HttpRequest, slug: str) -> HttpResponse:
    """Resolve or extend one forecast (login and object-level permission required)."""
    forecast = get_object_or_404(Forecast.objects.published(), slug=slug)
    if not can_resolve(request.user, forecast):
        raise PermissionDenied("You are not a reviewer of this forecast.")
    current = forecast.current_resolution()
    form_class = ResolveForm if current is None else CorrectionForm
    resolve_form = form_class(prefix="resolve")
    extend_form = ExtendForm(prefix="extend", current=forecast.resolve_by)
    if request.method == "POST":
        if "extend" in request.POST:
            extend_form = ExtendForm(request.POST, prefix="extend")
            if _extend(extend_form, forecast, request.user):  # type: ignore[arg-type]
                messages.success(request, "Deadline extended.")
                return redirect(forecast)
        else:
            resolve_form = form_class(request.POST, prefix="resolve")
            if _resolve(resolve_form, forecast, request.user):  # type: ignore[arg-type]
                messages.success(request, "Forecast resolved.")
                return redirect(forecast)
    return render(
        request,
        "forecasts/review_forecast.html",
        {
            "forecast": forecast,
            "current_resolution": current,
            "resolve_form": resolve_form,
            "extend_form": extend_form,
        },
    )


@require_http_methods(["GET", "POST"])
def review_link(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """A one-click link from a review e-mail. GET only shows what would happen (mail
    scanners follow links); the reviewer confirms with a POST that adds evidence."""
    try:
        link = links.review_link_check(token, slug=slug, user=request.user)
    except links.LinkRefused as refused:
        return _link_refused(request, refused)
    if not can_resolve(link.reviewer, link.forecast):
        return _link_refused(
            request,
            links.LinkRefused("forbidden", "You are no longer a reviewer of this forecast."),
        )
    extending = link.action == "extend"
    if extending:
        form: ResolveForm | ExtendForm = ExtendForm(current=link.forecast.resolve_by)
    else:
        form = ResolveForm(fixed_outcome=links.OUTCOME_FOR_ACTION[link.action])
    if request.method == "POST":
        form = (
            ExtendForm(request.POST)
            if extending
            else ResolveForm(request.POST, fixed_outcome=links.OUTCOME_FOR_ACTION[link.action])
        )
        if form.is_valid():
            try:
                with transaction.atomic():
                    # Using the link is recorded first: a replay racing this one
                    # hits the unique digest and is refused.
                    ReviewLinkUse.objects.create(
                        digest=link.digest,
                        forecast=link.forecast,
                        reviewer=link.reviewer,
                        action=link.action,
                    )
                    done = (
                        _extend(form, link.forecast, link.reviewer)
                        if isinstance(form, ExtendForm)
                        else _resolve(form, link.forecast, link.reviewer)
                    )
                    if not done:
                        transaction.set_rollback(True)
            except IntegrityError:
                return _link_refused(
                    request, links.LinkRefused("used", "This link has already been used.")
                )
            if done:
                return render(
                    request,
                    "forecasts/review_link_done.html",
                    {"forecast": link.forecast, "link": link},
                )
    return render(
        request,
        "forecasts/review_link.html",
        {"link": link, "form": form, "forecast": link.forecast},
    )


def _link_refused(request: HttpRequest, refused: links.LinkRefused) -> HttpResponse:
    status = {"invalid": 400, "gone": 404, "forbidden": 403, "changed": 409}.get(refused.code, 410)
    return render(
        request, "forecasts/review_link_refused.html", {"refused": refused}, status=status
    )


def _resolve(form: ResolveForm, forecast: Forecast, user: User) -> bool:
    """Run the resolve service from a valid form; errors go back onto the form."""
    if not form.is_valid():
        return False
    try:
        services.forecast_resolve(forecast=forecast, resolved_by=user, **form.service_arguments())
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


def _extend(form: ExtendForm, forecast: Forecast, user: User) -> bool:
    if not form.is_valid():
        return False
    try:
        services.forecast_extend(
            forecast=forecast,
            new_resolve_by=form.cleaned_data["new_resolve_by"],
            reason=form.cleaned_data["reason"],
            extended_by=user,
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


# --- Scorecard and scope pages -----------------------------------------------------


# Leaderboards on the scorecard show the top rows; the full boards are paged.
TOP_ROWS = 10
BOARDS = {
    # URL name: (scope kind, caption, column label, detail route)
    "forecasters": (ScopeKind.FORECASTER, "Forecasters", "Forecaster", "forecasts:forecaster"),
    "sources": (ScopeKind.SOURCE, "Sources", "Source", "forecasts:source"),
    "tags": (ScopeKind.TAG, "Tags", "Tag", "forecasts:tag"),
}


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "forecasts/bad_request.html", {"message": message}, status=400)


def _board_options(request: HttpRequest) -> tuple[str, scorecard_selectors.BoardFilters]:
    """The sort and filters asked for; ``ValueError`` with a message when they are wrong."""
    sort = scorecard_selectors.board_sort_check(request.GET.get("sort", "rank"))
    filters = scorecard_selectors.board_filters(
        tag=request.GET.get("tag"), period=request.GET.get("period"), today=timezone.localdate()
    )
    return sort, filters


def _board_context(
    name: str,
    sort: str,
    filters: scorecard_selectors.BoardFilters,
    *,
    limit: int,
    offset: int = 0,
    scored: list[ScoreSnapshot] | None = None,
) -> dict[str, object]:
    kind, caption, label, route = BOARDS[name]
    board = scorecard_selectors.leaderboard(
        kind,
        sort=sort,
        filters=filters,
        limit=limit,
        offset=offset,
        today=timezone.localdate(),
        scored=scored,
    )
    return {
        "name": name,
        "board": board,
        "rows": _with_sparklines(board.rows),
        "caption": caption,
        "label": label,
        "route": route,
    }


def _filter_context(sort: str, filters: scorecard_selectors.BoardFilters) -> dict[str, object]:
    return {
        "sort": sort,
        "filters": filters,
        "query": filters.query(sort=sort if sort != "rank" else ""),
        "sort_urls": {
            name: "?" + filters.query(sort=name) for name in scorecard_selectors.LEADERBOARD_SORTS
        },
        "sorts": [
            (name, label) for name, (_, _, label) in scorecard_selectors.LEADERBOARD_SORTS.items()
        ],
        "tag_choices": scorecard_selectors.tag_choices(),
        "period_choices": scorecard_selectors.period_choices(today=timezone.localdate()),
        "pseudocount": SHRINK_PSEUDOCOUNT,
    }


@require_safe
@cached_public_page
def scorecard(request: HttpRequest) -> HttpResponse:
    try:
        sort, filters = _board_options(request)
    except ValueError as exc:
        return _bad_request(request, str(exc))
    now = timezone.now()
    headline = scorecard_selectors.headline(at=now)
    history = scorecard_selectors.scope_history(ScopeKind.ALL, 0)
    scored = (
        scorecard_selectors.filtered_snapshots(filters, today=timezone.localdate(now))
        if filters.active
        else None
    )
    return render(
        request,
        "forecasts/scorecard.html",
        {
            "headline": headline,
            "calibration_chart": charts.snapshot_calibration_chart(
                headline.overall, name="everything"
            )
            if headline.overall
            else None,
            "history_chart": charts.snapshot_history_chart(history, name="everything"),
            "boards": [
                _board_context(name, sort, filters, limit=TOP_ROWS, scored=scored)
                for name in ("forecasters", "sources")
            ],
            **_filter_context(sort, filters),
            "phrases": scorecard_selectors.scorecard_phrases(headline.overall),
            "awaiting_verdict": scorecard_selectors.awaiting_verdict(at=now),
            "coming_due": scorecard_selectors.coming_due(at=now),
            "recently_resolved": scorecard_selectors.recently_resolved(),
        },
    )


@require_safe
@cached_public_page
def leaderboard(request: HttpRequest, name: str) -> HttpResponse:
    if name not in BOARDS:
        raise Http404("No such leaderboard.")
    try:
        sort, filters = _board_options(request)
        page = _page_number(request.GET.get("page"))
    except ValueError as exc:
        return _bad_request(request, str(exc))
    context = _board_context(name, sort, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    board = context["board"]
    assert isinstance(board, scorecard_selectors.Board)
    pages = max(1, -(-board.total // PAGE_SIZE))
    if page > pages:
        return _bad_request(request, f"Page {page} is past the last page ({pages}).")
    return render(
        request,
        "forecasts/leaderboard.html",
        {**context, **_filter_context(sort, filters), "page": page, "pages": pages},
    )


def _page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    if not (value.isascii() and value.isdigit()) or len(value) > 9 or int(value) < 1:
        raise ValueError(f"Page must be a whole number from 1, not {value!r}.")
    return int(value)


@require_safe
@cached_public_page
def forecaster_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _scope_detail(request, "Forecaster", scorecard_selectors.forecaster_page, slug=slug)


@require_safe
@cached_public_page
def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _scope_detail(request, "Tag", scorecard_selectors.tag_page, slug=slug)


@require_safe
@cached_public_page
def source_detail(request: HttpRequest, key: str) -> HttpResponse:
    return _scope_detail(request, "Source", scorecard_selectors.source_page, key=key)


def _scope_detail(
    request: HttpRequest,
    kind: str,
    selector: Callable[..., scorecard_selectors.ScopePage],
    **lookup: str,
) -> HttpResponse:
    try:
        number = _page_number(request.GET.get("page"))
        page = selector(**lookup, at=timezone.now(), number=number)
    except ValueError as exc:
        return _bad_request(request, str(exc))
    context = _scope_context(page, kind)
    if kind == "Source":
        quotes = scorecard_selectors.source_quotes(page.obj)
        context["text_parts"] = scorecard_selectors.highlighted_text(page.obj, quotes)
    return render(request, "forecasts/scope_detail.html", context)


def _scope_context(page: scorecard_selectors.ScopePage, kind: str) -> dict[str, object]:
    name = getattr(page.obj, "name", None) or page.obj.title
    return {
        "page": page,
        "kind": kind,
        "calibration_chart": charts.snapshot_calibration_chart(page.latest, name=name)
        if page.latest and page.latest.resolved_count
        else None,
        "history_chart": charts.snapshot_history_chart(page.history, name=name),
    }


def _with_sparklines(
    rows: list[scorecard_selectors.BoardRow],
) -> list[tuple[scorecard_selectors.BoardRow, charts.Chart]]:
    sparks = charts.brier_sparklines([(row.name, row.history) for row in rows])
    return list(zip(rows, sparks, strict=True))
