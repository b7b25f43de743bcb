"""Scenario 6: the mail server is down for a while in the middle of a digest run."""

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

SUBSCRIBERS = 500
DOWN_SECONDS = 12


def test_mail_server_down_for_a_while(cluster, sink, producer, record):
    emails = digest_readers(SUBSCRIBERS)
    worker = cluster.worker()
    began = time.monotonic()
    producer.send_task("forecasts.tasks.digests_send")
    wait_for(lambda: sink.count() >= 100, 20, "the first 100 digests")
    sink.stop()
    down_at, before = time.monotonic(), sink.count()
    # Down: the run retries with backoff, gives up, and the task retries later.
    wait_for(lambda: "Retry in" in worker.text(), 30, "the task to schedule its retry")
    time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
    marked_while_down = digests_sent()
    received_while_down = sink.count() - before
    sink.start()
    up_at = time.monotonic()
    recovered = wait_for(lambda: digests_sent() == SUBSCRIBERS, 120, "every digest", poll=0.5)
    time.sleep(2)
    tally = digest_tally(emails, sink)
    log = worker.text()
    record(
        subscribers=SUBSCRIBERS,
        down_seconds=round(up_at - down_at, 1),
        received_before_the_outage=before,
        marked_sent_while_down=marked_while_down,
        marked_without_delivery=len(digest_marks_match_the_sink(sink)),
        temporary_failures_logged=log.count("temporary failure"),
        task_retries=log.count("Retry in"),
        **tally.as_dict(),
        errors=log.count("ERROR"),
        latency_after_return_seconds=round(recovered, 1),
        total_seconds=round(time.monotonic() - began, 1),
    )
    assert received_while_down == 0
    # Nothing marked sent that the server did not accept: every mark is a received message.
    assert marked_while_down <= before
    assert digest_marks_match_the_sink(sink) == []
    assert log.count("temporary failure") >= 2  # retried with backoff before giving up
    assert tally.lost == 0
    assert tally.duplicated == 0
    assert tally.unexpected == 0
    assert tally.rows_sent == SUBSCRIBERS
    assert tally.rows_unsent == 0
