"""The extraction task: an editor's "Extract forecasts" runs in a worker, under a time limit.

Extraction takes time in proportion to the text (about 10 s for a 1 MB article of nothing
but hedged sentences), and storing each draft some milliseconds: an ordinary article is
done in seconds. One that is not within the limit is stopped and logged, and leaves no
draft behind (``source_extract`` is one transaction).
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.db import OperationalError

from forecasts.core.models import Source
from forecasts.extraction import ingest

logger = logging.getLogger(__name__)

# Seconds. Below the app's default limits (CELERY_TASK_SOFT_TIME_LIMIT, _TIME_LIMIT): a
# text that keeps a worker longer than this is not an article an editor means to read.
SOFT_TIME_LIMIT = 120
TIME_LIMIT = 150


@shared_task(
    name="forecasts.tasks.source_extract",
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def source_extract(source_id: int) -> str:
    """Propose the source's candidates as drafts; safe to run twice (the service proposes
    nothing it proposed before)."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return f"Source {source_id} no longer exists: nothing extracted."
    try:
        report = ingest.source_extract(source=source)
    except SoftTimeLimitExceeded:
        logger.error(
            "Extracting forecasts from source %s (“%s”, %s characters) stopped at the "
            "time limit of %s s; no draft was stored.",
            source.pk,
            source,
            len(source.text),
            SOFT_TIME_LIMIT,
        )
        raise
    except ValidationError as exc:  # the text was removed since the editor asked
        logger.warning("Source %s: %s", source.pk, " ".join(exc.messages))
        return " ".join(exc.messages)
    logger.info("Source %s: %s", source.pk, report)
    return f"Source “{source}”: {report}"
