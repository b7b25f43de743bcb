"""The digest tasks: sending (daily in beat, or by hand with a pinned moment) and
subscribing (queued by the subscribe page)."""

import datetime as dt
import time

from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from forecasts.core.models import Forecaster, Tag
from forecasts.digests import sending, subscriptions
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
    spent its time budget (:func:`time_budget`) claims no more and leaves the rest to a
    new run.
    """
    moment = dt.datetime.fromisoformat(now) if now else timezone.now()
    budget = time_budget(self, stale_seconds=settings.DIGEST_CLAIM_STALE_MINUTES * 60)
    report = sending.digests_send(now=moment, until=time.monotonic() + budget)
    if report.left:
        # The rest in a run of its own, before this one's time limit stops it mid-batch
        # (a slow mail server, a loaded machine, many subscribers). Concurrent runs
        # are safe: each claims its subscribers first.
        digests_send.apply_async(kwargs={"now": now})
    if report.deferred and self.request.retries < (self.max_retries or 0):
        raise self.retry(countdown=seconds_until_stale(settings.DIGEST_CLAIM_STALE_MINUTES))
    return str(report)


def time_budget(task: Task, *, stale_seconds: float) -> float:  # type: ignore[type-arg]
    """How long a run may go on claiming new work, in seconds: half the task's soft
    time limit (as asked for this call, else the task's, else the app's), leaving the
    other half to finish what it started; and at most half the time after which its
    claims look stale to other runs, which would take over a batch claimed late in a
    long run (claims carry the run's starting moment) while it is being sent."""
    asked = task.request.timelimit or (None, None)
    soft = asked[1] or task.soft_time_limit or task.app.conf.task_soft_time_limit
    limits = [float(soft) / 2] if soft else []
    return min([*limits, stale_seconds / 2])


@shared_task(
    name="forecasts.tasks.digests_subscribe",
    autoretry_for=(OperationalError, subscriptions.ConfirmationNotSent),
    # After up to 30 s, 1, 2, 4 and 8 minutes (jittered): a mail server down for a
    # quarter of an hour still gets the confirmation out. Nobody waits on the page.
    retry_backoff=30,
    retry_backoff_max=480,
    max_retries=5,
)
def digests_subscribe(
    *, email: str, cadence: str, tag_ids: list[int], forecaster_ids: list[int]
) -> str:
    """Ask ``email`` to confirm a subscription, as the subscribe page was asked to.

    Safe to run twice (a redelivered message): the service sends nothing to a confirmed
    address, nor a second confirmation within ``DIGEST_CONFIRM_RESEND_MINUTES``. The
    result names no address (Celery logs it).
    """
    sent = subscriptions.subscriber_subscribe(
        email=email,
        cadence=cadence,
        # Chosen from the public ones by the form; one deleted since is left out.
        tags=Tag.objects.filter(pk__in=tag_ids),
        forecasters=Forecaster.objects.filter(pk__in=forecaster_ids),
        now=timezone.now(),
    )
    return "confirmation sent" if sent else "nothing to send"


def digests_subscribe_later(
    *, email: str, cadence: str, tags: list[Tag], forecasters: list[Forecaster]
) -> None:
    """Queue :func:`digests_subscribe` once the current transaction commits (at once
    outside one). Celery logs a task's arguments when a worker receives it and when it
    fails: there the address reads ``[address]``."""
    kwargs = {
        "email": email,
        "cadence": cadence,
        "tag_ids": [tag.pk for tag in tags],
        "forecaster_ids": [forecaster.pk for forecaster in forecasters],
    }
    shown = repr({**kwargs, "email": "[address]"})

    def queue() -> None:
        # kwargsrepr: Celery's documented way to hide arguments; the stubs lack it.
        digests_subscribe.apply_async(kwargs=kwargs, kwargsrepr=shown)  # type: ignore[call-arg]

    transaction.on_commit(queue)
