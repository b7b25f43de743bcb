"""Celery tasks of the scores domain: thin, each calls one service."""

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from forecasts.scores.services import scores_snapshot


@shared_task(
    name="forecasts.tasks.scores_snapshot_today",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def scores_snapshot_today() -> str:
    """Nightly: snapshot every scope as of today from the whole record, checking the live
    scores against it."""
    return str(scores_snapshot(as_of=timezone.localdate()))
