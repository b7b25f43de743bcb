"""Celery tasks of the scores domain: thin, each calls one service.

The services are imported inside the task bodies, so the task registry loads without
the scores machinery (and its numpy) until a task runs.
"""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone


@shared_task(
    name="forecasts.tasks.scores_snapshot_today",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def scores_snapshot_today() -> str:
    """Nightly: snapshot every scope as of today from the whole record, checking the live
    scores against it."""
    from forecasts.scores.services import scores_snapshot  # see the module docstring

    return str(scores_snapshot(as_of=timezone.localdate()))
