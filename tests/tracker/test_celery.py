"""A real worker thread consumes a task from a real broker and sends the result back."""

import os
from urllib.parse import urlsplit

import pytest
from celery.contrib.testing import tasks as _register_celery_ping  # noqa: F401  (start_worker pings)
from celery.contrib.testing.worker import start_worker

from forecasts.tasks import heartbeat
from tests.conftest import skip_outside_ci
from tracker.celery import app, create_app


def redis_url_or_fail() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        skip_outside_ci("REDIS_URL is not set: the Redis round trip runs where Redis is.")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except (OSError, redis.exceptions.ConnectionError) as exc:
        host = urlsplit(url).hostname
        pytest.fail(f"REDIS_URL={url} is set but Redis at {host} does not answer: {exc}")
    return url


def round_trip(**conf):
    """Our app's configuration with another broker/backend, a worker thread, one task."""
    celery_app = create_app(**conf)
    with start_worker(celery_app, pool="solo", perform_ping_check=True, shutdown_timeout=10):
        result = celery_app.tasks["forecasts.tasks.ping"].delay()
        assert result.get(timeout=20) == "pong"
        assert result.successful()
    celery_app.close()


def test_round_trip_on_redis():
    url = redis_url_or_fail()
    round_trip(broker_url=url, result_backend=url)


def test_round_trip_on_the_embedded_broker(tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    round_trip(
        broker_url="filesystem://",
        broker_transport_options={
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(tmp_path / "control"),
            "store_processed": False,
        },
        result_backend="cache+memory://",
    )
    assert list(queue.iterdir()) == []  # the messages were consumed, not left behind


def test_reliability_settings():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is False
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert "forecasts.tasks.heartbeat" in {entry["task"] for entry in conf.beat_schedule.values()}


@pytest.mark.django_db
def test_heartbeat_counts_forecasts_by_state(seeded):
    counts = heartbeat.apply().get()
    assert counts["resolved"] == 10
    assert counts["due"] == 3
    assert counts["draft"] == 0
