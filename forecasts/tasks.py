"""Celery tasks: thin adapters that parse arguments and call one service."""

import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from forecasts import selectors, services

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


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def scores_recompute() -> str:
    """Queued by resolutions (coalesced): recompute today's snapshot."""
    return str(services.scores_recompute_run(today=timezone.localdate()))


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def scores_snapshot_today() -> str:
    """Nightly: snapshot every scope as of today."""
    return str(services.scores_snapshot(as_of=timezone.localdate()))


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def reviews_prompt() -> str:
    """Hourly, and once when a worker starts: prompt, remind and escalate due reviews."""
    return str(services.reviews_prompt_due(now=timezone.now()))
