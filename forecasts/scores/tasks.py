"""Celery tasks that recompute scores: thin, each calls one service.

The services module queues :func:`scores_recompute`, so it is imported inside the
task bodies (the one place a function-local import breaks a cycle: Celery's
registry needs the task importable without the service).
"""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(
    name="forecasts.tasks.scores_recompute",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def scores_recompute() -> str:
    """Queued by resolutions (coalesced): recompute today's snapshot."""
    from forecasts.scores.services import scores_recompute_run  # see the module docstring

    return str(scores_recompute_run(today=timezone.localdate()))


@shared_task(
    name="forecasts.tasks.scores_snapshot_today",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def scores_snapshot_today() -> str:
    """Nightly: snapshot every scope as of today."""
    from forecasts.scores.services import scores_snapshot  # see the module docstring

    return str(scores_snapshot(as_of=timezone.localdate()))
