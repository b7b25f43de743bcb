"""Load test on loopback: gunicorn serving the 100,000-forecast data set under wrk.

Not a test of the suite: it prints figures (and writes them to JSON for
docs/RELIABILITY.md). For each phase (the public pages, then the API) it

1. starts a score snapshot and a digest run as separate processes, as the
   worker would run them, so the load meets their database and cache traffic
   (the snapshot also invalidates every cached page: the first requests after
   it render afresh);
2. drives gunicorn with wrk for a fixed time, cycling over the phase's URLs;
3. reports requests per second, p50/p95/p99 latency and every error.

The site is measured as it runs, not as it starts: freshly generated data is vacuumed
and analysed first (on PostgreSQL; a running site's autovacuum has done so, while the
first reads after a bulk load rewrite every page they touch), and before each phase
every URL is requested a few times per gunicorn worker, so no worker meets its first
request (its imports, matplotlib's among them) under load. A cold start put seconds
into the tail: p99 1.9 s, max 3.3 s, p95 224 ms, where a warm run gives about 120 ms.

The digest run sends the week just ended to ``--subscribers`` confirmed
readers (an in-process aiosmtpd sink receives them; no mail leaves the machine).
It stops by itself: wrk runs for ``--duration`` seconds, the background jobs
are waited for (and killed after ``--job-timeout``), gunicorn is stopped.
Exit status 1 when any request failed; the p95 target is reported, not enforced.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from forecasts.core.models import Forecast, Forecaster, Source, Tag
from forecasts.devtools.sink import CountingSink, free_port
from forecasts.digests.models import Cadence, DigestDelivery, Subscriber, SubscriberStatus

P95_TARGET_MS = 200
READERS = "loadtest-reader"  # e-mail prefix of the load test's subscribers
LUA = Path(settings.BASE_DIR) / "bin" / "loadtest.lua"


@dataclass
class PhaseResult:
    phase: str
    urls: int
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_detail: dict[str, int]
    background: dict[str, str]

    def __str__(self) -> str:
        return (
            f"{self.phase:6} {self.requests:,} requests in {self.seconds:.0f} s: "
            f"{self.requests_per_second:,.0f} req/s, p50 {self.p50_ms:.1f} ms, "
            f"p95 {self.p95_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, max {self.max_ms:.0f} ms, "
            f"errors {self.errors}; meanwhile "
            + ", ".join(f"{job} {outcome}" for job, outcome in self.background.items())
        )


class Command(BaseCommand):
    help = "Load-test the public pages and API on loopback with wrk (see the module docstring)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--forecasts", type=int, default=100_000)
        parser.add_argument("--duration", type=int, default=20, help="seconds per phase")
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--threads", type=int, default=2)
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
        parser.add_argument(
            "--subscribers", type=int, default=2000, help="confirmed digest subscribers"
        )
        parser.add_argument("--job-timeout", type=int, default=300)
        parser.add_argument(
            "--keep", action="store_true", help="keep the synthetic data and readers afterwards"
        )
        parser.add_argument(
            "--output", default=str(Path(settings.VAR_DIR) / "loadtest.json"), help="JSON file"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("wrk is not installed: apt-get install wrk (make loadtest does).")
        if options["duration"] < 1 or options["connections"] < 1 or options["threads"] < 1:
            raise CommandError("--duration, --connections and --threads must be positive.")
        self._ensure_data(options["forecasts"], options["subscribers"])
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per message
        sink = CountingSink()
        sink_port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
        controller.start()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = _server_env(port, options["workers"])
        env.update(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(sink_port),
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_USE_TLS="0",
        )
        log_path = Path(settings.VAR_DIR) / "loadtest-gunicorn.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._note(f"starting gunicorn ({options['workers']} workers) on {base}")
        with log_path.open("wb") as log:
            server = subprocess.Popen(  # noqa: S603 (our own script, fixed arguments)
                [str(Path(settings.BASE_DIR) / "bin" / "web")],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                _wait_healthy(base, server)
                results = [
                    self._phase(wrk, base, env, name, urls, options)
                    for name, urls in _phases().items()
                ]
            finally:
                _stop(server)
                controller.stop()
        if not options["keep"]:
            self._note("removing the synthetic data and readers")
            Subscriber.objects.filter(synthetic=True).delete()
            call_command("generate_synthetic", "--clear", "--forecasts", "0")
            call_command("snapshot_scores")
        output = Path(options["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(
            json.dumps(
                {
                    "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "forecasts": options["forecasts"],
                    "connections": options["connections"],
                    "workers": options["workers"],
                    "subscribers": options["subscribers"],
                    "digests_received_by_the_sink": sink.count,
                    "phases": [asdict(result) for result in results],
                },
                indent=2,
            )
        )
        errors = sum(result.errors for result in results)
        pages = results[0]
        verdict = "met" if pages.p95_ms < P95_TARGET_MS else "MISSED"
        self.stdout.write(
            f"summary: {sum(r.requests for r in results):,} requests, {errors} errors; "
            f"pages p95 {pages.p95_ms:.1f} ms (target < {P95_TARGET_MS} ms: {verdict}); "
            f"api p95 {results[1].p95_ms:.1f} ms; figures in {output}"
        )
        if errors:
            raise CommandError(f"{errors} requests failed under load (see {log_path}).")

    def _ensure_data(self, forecasts: int, subscribers: int) -> None:
        have = Forecast.objects.filter(synthetic=True).count()
        if have != forecasts:
            self._note(f"{have:,} synthetic forecasts; generating {forecasts:,}")
            call_command("generate_synthetic", "--clear", "--forecasts", str(forecasts))
            if connection.vendor == "postgresql":
                self._note("vacuuming and analysing the new data")
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM (ANALYZE)")
        call_command("snapshot_scores")
        readers = Subscriber.objects.filter(synthetic=True)
        if readers.count() != subscribers:
            readers.delete()
            now = timezone.now()
            Subscriber.objects.bulk_create(
                Subscriber(
                    email=f"{READERS}-{n}@loadtest.invalid",
                    synthetic=True,
                    cadence=Cadence.WEEKLY,
                    status=SubscriberStatus.CONFIRMED,
                    confirmed_at=now,
                )
                for n in range(subscribers)
            )
            self._note(f"{subscribers:,} confirmed digest subscribers")

    def _phase(
        self,
        wrk: str,
        base: str,
        env: dict[str, str],
        name: str,
        urls: list[str],
        options: dict[str, Any],
    ) -> PhaseResult:
        # Warm the page cache and every worker (round robin is not guaranteed: a few
        # requests per worker and URL, at once), and fail early on a broken URL.
        warming = [base + url for url in urls for _ in range(2 * options["workers"])]
        with ThreadPoolExecutor(max_workers=options["workers"]) as pool:
            list(pool.map(_get, warming))
        self._note(f"{name}: {len(urls)} URLs, {options['duration']} s, starting background jobs")
        # Each phase's digest run sends the week just ended afresh to every reader.
        DigestDelivery.objects.filter(subscriber__synthetic=True).delete()
        jobs = {
            "score snapshot": _manage(env, "snapshot_scores"),
            "digest run": _manage(env, "send_digests", f"--now={_next_monday().isoformat()}"),
        }
        completed = subprocess.run(  # noqa: S603 (wrk from PATH, our own arguments)
            [
                wrk,
                f"--threads={options['threads']}",
                f"--connections={options['connections']}",
                f"--duration={options['duration']}s",
                "--timeout=10s",
                f"--script={LUA}",
                base,
            ],
            env={**os.environ, "LOADTEST_PATHS": " ".join(urls)},
            capture_output=True,
            text=True,
            timeout=options["duration"] + 60,
            check=False,
        )
        background = {
            job: _finish(process, options["job_timeout"]) for job, process in jobs.items()
        }
        line = next(
            (row for row in completed.stdout.splitlines() if row.startswith("LOADTEST ")), None
        )
        if completed.returncode != 0 or line is None:
            raise CommandError(f"wrk failed: {completed.stderr.strip() or completed.stdout}")
        figures = json.loads(line.removeprefix("LOADTEST "))
        detail = {
            key: figures[key]
            for key in (
                "connect_errors",
                "read_errors",
                "write_errors",
                "status_errors",
                "timeouts",
            )
        }
        seconds = figures["duration_us"] / 1e6
        result = PhaseResult(
            phase=name,
            urls=len(urls),
            requests=figures["requests"],
            seconds=seconds,
            requests_per_second=figures["requests"] / seconds,
            p50_ms=figures["p50_us"] / 1000,
            p95_ms=figures["p95_us"] / 1000,
            p99_ms=figures["p99_us"] / 1000,
            max_ms=figures["max_us"] / 1000,
            errors=sum(detail.values()),
            error_detail=detail,
            background=background,
        )
        self.stdout.write(str(result))
        return result

    def _note(self, line: str) -> None:
        self.stdout.write(f"loadtest: {line}")
        self.stdout.flush()


def _phases() -> dict[str, list[str]]:
    """The URLs of each phase: the pages a reader opens, and the API's lists."""
    synthetic = Forecast.objects.published().filter(synthetic=True)
    forecasts = list(synthetic.order_by("-pk").values_list("slug", flat=True)[:5])
    forecaster = Forecaster.objects.filter(synthetic=True).order_by("pk").first()
    source = Source.objects.filter(synthetic=True).order_by("pk").first()
    tag = Tag.objects.filter(synthetic=True).order_by("pk").first()
    if not (forecasts and forecaster and source and tag):
        raise CommandError("No synthetic data to load-test (generate_synthetic failed?).")
    pages = [
        "/",
        "/forecasts/",
        "/forecasts/?status=resolved",
        "/scores/",
        "/leaderboards/forecasters/",
        f"/forecasters/{forecaster.slug}/",
        f"/sources/{source.key}/",
        f"/tags/{tag.slug}/",
        *(f"/forecasts/{slug}/" for slug in forecasts),
    ]
    api = [
        "/api/forecasts",
        "/api/forecasts?status=resolved&limit=100",
        f"/api/forecasts?forecaster={forecaster.slug}",
        f"/api/forecasts/{forecasts[0]}",
        "/api/forecasters",
        "/api/sources",
        "/api/scores",
        "/api/snapshots",
    ]
    return {"pages": pages, "api": api}


def _next_monday() -> dt.datetime:
    """07:00 next Monday, local time: the week now running has then ended."""
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    return dt.datetime.combine(monday, dt.time(7), tzinfo=timezone.get_current_timezone())


def _server_env(port: int, workers: int) -> dict[str, str]:
    """Production settings on loopback: DEBUG off (no SQL recording), plain HTTP."""
    return {
        **os.environ,
        # gunicorn and manage.py from this virtual environment.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": os.environ.get(
            "EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
        ),
    }


def _manage(env: dict[str, str], *command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 (this interpreter, our manage.py)
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _finish(process: subprocess.Popen[bytes], timeout: int) -> str:
    began = time.monotonic()
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return f"killed after {timeout} s"
    last = output.decode(errors="replace").strip().splitlines()[-1:] or [""]
    outcome = "ok" if process.returncode == 0 else f"FAILED (exit {process.returncode})"
    waited = time.monotonic() - began
    return f"{outcome} ({last[0][:120]}; waited {waited:.0f} s after the load)"


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _get(url: str) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (loopback)
            response.read()
    except urllib.error.HTTPError as exc:
        raise CommandError(f"{url} answered {exc.code} before the load started.") from None


def _wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError("gunicorn exited at start (see var/loadtest-gunicorn.log).")
        try:
            _get(base + "/healthz")
            return
        except (OSError, CommandError):
            time.sleep(0.5)
    raise CommandError("gunicorn did not answer /healthz within 60 s.")
