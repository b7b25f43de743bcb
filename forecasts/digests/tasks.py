"""The digest task: daily in beat, or by hand with a pinned moment."""

import datetime as dt

from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from forecasts.digests import sending
from forecasts.mail.outbox import seconds_until_stale


@shared_task(
    name="forecasts.tasks.digests_send",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def digests_send(self: Task, now: str | None = None) -> str:  # type: ignore[type-arg]
    """Send the digests of the weekly and monthly periods that have ended.

    ``now`` (ISO 8601) pins the moment, for a re-run by hand. Digests deferred by
    temporary SMTP failures are retried once their claims are stale.
    """
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    report = sending.digests_send(now=moment)
    if report.deferred and self.request.retries < (self.max_retries or 0):
        raise self.retry(countdown=seconds_until_stale(settings.DIGEST_CLAIM_STALE_MINUTES))
    return str(report)
