"""Readiness for load balancers and container health checks."""

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tracker.celery import app as celery_app

logger = logging.getLogger(__name__)


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
    with celery_app.connection_for_write() as broker:
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
