"""The developer tools are an app of their own, installed only for development."""

import pytest

from tests.tracker.test_settings import PRODUCTION, manage

DEV_COMMANDS = (
    "generate_synthetic",
    "bench_scores",
    "bench_ledger",
    "bench_pages",
    "bench_resolve",
    "bench_digests",
    "bench_extraction",
    "loadtest",
)


def test_production_lists_no_developer_command():
    result = manage("help", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "[forecasts]" in result.stdout  # the product's own commands are there
    assert "send_digests" in result.stdout
    for command in DEV_COMMANDS:
        assert command not in result.stdout
    assert "[devtools]" not in result.stdout


def test_production_cannot_run_one():
    result = manage("generate_synthetic", "--forecasts", "0", **PRODUCTION)
    assert result.returncode != 0
    assert "Unknown command: 'generate_synthetic'" in result.stderr


@pytest.mark.parametrize("env", [{"DEBUG": "1"}, {**PRODUCTION, "DEV_TOOLS": "1"}])
def test_development_lists_every_developer_command(env):
    result = manage("help", **env)
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split("[devtools]", 1)[1].split("[", 1)[0].split()
    assert sorted(listed) == sorted(DEV_COMMANDS)
