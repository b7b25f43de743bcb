"""Scenario 7: a task enqueued inside a transaction that rolls back never runs."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from forecasts.core import services as core_services
from forecasts.models import Resolution, ScoreRecompute, ScoreSnapshot
from tests.factories import ForecastFactory
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


class Abandoned(Exception):
    """The request fails after the resolution was written."""


def resolve_then_fail(forecast) -> None:
    with transaction.atomic():
        core_services.forecast_resolve(
            forecast=forecast, outcome="YES", known_on=forecast.resolve_by, note="Rolled back."
        )
        raise Abandoned


def queued(redis_client) -> int:
    """Messages waiting in the broker or delivered and not yet acknowledged."""
    return int(redis_client.llen("celery")) + int(redis_client.hlen("unacked"))


def recompute_lines(worker) -> str:
    """The worker's log lines about the recompute task."""
    return "\n".join(
        line for line in worker.text().splitlines() if "forecasts.tasks.scores_recompute[" in line
    )


def test_rolled_back_resolution_enqueues_nothing(
    cluster, sink, producer, redis_client, record, settings
):
    settings.SCORES_RECOMPUTE_DELAY = 0
    worker = cluster.worker()
    wait_for(lambda: queued(redis_client) == 0, 10, "the worker's start-up prompt run")
    forecast = ForecastFactory()
    began = time.monotonic()

    with pytest.raises(Abandoned):
        resolve_then_fail(forecast)

    time.sleep(3)  # a recompute would have been received and run by now
    rolled_back = {
        "messages_in_broker": queued(redis_client),
        "recomputes_received": worker.text().count("scores_recompute["),
        "recompute_claimed": ScoreRecompute.objects.filter(pending_since__isnull=False).count(),
        "resolutions": Resolution.objects.count(),
        "snapshots": ScoreSnapshot.objects.count(),
        "emails": sink.count(),
    }
    # The same resolution committed: its recompute reaches the worker and runs (the check
    # above would see it).
    core_services.forecast_resolve(
        forecast=forecast, outcome="YES", known_on=forecast.resolve_by, note="Committed."
    )
    latency = wait_for(lambda: ScoreSnapshot.objects.exists(), 20, "the committed recompute")
    # The snapshot row commits before the worker writes its "succeeded" line and acknowledges
    # the message: wait for both rather than count at once (under load the line came later).
    wait_for(
        lambda: "] succeeded in" in recompute_lines(worker) and queued(redis_client) == 0,
        20,
        "the recompute's 'succeeded' line and acknowledgement",
    )
    time.sleep(1)  # a duplicate run would be received within this
    committed_runs = recompute_lines(worker).count("Task forecasts.tasks.scores_recompute[")
    errors = worker.text().count("ERROR")
    record(
        **rolled_back,
        lost=0 if committed_runs == 2 else 1,  # received + succeeded lines of the one task
        duplicated=max(0, committed_runs - 2),
        errors=errors,
        committed_recompute_latency_seconds=round(latency, 1),
        total_seconds=round(time.monotonic() - began, 1),
    )
    assert rolled_back == {
        "messages_in_broker": 0,
        "recomputes_received": 0,
        "recompute_claimed": 0,
        "resolutions": 0,
        "snapshots": 0,
        "emails": 0,
    }
    assert committed_runs == 2  # "received" and "succeeded": exactly one run
    assert errors == 0
