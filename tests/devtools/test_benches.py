"""The page and resolution benchmarks run and print their verdicts (no timing is asserted)."""

import io
import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from forecasts.devtools.management.commands import bench_resolve
from forecasts.devtools.synthetic import synthetic_generate
from forecasts.models import Forecast, LedgerEntry, Resolution

# Each resolution bench_resolve times commits: the tests cannot run inside one transaction.
pytestmark = pytest.mark.django_db(transaction=True)

PAGES = (
    "/ ",
    "/?period=12m",
    "/?tag=",
    "forecaster page",
    "source page",
    "tag page",
    "forecast page",
    "/api/forecasts",
)


@pytest.fixture
def synthetic():
    # A transactional test's flush empties the Reviewers group migration 0004 set up.
    group, _ = Group.objects.get_or_create(name="Reviewers")
    group.permissions.add(
        Permission.objects.get(codename="resolve_forecast", content_type__app_label="forecasts")
    )
    synthetic_generate(forecasts=200, estimates=600, forecasters=4, sources=3, tags=3, seed=2)


def due_synthetic():
    return Forecast.objects.filter(synthetic=True).due(at=timezone.now())


def run(command, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(command, stdout=out, stderr=err, **options)
    return out.getvalue().splitlines(), err.getvalue()


def test_bench_pages_sets_each_page_against_its_target(synthetic):
    lines, _ = run("bench_pages", requests=2)
    assert lines[0].startswith(f"bench_pages on {connection.vendor}: 200 forecasts")
    assert "floor /healthz p50" in lines[0]
    for name in PAGES:
        line = next(line for line in lines if line.strip().startswith(name.strip()))
        assert "x floor" not in line  # the ratio is printed as a number
        # The floor it is set against was timed in turn with it, and is printed.
        assert re.search(r"= x[\d.]+ floor \([\d.]+ ms in turn\), target x", line)
        assert line.split(" in turn), target x", 1)[1].split()[1] in ("PASS", "MISS")
        assert line.rstrip().endswith("queries")
    if connection.vendor == "postgresql":
        ratio = next(line for line in lines if "CSV export / bare COPY" in line)
        assert "target x3" in ratio
        assert ratio.rstrip().endswith(("PASS", "MISS"))
        assert any("bare COPY of the same rows" in line for line in lines)
    else:
        assert any("does not apply on sqlite" in line for line in lines)
    assert lines[-1].startswith("bench_pages summary: ")
    assert "pages within target" in lines[-1]


def test_bench_resolve_times_committed_resolutions_by_a_reviewer(synthetic):
    due = due_synthetic().count()
    assert due >= 4
    lines, progress = run("bench_resolve", resolutions=3)
    # One untimed, three timed: all committed, by the bench's reviewer, on the ledger.
    assert due_synthetic().count() == due - 4
    resolutions = Resolution.objects.filter(resolved_by__username=bench_resolve.REVIEWER)
    assert resolutions.count() == 4
    assert all(resolution.is_current for resolution in resolutions)
    forecasts = [resolution.forecast_id for resolution in resolutions]
    assert LedgerEntry.objects.filter(forecast_id__in=forecasts, chain="synthetic").count() >= 4
    assert User.objects.get(username=bench_resolve.REVIEWER).groups.filter(name="Reviewers")
    assert "3/3 resolved" in progress
    assert "p95" in lines[-2]
    if connection.vendor == "postgresql":  # the floor, timed in turn with them
        assert re.search(r"; PostgreSQL shared_buffers \d+[kMG]B$", lines[0])
        assert lines[-3].startswith("  a bare commit, timed in turn: p50 ")
        assert "; a bare commit p95 " in lines[-1]
    else:
        assert lines[-3] == "  a bare commit: not timed on sqlite"
    assert lines[-1].startswith("bench_resolve summary: p95 ")
    assert "target of 50 ms" in lines[-1]
    assert lines[-1].split(": ")[2].split()[0] in ("PASS", "MISS")
    # A second run takes the next due forecasts (the reviewer is reused).
    run("bench_resolve", resolutions=2)
    assert due_synthetic().count() == due - 7


def test_bench_resolve_can_say_which_statements_a_resolution_waits_for(synthetic):
    lines, _ = run("bench_resolve", resolutions=3, statements=True)
    head = next(i for i, line in enumerate(lines) if "where a resolution's time goes" in line)
    assert "(medians over 3)" in lines[head]
    summary = re.search(
        r"(\d+) statements, ([\d.]+) ms waiting for them, ([\d.]+) ms in Python and the "
        r"commit, of ([\d.]+) ms",
        lines[head],
    )
    assert summary
    statements, waited, rest, total = summary.groups()
    assert float(waited) + float(rest) == pytest.approx(float(total), abs=0.11)
    listed = [line for line in lines[head + 1 :] if re.match(r"\s+\d+\. +[\d.]+ ms  ", line)]
    assert len(listed) >= int(statements)
    assert any("INSERT INTO" in line and "forecasts_resolution" in line for line in listed)
    assert any("forecasts_ledgerentry" in line for line in listed)
    # Only the service's own: not the bench's reads of the forecast and the reviewer.
    assert not any('"auth_user"."password"' in line for line in listed)
    assert lines[-1].startswith("bench_resolve summary: p95 ")


def test_bench_resolve_times_without_the_debug_query_log(synthetic, settings):
    settings.DEBUG = True  # as make bench runs it
    logged = []

    def watch(execute, sql, params, many, context):
        logged.append(connection.queries_logged)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        lines, _ = run("bench_resolve", resolutions=2)
    assert any("debug query log off, as in production" in line for line in lines)
    assert True in logged  # the untimed resolution and the setup, logged as DEBUG has it
    assert logged[-1] is False  # the timed ones, not
    assert lines[-1].startswith("bench_resolve summary: p95 ")


def test_bench_resolve_says_when_there_are_too_few(synthetic):
    due = due_synthetic().count()
    lines, _ = run("bench_resolve", resolutions=due + 10)
    assert any(f"TOO FEW: only {due:,} due" in line for line in lines)
    assert f"({due - 1} resolutions" in lines[-1]
    assert due_synthetic().count() == 0


def test_bench_resolve_says_so_when_its_reviewer_may_not_resolve(synthetic):
    Group.objects.get(name="Reviewers").permissions.clear()
    with pytest.raises(CommandError, match="may not resolve"):
        run("bench_resolve", resolutions=2)
    assert not Resolution.objects.filter(resolved_by__username=bench_resolve.REVIEWER)


def test_bench_resolve_without_due_synthetic_forecasts_is_an_error():
    with pytest.raises(CommandError, match="Too few due, unresolved, published synthetic"):
        run("bench_resolve")
