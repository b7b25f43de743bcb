"""Settings for the forecast tracker: one module, driven by environment variables.

Every variable is documented in ``.env.example``. Defaults run the whole
application on one machine with nothing installed but Python (SQLite, a
file-system Celery broker, e-mails written to ``var/mail/``); production sets
``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and the e-mail variables.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE

from tracker.env import (
    EnvError,
    env_bool,
    env_database,
    env_int,
    env_list,
    env_required,
    env_str,
    env_timezone,
    env_url,
    local_secret_key,
    loopback_bind,
    private_dir,
)
from tracker.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", False)
if DEBUG:
    # Local defaults: var/ readable by its owner alone, a random key of its own made there
    # once, and the web server on this machine only (bin/web reads BIND).
    private_dir(VAR_DIR)
    SECRET_KEY = env_str("SECRET_KEY") or local_secret_key(VAR_DIR)
    loopback_bind("BIND", env_str("BIND", "127.0.0.1:8000") or "")
else:
    SECRET_KEY = env_required("SECRET_KEY", "required when DEBUG is off")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise EnvError("SECRET_KEY must be at least 50 characters with 5 or more distinct ones.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise EnvError("ALLOWED_HOSTS must be set when DEBUG is off (comma-separated host names).")

# Absolute links in e-mails are built from SITE_URL, never from the request.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")) or ""
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    # django.contrib.admin, with forecasts.admin.site.TrackerAdminSite as admin.site.
    "forecasts.apps.TrackerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "axes",
    "forecasts",
]
# Synthetic data, benchmarks and the load test (forecasts/devtools): a development app
# with its own label, so production's `manage.py help` does not list its commands.
DEV_TOOLS = env_bool("DEV_TOOLS", DEBUG)
if DEV_TOOLS:
    INSTALLED_APPS.append("forecasts.devtools")

MIDDLEWARE = [
    "tracker.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tracker.encoding.FormEncodingMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
LOGIN_URL = "admin:login"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "libraries": {"forecasts": "forecasts.web.template_library"},
        },
    },
]

# Redis, when set, is the Celery broker and the shared cache.
REDIS_URL = env_url("REDIS_URL", None, schemes=("redis", "rediss", "unix"))

# --- Database ---------------------------------------------------------------

DATABASES = {"default": env_database("DATABASE_URL", "sqlite:///var/db.sqlite3", base_dir=BASE_DIR)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the web server, worker and beat share
    # one SQLite file without "database is locked" errors under light load.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT compilation: a page's query estimated above jit_above_cost (per-row
        # subqueries inflate the estimate) spent 0.8 s compiling to run for 60 ms.
        # The pages' and jobs' queries are short; none is worth compiling.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
        # Prepared statements for the queries compiled once (forecasts.core.compiled),
        # which run through a cursor that binds on the server: planning one of them took
        # 2 ms against 0.2 ms to run it. Django's own cursors bind on the client and
        # never prepare, whatever this says. 0 (off) behind a pooler that cannot keep
        # prepared statements (PgBouncer in transaction mode before 1.21).
        if env_bool("DATABASE_PREPARED_STATEMENTS", True):
            options["prepare_threshold"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------

# Shared by every process (web, worker), so that a resolution or a snapshot made
# by the worker invalidates the pages the web server cached. Two of them:
# - "default": what can be made again (rendered pages, charts). Its Redis may evict
#   under memory pressure: CACHE_URL names one of its own (docker-compose.yml gives it
#   maxmemory and allkeys-lru); unset, it is REDIS_URL's.
# - "state": what must not be evicted by page entries, ever: the public data version
#   (evicted, it would start again and serve old pages as new) and the rate-limit
#   counters. It lives in REDIS_URL's Redis, the broker's, which never evicts.
# Without Redis, each is a folder of var/; the state's culls only at a million entries.
CACHE_URL = env_url("CACHE_URL", None, schemes=("redis", "rediss", "unix")) or REDIS_URL


def _cache(url: str | None, *, prefix: str, folder: str, max_entries: int) -> dict[str, object]:
    if url:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    return {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / folder),
        "OPTIONS": {"MAX_ENTRIES": max_entries},
    }


CACHES = {
    "default": _cache(CACHE_URL, prefix="tracker", folder="cache", max_entries=300),
    "state": _cache(REDIS_URL, prefix="tracker-state", folder="state", max_entries=10**6),
}
# How long browsers and the server keep a public page (a change invalidates the
# server's copy at once; browsers may show one up to this old).
PUBLIC_PAGE_MAX_AGE = env_int("PUBLIC_PAGE_MAX_AGE", 60, minimum=0)

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_timezone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names need `collectstatic`; the development server and the
        # tests serve straight from the finders instead.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security ---------------------------------------------------------------

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The container health check talks plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("USE_X_FORWARDED_PROTO", False):
    # Only behind a proxy that sets this header itself (docker-compose's web).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: scripts, styles, images and fonts only from this site,
# no plugins, no framing, forms post only here. The charts' SVG (drawn by
# matplotlib, inline in the page) carries its styling in style attributes, hence
# 'unsafe-inline' for style attributes only: style elements and scripts stay
# restricted to files served by this site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Admin login brute-force protection (django-axes): after AXES_FAILURE_LIMIT
# failures, that username from that address is locked out for the cool-off
# time. Keyed on both, so an attacker guessing from one address locks only
# themselves out, never the real admin logging in from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# Reverse proxies in front of the web server that append X-Forwarded-For; the
# client address (lockouts, the subscribe rate limit) is the one the outermost
# appended (tracker/clientip.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "tracker.clientip.client_ip"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- E-mail -----------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Forecast tracker <forecasts@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Admin", address) for address in env_list("ADMINS", [])]

# --- Outgoing mail: review prompts and digests (forecasts/mail/outbox.py) -----

# Tries per message for temporary SMTP failures (4xx replies, a dropped or refused
# connection), the first retry after this many seconds and each later one after
# twice as long. Still read under their former names, DIGEST_SEND_ATTEMPTS and
# DIGEST_RETRY_BACKOFF_SECONDS, from before review prompts followed the same rules.
MAIL_SEND_ATTEMPTS = env_int("MAIL_SEND_ATTEMPTS", 3, minimum=1, formerly="DIGEST_SEND_ATTEMPTS")
MAIL_RETRY_BACKOFF_SECONDS = env_int(
    "MAIL_RETRY_BACKOFF_SECONDS", 2, minimum=0, formerly="DIGEST_RETRY_BACKOFF_SECONDS"
)

# --- Digests ----------------------------------------------------------------

# Local hour (TIME_ZONE) at which beat sends the digests of periods that ended.
DIGEST_SEND_HOUR = env_int("DIGEST_SEND_HOUR", 6, minimum=0)
if DIGEST_SEND_HOUR > 23:
    raise EnvError(f"DIGEST_SEND_HOUR={DIGEST_SEND_HOUR} is not an hour (0-23).")
# Subscribers per batch: claimed together, then sent over one SMTP connection.
DIGEST_BATCH_SIZE = env_int("DIGEST_BATCH_SIZE", 200, minimum=1)
# A digest claimed but not marked after this long is presumed lost with its
# sender (or deferred by a temporary failure) and is claimed again by the next run.
DIGEST_CLAIM_STALE_MINUTES = env_int("DIGEST_CLAIM_STALE_MINUTES", 30, minimum=1)
# Permanent failures (5xx) in a row after which a subscriber is paused.
DIGEST_PAUSE_AFTER_FAILURES = env_int("DIGEST_PAUSE_AFTER_FAILURES", 3, minimum=1)
# Confirmation links expire after this many days; at most one confirmation e-mail
# per address per DIGEST_CONFIRM_RESEND_MINUTES.
DIGEST_CONFIRM_MAX_AGE_DAYS = env_int("DIGEST_CONFIRM_MAX_AGE_DAYS", 7, minimum=1)
DIGEST_CONFIRM_RESEND_MINUTES = env_int("DIGEST_CONFIRM_RESEND_MINUTES", 10, minimum=0)
# Subscribe form submissions per client IP address per hour.
DIGEST_SUBSCRIBE_RATE_PER_HOUR = env_int("DIGEST_SUBSCRIBE_RATE_PER_HOUR", 5, minimum=1)
# A forecaster's Brier must move at least this much to be reported as a change.
DIGEST_NOTABLE_BRIER_CHANGE = 0.02
# Items shown per digest section; the rest are counted and linked to the site.
DIGEST_SECTION_LIMIT = env_int("DIGEST_SECTION_LIMIT", 25, minimum=1)

# --- Celery -----------------------------------------------------------------

CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object]
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # acks_late tasks are redelivered after this many seconds if a worker dies
    # holding them; it must exceed the longest task (CELERY_TASK_TIME_LIMIT).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    # An embedded broker that needs no server: messages are files under var/.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", None)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540, minimum=1)
# A task is acknowledged only when it has finished, and one whose worker was
# killed goes back on the queue: every task must be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# When the broker goes away, tasks already running finish their work (Celery 6 will
# cancel them by default). Redis keeps no data across a restart here, so a cancelled
# task would not be redelivered: its work would wait for the job's next beat tick.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "forecasts.tasks.heartbeat",
        "schedule": crontab(minute="*"),
    },
    "scores-nightly": {
        "task": "forecasts.tasks.scores_snapshot_today",
        "schedule": crontab(hour=2, minute=30),
    },
    "reviews-hourly": {
        "task": "forecasts.tasks.reviews_prompt",
        "schedule": crontab(minute=0),
    },
    # Daily: the job works out which weekly and monthly periods have ended (in
    # TIME_ZONE, which beat's crontab also follows) and sends what is not yet sent.
    "digests-daily": {
        "task": "forecasts.tasks.digests_send",
        "schedule": crontab(hour=DIGEST_SEND_HOUR, minute=15),
    },
}

# --- Reviews ----------------------------------------------------------------

# Days after the first prompt for the reminders and the escalation to admins.
REVIEW_REMINDER_DAYS = env_int("REVIEW_REMINDER_DAYS", 3, minimum=1)
REVIEW_SECOND_REMINDER_DAYS = env_int("REVIEW_SECOND_REMINDER_DAYS", 7, minimum=1)
REVIEW_ESCALATION_DAYS = env_int("REVIEW_ESCALATION_DAYS", 14, minimum=1)
if not REVIEW_REMINDER_DAYS < REVIEW_SECOND_REMINDER_DAYS < REVIEW_ESCALATION_DAYS:
    raise EnvError(
        "REVIEW_REMINDER_DAYS < REVIEW_SECOND_REMINDER_DAYS < REVIEW_ESCALATION_DAYS must hold."
    )
# One-click links in review e-mails stop working after this many days.
REVIEW_LINK_MAX_AGE_DAYS = env_int("REVIEW_LINK_MAX_AGE_DAYS", 14, minimum=1)
# A prompt claimed but not marked sent after this long is presumed lost (its
# sender died, or a temporary failure deferred it) and is claimed again by the next run.
REVIEW_CLAIM_STALE_MINUTES = env_int("REVIEW_CLAIM_STALE_MINUTES", 15, minimum=1)

# --- Fetching articles ------------------------------------------------------

# `ingest_article URL` and the admin's "Add source from URL" fetch pages from the
# server: only http(s), only public addresses (private, loopback, link-local... are
# refused unless allowed: an intranet's own pages, or the tests' local server), within
# these limits. The admin fetches inside the request, so the timeout bounds its wait.
SOURCE_FETCH_ALLOW_PRIVATE = env_bool("SOURCE_FETCH_ALLOW_PRIVATE", False)
SOURCE_FETCH_CONNECT_TIMEOUT = env_int("SOURCE_FETCH_CONNECT_TIMEOUT", 5, minimum=1)
SOURCE_FETCH_TIMEOUT = env_int("SOURCE_FETCH_TIMEOUT", 15, minimum=1)
SOURCE_FETCH_MAX_BYTES = env_int("SOURCE_FETCH_MAX_BYTES", 5_000_000, minimum=100_000)
SOURCE_FETCH_MAX_REDIRECTS = env_int("SOURCE_FETCH_MAX_REDIRECTS", 5, minimum=0)

# --- Scores -----------------------------------------------------------------

# Leaderboards rank only forecasters, sources and tags with at least this many resolved
# forecasts (the rest are listed as too few to rank). At least 2, so one lucky forecast
# can never be ranked, let alone top a table; 5 matches the ranking score's pseudo-count,
# so every ranked score is at least half the scope's own record.
LEADERBOARD_MIN_RESOLVED = env_int("LEADERBOARD_MIN_RESOLVED", 5, minimum=2)

# --- Logging ----------------------------------------------------------------

LOG_LEVEL = (env_str("LOG_LEVEL", "INFO") or "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise EnvError(f"LOG_LEVEL={LOG_LEVEL!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL.")
LOG_FORMAT = env_str("LOG_FORMAT", "plain") or "plain"
if LOG_FORMAT not in {"plain", "json"}:
    raise EnvError(f"LOG_FORMAT={LOG_FORMAT!r} is not one of plain, json.")
# Every record carries request_id and task_id; signed tokens are redacted.
LOGGING = logging_config(
    level=LOG_LEVEL, json=LOG_FORMAT == "json", embedded_broker=CELERY_BROKER_URL == "filesystem://"
)
