"""The seed enters through the audited historical import, and its ledger says so."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from forecasts.core import seed_data
from forecasts.core.ledger.models import LedgerEntry
from forecasts.models import Estimate, Forecast

pytestmark = pytest.mark.django_db


def test_the_seed_estimates_keep_their_october_2019_date_marked_historical(seeded):
    estimates = Estimate.objects.filter(forecast__source__key=seed_data.SOURCE["key"])
    assert estimates.count() == len(seed_data.FORECASTS)
    assert set(estimates.values_list("made_on", flat=True)) == {dt.date(2019, 10, 15)}
    assert all(estimates.values_list("historical", flat=True))


def test_each_seed_publication_is_on_the_ledger_as_the_historical_import(seeded):
    publications = LedgerEntry.objects.filter(kind="publication", chain="record")
    assert publications.count() == Forecast.objects.count() == len(seed_data.FORECASTS)
    for entry in publications:
        document = json.loads(entry.payload)
        assert document["actor"] == entry.actor == "import"
        assert document["event"]["historical_import"] == seed_data.IMPORT_REASON
        [estimate] = document["event"]["estimates"]
        assert estimate["made_on"] == "2019-10-15"
        assert estimate["historical"] is True
    resolved = sum(item.resolution is not None for item in seed_data.FORECASTS)
    assert LedgerEntry.objects.filter(kind="resolution").count() == resolved
