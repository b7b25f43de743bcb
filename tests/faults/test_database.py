"""Scenario 5: PostgreSQL drops the worker's connection in the middle of a score snapshot.

Rather than restarting the whole server (other test runs share it on this
machine), the snapshot's own backend is terminated with ``pg_terminate_backend``
while it is writing the snapshot rows. To the worker that is what a restart
looks like: the statement in flight fails with "terminating connection due to
administrator command" (an ``OperationalError``) and the connection is gone.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from forecasts.models import ScoreSnapshot
from forecasts.scores.compute import scope_snapshots, scored_forecasts
from forecasts.scores.rows import score_rows
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

OLD = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def snapshot_writer() -> int | None:
    """The worker's backend while it writes snapshot rows (COPY on PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'faults'"
            " AND datname = current_database() AND state <> 'idle'"
            " AND query ILIKE %s AND (query ILIKE 'INSERT%%' OR query ILIKE 'COPY%%')",
            ["%forecasts_scoresnapshot%"],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_database_connection_dropped_mid_snapshot(cluster, producer, record):
    call_command(
        "generate_synthetic",
        "--forecasts=20000",
        "--estimates=60000",  # the scopes make the snapshot long to write, not estimates
        "--forecasters=3000",
        "--sources=6000",
        "--tags=500",
        stdout=io.StringIO(),
    )
    today = timezone.localdate()
    # The generator scored its data and wrote today's snapshots (the live scores do);
    # stamped as an earlier run's, they are the snapshot that must survive a failed
    # replacement whole.
    ScoreSnapshot.objects.filter(as_of=today).update(computed_at=OLD)
    expected = list(ScoreSnapshot.objects.filter(as_of=today))
    full = scope_snapshots(scored_forecasts(score_rows(as_of=today)), as_of=today)
    assert len(expected) == len(full) > 1000
    worker = cluster.worker()
    began = time.monotonic()
    producer.send_task("forecasts.tasks.scores_snapshot_today")

    pid = None
    deadline = time.monotonic() + 60
    while pid is None and time.monotonic() < deadline:
        pid = snapshot_writer()
        if pid is None:
            time.sleep(0.005)
    assert pid is not None, "never saw the snapshot being written:\n" + worker.text()[-3000:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    # Straight after the failure the old snapshot is there, whole: the replacement rolled back.
    old_rows = ScoreSnapshot.objects.filter(as_of=today, computed_at=OLD).count()

    recovered = wait_for(
        lambda: (
            re.search(r"scores_snapshot_today\[\S+\] (succeeded|raised)", worker.text()) is not None
        ),
        60,
        "the retried snapshot to finish",
        poll=0.5,
    )
    rows = ScoreSnapshot.objects.filter(as_of=today)
    runs = set(rows.values_list("computed_at", flat=True))
    log = worker.text()
    record(
        scopes=len(expected),
        old_rows_right_after_the_failure=old_rows,
        rows_after=rows.count(),
        lost=len(expected) - rows.count(),
        duplicated=rows.count() - len({(r.scope_kind, r.scope_id) for r in rows}),
        runs_in_the_snapshot=len(runs),
        retries=log.count("Retry in"),
        errors=log.count("ERROR"),
        recovery_seconds=round(recovered, 1),
        total_seconds=round(time.monotonic() - began, 1),
    )
    assert old_rows == len(expected)
    assert rows.count() == len(expected)
    assert len(runs) == 1
    assert OLD not in runs
    assert log.count("Retry in") >= 1
    assert "raised" not in log
