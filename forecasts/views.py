"""Public pages: thin adapters over selectors."""

from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from forecasts import selectors
from forecasts.models import Status
from forecasts.services.scores import SHRINK_PSEUDOCOUNT

PAGE_SIZE = 50


@require_safe
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
        },
    )


@require_safe
def scores(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "forecasts/scores.html",
        {"board": selectors.scoreboard(), "pseudocount": SHRINK_PSEUDOCOUNT},
    )


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and container health checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok\n", content_type="text/plain")
