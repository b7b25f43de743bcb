"""Scenario 4: Redis restarted while tasks are queued and one is running.

Redis runs without persistence here as in production (docker-compose.yml: no
RDB, no AOF), so a restart loses every queued and unacknowledged message. What
must hold: the running task finishes, the worker reconnects by itself, and the
work that was queued is done anyway, because beat's next ticks queue the jobs
again and each job works out from the database what is still due.

The server is restarted with the configuration it had (read with CONFIG GET),
down for a few seconds, and always started again in a ``finally``: other test
runs on the machine share it.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import skip_outside_ci
from tests.faults.conftest import wait_for
from tests.faults.data import (
    digest_readers,
    digest_tally,
    digests_sent,
    due_forecasts,
    prompt_rows,
    prompt_tally,
)

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

SUBSCRIBERS, FORECASTS, REVIEWERS = 2000, 100, 5
DOWN_SECONDS = 3


@contextlib.contextmanager
def redis_down(url: str) -> Iterator[dict[str, str]]:
    """Shut the server down (losing its data), yield, start it again as it was."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", str(parts.port or 6379)
    if host not in {"127.0.0.1", "localhost", "::1"} or not shutil.which("redis-server"):
        skip_outside_ci("Restarting Redis needs a local redis-server (REDIS_URL on this machine).")
    cli = ["redis-cli", "-h", host, "-p", port]

    def config(name: str) -> str:
        out = subprocess.run([*cli, "config", "get", name], capture_output=True, text=True)
        lines = out.stdout.splitlines()
        return lines[1] if len(lines) > 1 else ""

    def up() -> bool:
        out = subprocess.run([*cli, "ping"], capture_output=True, text=True, check=False)
        return out.stdout.strip() == "PONG"

    was = {name: config(name) for name in ("bind", "dir", "logfile", "save", "appendonly")}
    args = ["redis-server", "--daemonize", "yes", "--port", port, "--bind", *was["bind"].split()]
    args += ["--save", was["save"], "--appendonly", was["appendonly"] or "no"]
    args += ["--dir", was["dir"] or "/var/lib/redis", "--logfile", was["logfile"]]
    subprocess.run([*cli, "shutdown", "nosave"], capture_output=True, check=False)
    try:
        wait_for(lambda: not up(), 10, "Redis to stop")
        yield was
    finally:
        if not up():
            subprocess.run(args, check=True, capture_output=True)
        wait_for(up, 30, "Redis to come back")


def test_redis_restarted_with_work_queued_and_running(
    cluster, sink, producer, broker_url, redis_client, record
):
    emails = digest_readers(SUBSCRIBERS)
    worker = cluster.worker(concurrency=1)
    wait_for(lambda: "reviews_prompt[" in worker.text().split("ready.")[-1], 10, "start-up run")
    # Due only now, after the worker's start-up prompt run: this work waits in the queue.
    reviewers, wanted = due_forecasts(FORECASTS, REVIEWERS)
    began = time.monotonic()
    producer.send_task("forecasts.tasks.digests_send")
    producer.send_task("forecasts.tasks.reviews_prompt")
    producer.send_task("forecasts.tasks.digests_send")
    wait_for(lambda: sink.count() >= 300, 30, "the digest run under way")
    queued = int(redis_client.llen("celery")) + int(redis_client.hlen("unacked"))
    at_restart = sink.count()
    with redis_down(broker_url):
        time.sleep(DOWN_SECONDS)
    beat = cluster.beat()  # started after the restart: nothing it queued could be lost

    recovered = wait_for(
        lambda: digests_sent() == SUBSCRIBERS and prompt_rows() == (len(wanted), 0),
        120,
        "all due work done",
        poll=0.5,
    )
    time.sleep(2)
    beat.stop()
    log = worker.text()
    digests = digest_tally(emails, sink)
    prompts = prompt_tally(reviewers, wanted, sink)
    record(
        messages_lost_with_redis=queued,
        digests_received_before_the_restart=at_restart,
        redis_down_seconds=DOWN_SECONDS,
        digests=digests.as_dict(),
        prompts=prompts.as_dict(),
        lost=digests.lost + prompts.lost,
        duplicated=digests.duplicated + prompts.duplicated,
        worker_connections=log.count("Connected to redis"),
        worker_restarted=not worker.alive(),
        errors=log.count("ERROR"),
        latency_after_return_seconds=round(recovered, 1),
        total_seconds=round(time.monotonic() - began, 1),
    )
    assert queued >= 1, "nothing was queued when Redis went away: nothing was tested"
    assert at_restart < SUBSCRIBERS, "the digest run ended before the restart"
    for tally in (digests, prompts):
        assert tally.lost == 0
        assert tally.duplicated == 0
        assert tally.unexpected == 0
        assert tally.rows_unsent == 0
    assert worker.alive()  # the same process, reconnected by itself
    assert log.count("Connected to redis") >= 2
