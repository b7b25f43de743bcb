"""Every Celery task of the app, for Celery's autodiscovery (``<app>.tasks``).

Each domain keeps its tasks in ``forecasts/<domain>/tasks.py``; their names are
pinned to ``forecasts.tasks.<name>`` (the names beat's schedule and any message
already queued use), whatever module defines them.
"""

from forecasts.core.tasks import heartbeat, ping
from forecasts.digests.tasks import digests_send, digests_subscribe
from forecasts.extraction.tasks import source_extract
from forecasts.reviews.tasks import reviews_prompt
from forecasts.scores.tasks import scores_snapshot_today

__all__ = [
    "digests_send",
    "digests_subscribe",
    "heartbeat",
    "ping",
    "reviews_prompt",
    "scores_snapshot_today",
    "source_extract",
]
