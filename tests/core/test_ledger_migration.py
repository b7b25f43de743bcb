"""Migration 0011 builds the ledger from the rows an existing database already holds."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from forecasts.core.ledger.canonical import GENESIS_HASH, canonical_json, chain_hash

BEFORE = [("forecasts", "0010_review_prompt_failed_at")]
AFTER = [("forecasts", "0011_record_ledger")]
UTC = dt.UTC


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest() -> Any:
    """Leave the database fully migrated (later migrations add what the flush uses)."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_the_ledger_is_built_from_stored_rows_in_time_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = _migrate(BEFORE)
    Source = old.get_model("forecasts", "Source")
    Forecaster = old.get_model("forecasts", "Forecaster")
    Forecast = old.get_model("forecasts", "Forecast")
    Estimate = old.get_model("forecasts", "Estimate")
    Resolution = old.get_model("forecasts", "Resolution")
    Extension = old.get_model("forecasts", "DeadlineExtension")
    source = Source.objects.create(key="s", title="An article", published_on=dt.date(2024, 1, 5))
    pundit = Forecaster.objects.create(name="A pundit", slug="a-pundit")

    def forecast(slug: str, published_at: dt.datetime | None, **extra: Any) -> Any:
        return Forecast.objects.create(
            slug=slug,
            source=source,
            forecaster=pundit,
            statement=f"{slug} happens.",
            resolution_criteria="YES if it happens.",
            made_on=dt.date(2024, 1, 5),
            resolve_by=dt.date(2024, 6, 30),
            published_at=published_at,
            **extra,
        )

    published = forecast("early", dt.datetime(2024, 1, 6, 9, tzinfo=UTC))
    later = forecast("later", dt.datetime(2024, 2, 1, 9, tzinfo=UTC))
    draft = forecast("draft", None)
    # Back-dated: recorded in March, dated at publication (before the rule existed).
    Estimate.objects.create(
        forecast=published,
        probability=0.7,
        basis="number",
        made_on=dt.date(2024, 1, 5),
        created_at=dt.datetime(2024, 3, 1, tzinfo=UTC),
    )
    Estimate.objects.create(
        forecast=published,
        probability=0.8,
        basis="number",
        made_on=dt.date(2024, 4, 2),
        created_at=dt.datetime(2024, 4, 2, 10, tzinfo=UTC),
    )
    Estimate.objects.create(
        forecast=later,
        probability=0.4,
        basis="number",
        made_on=dt.date(2024, 2, 1),
        created_at=dt.datetime(2024, 2, 1, 9, tzinfo=UTC),
    )
    Estimate.objects.create(
        forecast=draft, probability=0.5, basis="number", made_on=dt.date(2024, 1, 5)
    )
    Extension.objects.create(
        forecast=later,
        previous_resolve_by=dt.date(2024, 5, 31),
        new_resolve_by=dt.date(2024, 6, 30),
        reason="Not yet knowable.",
        extended_at=dt.datetime(2024, 5, 20, tzinfo=UTC),
    )
    first = Resolution.objects.create(
        forecast=published,
        outcome="YES",
        known_on=dt.date(2024, 6, 1),
        evidence_note="Reported.",
        resolved_at=dt.datetime(2024, 6, 2, tzinfo=UTC),
        is_current=False,
    )
    Resolution.objects.create(
        forecast=published,
        outcome="NO",
        known_on=dt.date(2024, 6, 1),
        evidence_note="Misread.",
        resolved_at=dt.datetime(2024, 7, 1, tzinfo=UTC),
        supersedes=first,
        correction_reason="The report was wrong.",
    )

    new = _migrate(AFTER)

    out = capsys.readouterr().out
    assert "ledger: wrote 6 entries from the stored rows" in out
    Entry = new.get_model("forecasts", "LedgerEntry")
    entries = list(Entry.objects.filter(chain="record").order_by("seq"))
    assert [(e.kind, e.forecast_id) for e in entries] == [
        ("publication", published.pk),
        ("publication", later.pk),
        ("estimate", published.pk),
        ("extension", later.pk),
        ("resolution", published.pk),
        ("correction", published.pk),
    ]
    previous = GENESIS_HASH
    for seq, entry in enumerate(entries, start=1):
        document = json.loads(entry.payload)
        assert entry.seq == seq == document["seq"]
        assert canonical_json(document) == entry.payload
        assert entry.hash == chain_hash(previous, entry.payload)
        assert document["event"]["from_existing_rows"] is True
        previous = entry.hash
    head = new.get_model("forecasts", "LedgerHead").objects.get(chain="record")
    assert (head.seq, head.hash) == (6, previous)
    # The publication carries the estimate standing then, and the deadline before the
    # extension; the back-dated estimate is marked historical.
    publication = json.loads(entries[0].payload)["event"]
    assert [e["probability"] for e in publication["estimates"]] == [0.7]
    assert publication["estimates"][0]["historical"] is True
    assert json.loads(entries[1].payload)["event"]["terms"]["resolve_by"] == "2024-05-31"
    assert not Entry.objects.filter(forecast_id=draft.pk).exists()
