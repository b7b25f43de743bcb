"""Migration 0015 backfills the current outcome and the state counts from the rows an
existing database holds, and leaves the record's own triggers (0012) in place."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from forecasts.core.counts import counts_recount, counts_stored

BEFORE = [("forecasts", "0014_live_scores")]
AFTER = [("forecasts", "0015_forecast_current_outcome")]
NOW = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)

record_triggers = importlib.import_module("forecasts.migrations.0012_record_triggers")
count_triggers = importlib.import_module("forecasts.migrations.0015_forecast_current_outcome")


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest() -> Any:
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _installed() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_the_current_outcome_and_the_counts_are_backfilled() -> None:
    old = _migrate(BEFORE)
    Source = old.get_model("forecasts", "Source")
    Forecaster = old.get_model("forecasts", "Forecaster")
    Forecast = old.get_model("forecasts", "Forecast")
    Resolution = old.get_model("forecasts", "Resolution")
    source = Source.objects.create(key="s", title="An article", published_on=dt.date(2024, 1, 5))
    pundit = Forecaster.objects.create(name="A pundit", slug="a-pundit")

    def forecast(slug: str, resolve_by: dt.date, *, published: bool = True) -> Any:
        return Forecast.objects.create(
            slug=slug,
            source=source,
            forecaster=pundit,
            statement=f"{slug} happens.",
            resolution_criteria="YES if it happens.",
            made_on=dt.date(2024, 1, 5),
            resolve_by=resolve_by,
            published_at=NOW if published else None,
        )

    def resolve(target: Any, outcome: str, *, current: bool = True, supersedes: Any = None) -> Any:
        return Resolution.objects.create(
            forecast=target,
            outcome=outcome,
            known_on=dt.date(2024, 7, 1),
            evidence_note="Seen.",
            is_current=current,
            supersedes=supersedes,
            correction_reason="Misread." if supersedes else "",
        )

    Tag = old.get_model("forecasts", "Tag")
    tag = Tag.objects.create(name="Topic", slug="topic")
    forecast("draft", dt.date(2024, 6, 30), published=False).tags.add(tag)
    forecast("due", dt.date(2024, 6, 30)).tags.add(tag)
    forecast("due-too", dt.date(2024, 6, 30)).tags.add(tag)
    forecast("open", dt.date(2030, 1, 1))
    resolve(forecast("yes", dt.date(2024, 6, 30)), "YES")
    resolve(forecast("annulled", dt.date(2024, 6, 30)), "ANNULLED")
    corrected = forecast("corrected", dt.date(2024, 6, 30))
    resolve(corrected, "NO", supersedes=resolve(corrected, "YES", current=False))

    new = _migrate(AFTER)
    outcomes = dict(
        new.get_model("forecasts", "Forecast").objects.values_list("slug", "current_outcome")
    )
    assert outcomes == {
        "draft": None,
        "due": None,
        "due-too": None,
        "open": None,
        "yes": "YES",
        "annulled": "ANNULLED",
        "corrected": "NO",
    }
    assert counts_stored() == counts_recount()
    assert counts_stored() == (
        {"draft": 1, "unresolved": 3, "resolved": 2, "annulled": 1},
        {dt.date(2024, 6, 30): 2, dt.date(2030, 1, 1): 1},
        {("forecaster", pundit.pk): 6, ("source", source.pk): 6, ("tag", tag.pk): 2},
    )
    installed = _installed()
    assert set(count_triggers.TRIGGER_NAMES[connection.vendor]) <= installed
    assert set(record_triggers.TRIGGER_NAMES[connection.vendor]) <= installed


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_reversing_the_migration_keeps_the_records_triggers() -> None:
    _migrate(BEFORE)
    installed = _installed()
    assert not set(count_triggers.TRIGGER_NAMES[connection.vendor]) & installed
    assert set(record_triggers.TRIGGER_NAMES[connection.vendor]) <= installed
