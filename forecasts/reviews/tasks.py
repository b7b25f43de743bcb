"""The review-prompt task: hourly in beat, and once when a worker starts."""

from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from forecasts.mail.outbox import seconds_until_stale
from forecasts.reviews import services


@shared_task(
    name="forecasts.tasks.reviews_prompt",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def reviews_prompt(self: Task) -> str:  # type: ignore[type-arg]
    """Prompt, remind and escalate due reviews.

    When e-mails were deferred or refused, the task runs again as soon as the claims
    are stale rather than at the next hourly run: deferred ones are retried, and the
    admins are told about a forecast whose reviewers were all refused.
    """
    report = services.reviews_prompt_due(now=timezone.now())
    undelivered = report.emails_deferred or report.emails_failed
    if undelivered and self.request.retries < (self.max_retries or 0):
        raise self.retry(countdown=seconds_until_stale(settings.REVIEW_CLAIM_STALE_MINUTES))
    return str(report)
