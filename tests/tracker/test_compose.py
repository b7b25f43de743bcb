"""The compose file as deployed (issue 16, 2): every documented setting reaches the app,
the web port is this machine's alone, and the page cache is a bounded Redis of its own
while the broker's, which holds what must not be lost, never evicts."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO
from tests.tracker.test_settings import manage

APP_SERVICES = ("setup", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def documented() -> set[str]:
    """Every variable .env.example names, set or commented out."""
    text = (REPO / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def test_every_documented_setting_reaches_every_app_service(compose):
    names = documented()
    assert {"TRUSTED_PROXY_COUNT", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES"} <= names
    for name in APP_SERVICES:
        service = compose["services"][name]
        files = [
            entry["path"] if isinstance(entry, dict) else entry
            for entry in service.get("env_file", [])
        ]
        # The whole .env: whatever it sets, the container has (the environment entries,
        # interpolated from the same file, only add defaults and derived values).
        assert ".env" in files, name


def test_the_web_port_is_published_on_loopback_only(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    assert compose["services"]["web"]["ports"] == ["127.0.0.1:8000:8000"]


def _redis_options(command: list[str]) -> dict[str, str]:
    options = {}
    for flag, value in zip(command[1::2], command[2::2], strict=False):
        options[flag.removeprefix("--")] = value
    return options


def test_the_page_cache_is_bounded_and_the_broker_never_evicts(compose):
    services = compose["services"]
    cache = _redis_options(services["cache"]["command"])
    assert cache["maxmemory"].endswith("mb}") or cache["maxmemory"].endswith("mb")
    assert cache["maxmemory-policy"] == "allkeys-lru"
    broker = _redis_options(services["redis"]["command"])
    assert broker["maxmemory-policy"] == "noeviction"
    assert "maxmemory" not in broker
    app_env = services["web"]["environment"]
    assert app_env["CACHE_URL"] == "redis://cache:6379/0"
    assert app_env["REDIS_URL"] == "redis://redis:6379/0"


def test_pages_and_state_go_to_their_own_caches(tmp_path):
    shown = (
        "from django.conf import settings; "
        "print(settings.CACHES['default']['LOCATION'], settings.CACHES['state']['LOCATION'])"
    )
    result = manage(
        "shell",
        "-c",
        shown,
        DEBUG="1",
        VAR_DIR=str(tmp_path),
        REDIS_URL="redis://broker.invalid:6379/0",
        CACHE_URL="redis://pages.invalid:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "redis://pages.invalid:6379/0 redis://broker.invalid:6379/0"
    )


def test_postgresql_keeps_the_hot_data_in_its_own_cache(compose):
    """shared_buffers set past PostgreSQL's 128 MB default (which left a resolution's reads
    to the host's page cache), adjustable from .env, with room for parallel queries."""
    postgres = compose["services"]["postgres"]
    command = postgres["command"]
    assert command[:2] == ["postgres", "-c"]
    setting = command[command.index("-c") + 1]
    name, value = setting.split("=", 1)
    assert name == "shared_buffers"
    assert value == "${POSTGRES_SHARED_BUFFERS:-1GB}"
    assert "POSTGRES_SHARED_BUFFERS" in documented()
    assert postgres["shm_size"] == "256mb"
