"""Scenario 7: a resolution whose transaction rolls back leaves no trace, and none, rolled
back or committed, leaves work for a worker: the scores follow in its own transaction."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from forecasts.core import services as core_services
from forecasts.models import ForecastScore, Resolution, ScoreSnapshot, ScoreSum
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


def state(redis_client, worker, sink) -> dict[str, int]:
    everything = ScoreSum.objects.filter(scope_kind="all", scope_id=0, tag_id=0, month=0).first()
    return {
        "messages_in_broker": queued(redis_client),
        "tasks_received": worker.text().split(" ready.")[-1].count(" received"),
        "resolutions": Resolution.objects.count(),
        "scored_forecasts": ForecastScore.objects.count(),
        "resolved_in_sums": everything.resolved_count if everything else 0,
        "snapshots": ScoreSnapshot.objects.count(),
        "emails": sink.count(),
    }


def test_a_rolled_back_resolution_leaves_no_trace_and_nothing_is_queued(
    cluster, sink, producer, redis_client, record
):
    worker = cluster.worker()
    wait_for(lambda: queued(redis_client) == 0, 10, "the worker's start-up prompt run")
    wait_for(lambda: "reviews_prompt[" in worker.text(), 10, "the start-up run's log line")
    time.sleep(1)
    started = worker.text().split(" ready.")[-1].count(" received")
    forecast = ForecastFactory()
    began = time.monotonic()

    with pytest.raises(Abandoned):
        resolve_then_fail(forecast)
    time.sleep(3)  # a task queued on commit would have been received by now
    rolled_back = state(redis_client, worker, sink)
    rolled_back["tasks_received"] -= started

    # The same resolution committed: scored at once, in its own transaction; still
    # nothing for the worker.
    core_services.forecast_resolve(
        forecast=forecast, outcome="YES", known_on=forecast.resolve_by, note="Committed."
    )
    committed = state(redis_client, worker, sink)
    time.sleep(3)
    committed["tasks_received"] = worker.text().split(" ready.")[-1].count(" received") - started
    errors = worker.text().count("ERROR")
    record(
        rolled_back=rolled_back,
        committed=committed,
        lost=0 if committed["resolved_in_sums"] == 1 else 1,
        duplicated=max(0, committed["resolved_in_sums"] - 1),
        errors=errors,
        total_seconds=round(time.monotonic() - began, 1),
    )
    assert rolled_back == {
        "messages_in_broker": 0,
        "tasks_received": 0,
        "resolutions": 0,
        "scored_forecasts": 0,
        "resolved_in_sums": 0,
        "snapshots": 0,
        "emails": 0,
    }
    assert committed["resolutions"] == 1
    assert committed["scored_forecasts"] == 1
    assert committed["resolved_in_sums"] == 1
    assert committed["snapshots"] >= 1  # today's, written with the resolution
    assert committed["messages_in_broker"] == 0
    assert committed["tasks_received"] == 0
    assert committed["emails"] == 0
    assert errors == 0
