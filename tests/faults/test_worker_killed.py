"""Scenarios 1 and 2: the worker SIGKILLed in the middle of sending, then started again.

The killed task comes back by itself: its message was never acknowledged
(acks_late), so Redis hands it out again after the visibility timeout, and the
new run takes over the claims the dead one left once they are stale.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import wait_for
from tests.faults.data import (
    digest_marks_match_the_sink,
    digest_readers,
    digest_tally,
    digests_sent,
    due_forecasts,
    prompt_rows,
    prompt_tally,
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
    recovered = wait_for(lambda: digests_sent() == SUBSCRIBERS, 120, "every digest sent", poll=0.5)
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


FORECASTS, REVIEWERS = 500, 20


def test_worker_killed_mid_review_prompts(cluster, sink, record):
    reviewers, wanted = due_forecasts(FORECASTS, REVIEWERS)
    began = time.monotonic()
    # A worker queues one prompt run when it starts (tracker/celery.py): that is the run killed.
    first = cluster.worker("worker-1", wait=False)
    wait_for(lambda: sink.count() >= 3, 30, "the first prompts", poll=0.01)
    first.kill()
    at_kill = sink.count()
    assert at_kill < REVIEWERS, "the run finished before the kill: nothing was tested"

    cluster.worker("worker-2")
    recovered = wait_for(
        lambda: prompt_rows() == (len(wanted), 0), 120, "every prompt sent", poll=0.5
    )
    time.sleep(2)
    tally = prompt_tally(reviewers, wanted, sink)
    record(
        forecasts=FORECASTS,
        reviewers=REVIEWERS,
        emails_before_kill=at_kill,
        emails_after=sink.count(),
        **tally.as_dict(),
        errors=sum(p.text().count("ERROR") for p in cluster.processes),
        recovery_seconds=round(recovered, 1),
        total_seconds=round(time.monotonic() - began, 1),
    )
    assert tally.lost == 0
    assert tally.duplicated == 0
    assert tally.unexpected == 0
    assert tally.rows_sent == len(wanted)
    assert tally.rows_unsent == 0
    # One e-mail per reviewer with all of their forecasts (a resend counted once: same Message-ID).
    assert sum(sink.distinct_per_recipient().values()) == REVIEWERS
