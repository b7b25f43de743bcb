"""Celery tasks of the record itself: a broker round trip and beat's heartbeat."""

import logging

from celery import shared_task
from django.utils import timezone

from forecasts.core.selectors import forecast_status_counts

logger = logging.getLogger(__name__)


@shared_task(name="forecasts.tasks.ping")
def ping() -> str:
    """Round trip check for the broker and a worker."""
    return "pong"


@shared_task(name="forecasts.tasks.heartbeat")
def heartbeat() -> dict[str, int]:
    """Beat's minute tick: proves beat → broker → worker works, and logs the queue of due work."""
    counts = forecast_status_counts(at=timezone.now())
    logger.info("heartbeat: %s", ", ".join(f"{count} {name}" for name, count in counts.items()))
    return counts
