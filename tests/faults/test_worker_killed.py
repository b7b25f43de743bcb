"""Scenarios 1 and 2: the worker SIGKILLed in the middle of sending, then started again."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import wait_for
from tests.faults.data import (
    digest_marks_match_the_sink,
    digest_readers,
    digest_tally,
    digests_sent,
)

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

SUBSCRIBERS = 2000


def test_worker_killed_mid_digest_run(cluster, sink, producer, record):
    emails = digest_readers(SUBSCRIBERS)
    first = cluster.worker("worker-1")
    began = time.monotonic()
    producer.send_task("forecasts.tasks.digests_send")
    wait_for(lambda: sink.count() >= 200, 30, "the first 200 digests")
    first.kill()
    at_kill = sink.count()
    assert at_kill < SUBSCRIBERS, "the run finished before the kill: nothing was tested"

    cluster.worker("worker-2")
    # The killed task is redelivered after the visibility timeout; its new run takes
    # over the claims the dead one left (stale by then) and sends the rest.
    recovered = wait_for(lambda: digests_sent() == SUBSCRIBERS, 60, "every digest sent", poll=0.5)
    time.sleep(2)  # anything doubled would arrive now
    tally = digest_tally(emails, sink)
    errors = sum(p.text().count("ERROR") for p in cluster.processes)
    record(
        subscribers=SUBSCRIBERS,
        received_before_kill=at_kill,
        **tally.as_dict(),
        errors=errors,
        recovery_seconds=round(recovered, 1),
        total_seconds=round(time.monotonic() - began, 1),
    )
    assert tally.lost == 0
    assert tally.duplicated == 0
    assert tally.unexpected == 0
    assert tally.rows_sent == SUBSCRIBERS
    assert tally.rows_unsent == 0
    assert digest_marks_match_the_sink(sink) == []
