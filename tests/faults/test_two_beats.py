"""Scenario 3: two beat processes side by side (an operator started a second one by mistake)."""

from __future__ import annotations

import time

import pytest

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

SUBSCRIBERS, FORECASTS, REVIEWERS = 300, 100, 5
TICKS = 6  # per beat, per job (tests.faults.settings: a tick every 3 s)


def test_two_beats_side_by_side(cluster, sink, record):
    emails = digest_readers(SUBSCRIBERS)
    reviewers, wanted = due_forecasts(FORECASTS, REVIEWERS)
    cluster.worker("worker-1", concurrency=2)
    cluster.worker("worker-2", concurrency=2)
    began = time.monotonic()
    beats = [cluster.beat("beat-1"), cluster.beat("beat-2")]

    def ticks(beat, task):
        return beat.text().count(f"Sending due task {task}")

    all_sent_after: list[float] = []

    def ticked() -> bool:
        done = digests_sent() == SUBSCRIBERS and prompt_rows() == (len(wanted), 0)
        if done and not all_sent_after:
            all_sent_after.append(time.monotonic() - began)
        return all(ticks(b, name) >= TICKS for b in beats for name in ("digests-", "reviews-"))

    wait_for(ticked, 60, f"{TICKS} ticks of each job from each beat", poll=0.5)
    for beat in beats:
        beat.stop()
    wait_for(
        lambda: digests_sent() == SUBSCRIBERS and prompt_rows() == (len(wanted), 0),
        30,
        "everything sent",
        poll=0.5,
    )
    time.sleep(3)  # let the last runs the beats queued finish
    digests = digest_tally(emails, sink)
    prompts = prompt_tally(reviewers, wanted, sink)
    runs = sum(
        p.text().count("digests_send[") // 2 for p in cluster.processes if "worker" in p.name
    )
    record(
        beats=2,
        ticks_per_beat={
            b.name: {"digests": ticks(b, "digests-"), "reviews": ticks(b, "reviews-")}
            for b in beats
        },
        digest_runs=runs,
        digests=digests.as_dict(),
        prompts=prompts.as_dict(),
        lost=digests.lost + prompts.lost,
        duplicated=digests.duplicated + prompts.duplicated,
        errors=sum(p.text().count("ERROR") for p in cluster.processes),
        all_sent_after_seconds=round(all_sent_after[0], 1) if all_sent_after else None,
        total_seconds=round(time.monotonic() - began, 1),
    )
    for tally in (digests, prompts):
        assert tally.lost == 0
        assert tally.duplicated == 0
        assert tally.retransmitted == 0  # no kill here: not even a resend
        assert tally.unexpected == 0
        assert tally.rows_unsent == 0
    assert sum(sink.per_recipient().values()) == SUBSCRIBERS + REVIEWERS
