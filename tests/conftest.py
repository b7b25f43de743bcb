import datetime as dt
import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEED_ARTICLE = SHARED / "seeds" / "000_67102e3550562e4c.txt"

# A moment well after every seed deadline, for lifecycle assertions.
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def skip_outside_ci(reason: str) -> NoReturn:
    """Skip a test whose tool or service is missing here. In CI, which provides every
    one of them, fail instead: a skip there would hide a test that never ran."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} CI provides it, so the test must run there.")
    pytest.skip(reason)


def require_postgresql(reason: str) -> None:
    """Skip (fail in CI) unless the test database is PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_outside_ci(f"Needs PostgreSQL: {reason}")


@pytest.fixture
def seed_text() -> str:
    return seed_article_text(SEED_ARTICLE)


def seed_article_text(path: Path) -> str:
    """The seed article's text. It cannot ship in the repository: a clone without
    ../shared beside it skips the tests that read it, saying why; CI, which has it,
    fails them instead."""
    if not path.exists():
        skip_outside_ci(
            f"The seed article's text is not here (expected {path}, in ../shared beside the "
            "repository); it is not part of the repository, so the tests that read it skip."
        )
    return path.read_text(encoding="utf-8")


@pytest.fixture
def seeded(db, seed_text):
    from forecasts.core.seed import seed_forecasts_load

    return seed_forecasts_load(text=seed_text)


@pytest.fixture(autouse=True)
def private_cache(request):
    """Each test gets an empty in-process cache (CI's Redis would leak pages between tests)."""
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.CACHES = {
            alias: {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"{alias}:{request.node.nodeid}",
            }
            for alias in ("default", "state")
        }
        from django.core.cache import caches

        for alias in ("default", "state"):
            caches[alias].clear()


@pytest.fixture(autouse=True)
def tasks_run_in_the_test(request):
    """A task queued during a test runs in the test process, at once, retries included:
    nothing in the suite publishes to the broker of the settings (a folder of var/, or
    CI's Redis). As in production, whoever queued it does not see it fail; a test reads
    the outcome (rows, mail) or runs the task itself (``task.apply(...).get()`` raises).
    A view queues on commit, so a test that wants the task run wraps the request in
    ``django_capture_on_commit_callbacks(execute=True)``. Apps the tests make themselves
    (``create_app``) keep their own configuration."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from tracker.celery import app

    # Propagating would also raise a retry's Retry instead of running the retry.
    eager = {"task_always_eager": True, "task_eager_propagates": False}
    before = {name: app.conf[name] for name in eager}
    app.conf.update(eager)
    try:
        yield
    finally:
        app.conf.update(before)


@pytest.fixture(autouse=True)
def fast_password_hashing(request):
    # The real hasher is slow by design; tests only need passwords to round-trip.
    # (The pure-module tests also run without pytest-django: -p no:django.)
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def task_errors_raise():
    """A queued task's error raises in the test that queued it (tasks already run in the
    test's process, :func:`tasks_run_in_the_test`; there an error stays inside the task,
    as it would in a worker)."""
    from tracker.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_eager_propagates = before


# A real SMTP server for the e-mail tests (tests/smtp.py), and a local web server for
# the article-fetching tests (tests/page_server.py).
from tests.page_server import page_server  # noqa: E402, F401
from tests.smtp import smtp_server  # noqa: E402, F401

# Tables whose rows triggers keep from the forecasts (migrations 0015 and 0016).
KEPT_BY_TRIGGERS = {
    "forecasts_forecaststatecount",
    "forecasts_unresolveddeadlinecount",
    "forecasts_publishedscopecount",
    "forecasts_publishedtaglisting",
}


@pytest.fixture(autouse=True, scope="session")
def flush_past_the_record_guard(request):
    """Let the flush between transactional tests empty the record on SQLite.

    The database refuses deleting the record (migration 0012). PostgreSQL flushes with
    TRUNCATE, which row triggers do not see; SQLite flushes with DELETE, so there the
    flush opens the one permit that lets it through, in its own transaction.
    """
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from django.db.backends.sqlite3.base import DatabaseOperations

    flush = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **kwargs):
        # The rows the database keeps from the others (counts, the tag listing) go last:
        # deleted first, a resolution's delete (which moves its forecast's counts) wrote
        # them again from nothing, and deleting the tags then took a count below zero.
        # Django passes the tables in set order, so which came first changed per run.
        tables = sorted(tables, key=lambda table: (table in KEPT_BY_TRIGGERS, table))
        statements = flush(self, style, tables, **kwargs)
        if not statements:
            return statements
        return [
            "INSERT INTO forecasts_writepermit (forecast_id, kind) VALUES (0, 'flush')",
            *statements,
            "DELETE FROM forecasts_writepermit WHERE kind = 'flush'",
        ]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield
