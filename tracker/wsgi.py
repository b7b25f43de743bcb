"""WSGI entry point (gunicorn tracker.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from tracker.env import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
settings_or_exit()

application = get_wsgi_application()
