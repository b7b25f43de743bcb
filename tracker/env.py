"""Small helpers that read settings from environment variables.

Every helper raises :class:`EnvError` (an ``ImproperlyConfigured``) whose
message is one line that names the variable, so a bad value stops start-up
with something a person can act on instead of a traceback.
"""

from __future__ import annotations

import os
import sys
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class EnvError(ImproperlyConfigured):
    """A setting read from the environment has a bad value."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value in (None, "") else value


def env_required(name: str, why: str) -> str:
    value = _raw(name)
    if not value:
        raise EnvError(f"{name} must be set ({why}).")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise EnvError(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off).")


def env_int(
    name: str, default: int, *, minimum: int | None = None, formerly: str | None = None
) -> int:
    """``formerly``: the variable's old name, still read when ``name`` is not set."""
    if formerly is not None and not _raw(name) and _raw(formerly):
        name = formerly
    elif formerly is not None and _raw(formerly) and _raw(formerly) != _raw(name):
        raise EnvError(
            f"{name}={_raw(name)!r} and {formerly}={_raw(formerly)!r} (its former name) "
            f"disagree: set {name} only."
        )
    value = _raw(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name}={number} is below the minimum of {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _redacted(url: str) -> str:
    """The URL with any password hidden, safe to put in an error message."""
    try:
        parts = urlsplit(url)
        if parts.password:
            return url.replace(f":{parts.password}@", ":***@", 1)
    except ValueError:
        pass
    return url


def env_url(name: str, default: str | None, *, schemes: tuple[str, ...]) -> str | None:
    value = env_str(name, default)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        valid = parts.scheme in schemes and bool(parts.netloc or parts.path)
    except ValueError:
        valid = False
    if not valid:
        expected = ", ".join(f"{scheme}://..." for scheme in schemes)
        raise EnvError(f"{name}={_redacted(value)!r} is not a valid URL (expected {expected}).")
    return value.rstrip("/") if parts.scheme in ("http", "https") else value


DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql")


def env_database(name: str, default: str, *, base_dir: Path) -> dict[str, Any]:
    """A Django DATABASES entry from a URL; only SQLite and PostgreSQL are supported."""
    import dj_database_url

    value = env_str(name, default) or default
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in DATABASE_SCHEMES:
        raise EnvError(
            f"{name}={_redacted(value)!r} is not a supported database URL "
            "(expected postgres://user:password@host:port/name or sqlite:///path/to/file.sqlite3)."
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(value))
    except (ValueError, KeyError) as exc:
        raise EnvError(f"{name}={_redacted(value)!r} could not be parsed: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if not config["NAME"] or config["NAME"] == ":memory:":
            raise EnvError(f"{name} must name an SQLite file (sqlite:///var/db.sqlite3).")
        path = Path(config["NAME"])
        config["NAME"] = str(path if path.is_absolute() else base_dir / path)
    elif not config.get("NAME"):
        raise EnvError(f"{name}={_redacted(value)!r} does not name a database.")
    return config


def env_timezone(name: str, default: str) -> str:
    value = env_str(name, default) or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise EnvError(
            f"{name}={value!r} is not a known time zone (e.g. UTC, Europe/Berlin)."
        ) from None
    return value


def settings_or_exit() -> None:
    """Load the settings now; on a bad value print one line and stop the process.

    Called by every entry point (manage.py, wsgi, the Celery app) so that
    start-up fails the same clear way whichever process starts first.
    """
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - touching it imports the settings module
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        raise SystemExit(2) from None


# --- Local development (DEBUG): a private var/ and a key of its own -------------------

LOCAL_KEY_FILE = "secret_key"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def private_dir(path: Path) -> Path:
    """``path``, made if missing and readable by its owner alone (mode 700): the local
    database, e-mails and key under it are nobody else's to read, whatever mode each
    file was created with."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def local_secret_key(var_dir: Path) -> str:
    """The key that signs a local instance's links and sessions: made at random on first
    use into ``var_dir/secret_key`` (mode 600), then read from there. A fixed key in the
    code would let anyone who read the code forge a review link."""
    import secrets

    path = private_dir(var_dir) / LOCAL_KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made by an earlier start, or by a process starting beside this one
    else:
        with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
            key_file.write(secrets.token_urlsafe(48))
    for _ in range(50):  # a process starting beside the one writing it waits a moment
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        import time

        time.sleep(0.02)
    raise EnvError(f"{path} is empty: delete it to have a new key made.")


def loopback_bind(name: str, value: str) -> str:
    """A ``host:port`` to listen on that only this machine can reach: DEBUG pages show
    settings and tracebacks, so they are never served to the network."""
    host = value.rsplit(":", 1)[0] if ":" in value else value
    if host not in LOOPBACK_HOSTS and not host.startswith("127."):
        raise EnvError(
            f"{name}={value!r} listens beyond this machine while DEBUG is on; "
            "use 127.0.0.1:PORT, or turn DEBUG off (and set SECRET_KEY) to serve others."
        )
    return value
