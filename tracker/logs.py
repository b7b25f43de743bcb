"""Structured logs: every record carries the request id and the Celery task id.

``RequestIdMiddleware`` gives each request an id (the caller's ``X-Request-ID``
when it is a sane token, a fresh one otherwise), returns it in the response
header and keeps it in a context variable for ``ContextFilter``. Celery task
records get the task's id from Celery itself.

``RedactFilter`` removes signed tokens (review links, digest links) from every
message: the URL path is their only carrier, and paths are what request logs
print. With ``LOG_FORMAT=json`` each record is one JSON object per line.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase

_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_INCOMING = re.compile(r"[A-Za-z0-9._-]{8,64}")
# django.core.signing output: payload[:timestamp]:signature in URL-safe base64
# (the payload starts with "." when compressed; timestamped signers add the
# middle part). A signature is at least 20 characters; shorter runs are words.
# The colons may come percent-encoded (a path as a browser sent it, in gunicorn's
# access line), once or twice. A token starts where a word does: without the
# lookbehind, every position inside a long word was a start, and a request for an
# 8,000-character path cost a second of matching to log.
_SEPARATOR = r"(?::|%3[Aa]|%253[Aa])"
SIGNED_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])\.?[A-Za-z0-9_-]{8,}"
    rf"(?:{_SEPARATOR}[A-Za-z0-9]{{4,}})?{_SEPARATOR}[A-Za-z0-9_-]{{20,}}"
)
REDACTED = "[redacted-token]"


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING.fullmatch(incoming) else uuid.uuid4().hex
        # Kept until the response is closed (request_finished), not just until this
        # returns: Django logs 4xx/5xx responses, and gunicorn its access line, after.
        _request_id.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def _request_done(**kwargs: object) -> None:
    _request_id.set("-")


request_finished.connect(_request_done, dispatch_uid="tracker.logs.request_done")


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``task_id`` ("-" when there is none) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.task_id = _task_id()
        return True


def _task_id() -> str:
    from celery import current_task

    request = getattr(current_task, "request", None) if current_task else None
    return str(getattr(request, "id", None) or "-")


class RedactFilter(logging.Filter):
    """Replaces signed tokens in the formatted message (and drops the arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; log it as is
            return True
        if SIGNED_TOKEN.search(message):
            record.msg = SIGNED_TOKEN.sub(REDACTED, message)
            record.args = None
        return True


class NoHostnameFilter(logging.Filter):
    """Drops kombu's "No hostname was supplied" warning, for the embedded broker only.

    The file-system broker has no host; kombu says so at every connection, and
    ``make run`` printed it as a WARNING at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No hostname was supplied")


def logging_config(*, level: str, json: bool, embedded_broker: bool = False) -> dict[str, object]:
    """The LOGGING setting (also used by gunicorn for its access and error logs)."""
    fields = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s"
    formatters: dict[str, dict[str, object]] = {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(task_id)s] %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": fields,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "tracker.logs.ContextFilter"},
            "redact": {"()": "tracker.logs.RedactFilter"},
            "no_hostname": {"()": "tracker.logs.NoHostnameFilter"},
        },
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json else "plain",
                "filters": ["context", "redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # gunicorn's own loggers print through the same handler (and filters).
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            # Replaces Django's own handlers for its loggers (their DEBUG console
            # handler would print messages past the redaction filter).
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # Its start-up banner on every process start is noise; lockouts still log.
            "axes.apps": {"level": "WARNING"},
            "kombu.connection": {"filters": ["no_hostname"] if embedded_broker else []},
        },
    }
