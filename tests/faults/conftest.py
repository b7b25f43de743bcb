"""Fixtures for the fault suite: real worker and beat processes, Redis, PostgreSQL, an SMTP sink.

Every scenario runs against pytest-django's test database (committed rows:
``django_db(transaction=True)``) so the subprocesses see the data. The
subprocesses run ``tests.faults.settings`` (production settings with timings
scaled down to seconds) with a dedicated Redis database as their broker and the
sink as their mail server. The figures each scenario measures are printed and
appended to ``var/faults.json`` (``FAULTS_REPORT`` to put them elsewhere).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import require_postgresql, skip_outside_ci
from tests.smtp import _free_port

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# The broker's Redis database: its own, flushed at the start of each scenario.
FAULTS_REDIS_DB = int(os.environ.get("FAULTS_REDIS_DB", "5"))
REPORT = Path(os.environ.get("FAULTS_REPORT", REPO / "var" / "faults.json"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# --- Preconditions ------------------------------------------------------------------------


def _broker_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        skip_outside_ci(
            "The fault suite needs Redis: set REDIS_URL (and DATABASE_URL to PostgreSQL)."
        )
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{FAULTS_REDIS_DB}"))


@pytest.fixture
def broker_url(transactional_db: None) -> str:
    require_postgresql("the fault suite runs on it: set DATABASE_URL=postgres://… (and REDIS_URL).")
    url = _broker_url()
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"REDIS_URL is set but Redis does not answer: {exc}")
    return url


@pytest.fixture
def redis_client(broker_url: str) -> Any:
    import redis

    return redis.Redis.from_url(broker_url, socket_connect_timeout=3)


# --- The SMTP sink ------------------------------------------------------------------------

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Received:
    recipient: str
    message_id: str
    data: bytes

    @property
    def digest(self) -> bool:
        """Digests are list mail (List-Unsubscribe); review prompts are not."""
        head = self.data.split(b"\r\n\r\n", 1)[0]
        return re.search(rb"^List-Unsubscribe:", head, re.IGNORECASE | re.MULTILINE) is not None


@dataclass
class Sink:
    """An SMTP server (aiosmtpd) that records every message it accepts. It can be stopped
    and started again on the same port: the mail server down for a while."""

    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = _MESSAGE_ID.search(envelope.original_content.split(b"\r\n\r\n", 1)[0])
        message_id = found.group(1).decode() if found else ""
        for recipient in envelope.rcpt_tos:
            self.messages.append(Received(recipient.lower(), message_id, envelope.original_content))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def count(self) -> int:
        return len(self.messages)

    def received(self, *, digest: bool | None = None) -> list[Received]:
        """Every message (or only the digests, or only the others)."""
        return [m for m in list(self.messages) if digest is None or m.digest == digest]

    def per_recipient(self, *, digest: bool | None = None) -> Counter[str]:
        """SMTP transmissions per recipient."""
        return Counter(m.recipient for m in self.received(digest=digest))

    def distinct_per_recipient(self, *, digest: bool | None = None) -> Counter[str]:
        """Distinct messages (by Message-ID) per recipient: what a mailbox shows."""
        kept = {(m.recipient, m.message_id) for m in self.received(digest=digest)}
        return Counter(to for to, _ in kept)


@pytest.fixture
def sink() -> Iterator[Sink]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    running = Sink(host="127.0.0.1", port=_free_port("127.0.0.1"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


# --- Processes ----------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group: the main process and its pool children."""
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)
        _reap_group(self.popen.pid)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        _reap_group(self.popen.pid)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _reap_group(pgid: int) -> None:
    """Pool children outlive a killed parent for a moment: make sure none is left."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@dataclass
class Cluster:
    """The worker and beat processes of one scenario, with what they need to reach."""

    env: dict[str, str]
    tmp: Path
    processes: list[Process] = field(default_factory=list)

    def _start(self, name: str, args: list[str]) -> Process:
        log = self.tmp / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                args,
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def worker(self, name: str = "worker", *, concurrency: int = 2, wait: bool = True) -> Process:
        process = self._start(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "tracker",
                "worker",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"faults-{name}@%h",
            ],
        )
        if wait:
            wait_for(lambda: " ready." in process.text() or not process.alive(), 30, name)
            assert process.alive(), f"{name} exited at start:\n{process.text()[-3000:]}"
        return process

    def beat(self, name: str = "beat") -> Process:
        return self._start(
            name,
            [
                str(VENV_BIN / "celery"),
                "-A",
                "tracker",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.tmp / f"{name}-schedule"),
            ],
        )

    def logs(self) -> str:
        return "\n".join(
            f"===== {p.name} (last lines of {p.log}) =====\n"
            + "\n".join(p.text().splitlines()[-80:])
            for p in self.processes
        )


@pytest.fixture
def cluster(
    request: pytest.FixtureRequest, broker_url: str, sink: Sink, tmp_path: Path
) -> Iterator[Cluster]:
    from django.db import connection

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}?application_name=faults"
    )
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": broker_url,
        "VAR_DIR": str(tmp_path / "var"),
        "TIME_ZONE": "UTC",
        "SITE_URL": "https://forecasts.example.org",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "EMAIL_USE_TLS": "0",
        "EMAIL_TIMEOUT": "5",
        "ADMINS": "",
        "LOG_LEVEL": "INFO",
    }
    running = Cluster(env=env, tmp=tmp_path)
    try:
        yield running
    finally:
        for process in running.processes:
            process.kill()
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            print(running.logs())


@pytest.fixture
def producer(broker_url: str) -> Iterator[Any]:
    """A Celery app of our configuration that sends to the suite's broker (the test process
    plays the part of the web server or of beat). It is the current app meanwhile, so
    tasks the services enqueue (``task.apply_async``) go to the suite's worker too."""
    from tracker import celery

    app = celery.create_app(broker_url=broker_url)
    app.set_current()
    try:
        yield app
    finally:
        celery.app.set_current()
        app.close()


# --- Waiting and reporting ----------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> float:
    """Seconds it took ``condition`` to hold; fails after ``timeout`` seconds."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(poll)
    return time.monotonic() - began


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[..., dict[str, Any]]:
    """``record(lost=…, duplicated=…, errors=…, …)``: print the figures and put them in the
    JSON report (replacing the scenario's figures from an earlier run)."""

    def write(**figures: Any) -> dict[str, Any]:
        entry = {
            "scenario": request.node.name,
            "measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **figures,
        }
        print(f"\nFAULTS {json.dumps(entry)}")
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        existing = json.loads(REPORT.read_text()) if REPORT.exists() else []
        others = [e for e in existing if e.get("scenario") != entry["scenario"]]
        REPORT.write_text(json.dumps([*others, entry], indent=2) + "\n")
        return entry

    return write
