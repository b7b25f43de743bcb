"""Celery tasks: thin adapters that parse arguments and call one service."""

import logging

from celery import shared_task
from django.utils import timezone

from forecasts import selectors

logger = logging.getLogger(__name__)


@shared_task
def ping() -> str:
    """Round trip check for the broker and a worker."""
    return "pong"


@shared_task
def heartbeat() -> dict[str, int]:
    """Beat's minute tick: proves beat → broker → worker works, and logs the queue of due work."""
    counts = selectors.forecast_status_counts(at=timezone.now())
    logger.info("heartbeat: %s", ", ".join(f"{count} {name}" for name, count in counts.items()))
    return counts
