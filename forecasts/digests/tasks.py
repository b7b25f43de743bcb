"""The digest task: daily in beat, or by hand with a pinned moment."""

import datetime as dt
import time

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
    temporary SMTP failures are retried once their claims are stale. A run that has
    spent half its soft time limit claims no more and leaves the rest to a new run.
    """
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    budget = time_budget(self)
    report = sending.digests_send(
        now=moment, until=None if budget is None else time.monotonic() + budget
    )
    if report.left:
        # The rest in a run of its own, before this one's time limit stops it mid-batch
        # (a slow mail server, a loaded machine, many subscribers). Concurrent runs
        # are safe: each claims its subscribers first.
        digests_send.apply_async(kwargs={"now": now})
    if report.deferred and self.request.retries < (self.max_retries or 0):
        raise self.retry(countdown=seconds_until_stale(settings.DIGEST_CLAIM_STALE_MINUTES))
    return str(report)


def time_budget(task: Task) -> float | None:  # type: ignore[type-arg]
    """Half the task's soft time limit, in seconds (as asked for this call, else the
    task's, else the app's; None when there is none): the time a run may spend
    starting new work, leaving the other half to finish what it started."""
    asked = task.request.timelimit or (None, None)
    soft = asked[1] or task.soft_time_limit or task.app.conf.task_soft_time_limit
    return float(soft) / 2 if soft else None
