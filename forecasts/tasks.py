"""Celery tasks: thin adapters that parse arguments and call one service."""

import datetime as dt
import logging
import math

from celery import Task, shared_task
from django.conf import settings
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


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def reviews_prompt(self: Task) -> str:  # type: ignore[type-arg]
    """Hourly, and once when a worker starts: prompt, remind and escalate due reviews.

    E-mails the mail server refused or could not take are retried as soon as their
    claims are stale, rather than at the next hourly run.
    """
    report = services.reviews_prompt_due(now=timezone.now())
    if report.emails_failed and self.request.retries < (self.max_retries or 0):
        raise self.retry(countdown=_once_stale(settings.REVIEW_CLAIM_STALE_MINUTES))
    return str(report)


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def digests_send(self: Task, now: str | None = None) -> str:  # type: ignore[type-arg]
    """Daily: send the digests of the weekly and monthly periods that have ended.

    ``now`` (ISO 8601) pins the moment, for a re-run by hand. Digests deferred by
    temporary SMTP failures are retried once their claims are stale.
    """
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    report = services.digests_send(now=moment)
    if report.deferred and self.request.retries < (self.max_retries or 0):
        raise self.retry(countdown=_once_stale(settings.DIGEST_CLAIM_STALE_MINUTES))
    return str(report)


def _once_stale(stale_minutes: float) -> int:
    """Seconds until a run's claims (made at its start) are stale, plus a margin."""
    stale = stale_minutes * 60
    return math.ceil(stale + min(60, stale / 2))
