"""Settings for the processes the fault suite starts: production settings, faster clocks.

The worker and beat started by ``tests/faults`` run with
``DJANGO_SETTINGS_MODULE=tests.faults.settings``. Only the timings change: every
interval keeps its production proportions (a killed task is redelivered after
the visibility timeout, which exceeds the task time limit; claims go stale
before the redelivery finds them), scaled from minutes and hours down to
seconds so that each scenario finishes in well under a minute. Production
settings and their defaults stay as they are.
"""

from celery.schedules import schedule

from tracker.settings import *  # noqa: F403
from tracker.settings import CELERY_BROKER_TRANSPORT_OPTIONS

# A task killed with its worker is redelivered this long after it was delivered
# (production: an hour); no task of the suite runs longer than the time limit.
CELERY_TASK_TIME_LIMIT = 25
CELERY_TASK_SOFT_TIME_LIMIT = 20
# Workers sweep for such messages every 2 s (kombu's default: about every 100 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": 30,
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
}

# Claims left by a dead sender are taken over after 6 s (production: 30 and 15 minutes),
# well before the redelivery of the killed task.
DIGEST_CLAIM_STALE_MINUTES = 0.1
REVIEW_CLAIM_STALE_MINUTES = 0.1
# A batch is sent in a small part of the time its claims stay fresh, as in production
# (200 digests in a few seconds against 30 minutes): 200 at a time against 6 s, on a
# loaded machine, went stale while being sent, and another run sent them again.
DIGEST_BATCH_SIZE = 20
MAIL_SEND_ATTEMPTS = 3
MAIL_RETRY_BACKOFF_SECONDS = 1

# Beat ticks every few seconds instead of hourly and daily.
FAULTS_TICK_SECONDS = 3.0
CELERY_BEAT_SCHEDULE = {
    "reviews-hourly": {
        "task": "forecasts.tasks.reviews_prompt",
        "schedule": schedule(FAULTS_TICK_SECONDS),
    },
    "digests-daily": {
        "task": "forecasts.tasks.digests_send",
        "schedule": schedule(FAULTS_TICK_SECONDS),
    },
}
