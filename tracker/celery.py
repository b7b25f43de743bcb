"""The Celery application, configured from Django settings (``CELERY_`` names)."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_ready

from tracker.env import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
settings_or_exit()


def create_app(**overrides: object) -> Celery:
    """A Celery app configured from settings; ``overrides`` replace single settings (tests)."""
    celery_app = Celery("tracker", set_as_current=not overrides)
    celery_app.config_from_object("django.conf:settings", namespace="CELERY")
    celery_app.conf.update(overrides)
    celery_app.autodiscover_tasks()
    if celery_app.conf.broker_url.startswith("filesystem:"):
        # The embedded broker's folders must exist before anyone sends or consumes.
        options = celery_app.conf.broker_transport_options
        for key in ("data_folder_in", "data_folder_out", "control_folder", "processed_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)
    return celery_app


app = create_app()


@worker_ready.connect
def prompt_reviews_on_start(sender: object = None, **kwargs: object) -> None:
    """Queue one review-prompt run when a worker starts: due forecasts get their prompts within
    a minute of `make run`, not at the next hour. Safe with several workers: the run is."""
    if getattr(sender, "app", None) is app:  # not the throwaway apps the tests start
        app.send_task("forecasts.tasks.reviews_prompt")
