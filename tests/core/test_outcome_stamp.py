"""A resolution's triggers stamp the forecast's updated_at in the statement that sets its
current outcome (migration 0020), so forecast_resolve writes the forecast row once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forecasts.core import services
from forecasts.core.models import Forecast, Outcome
from tests.factories import ForecastFactory

pytestmark = pytest.mark.django_db

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _aged(forecast: Forecast) -> None:
    Forecast.objects.filter(pk=forecast.pk).update(updated_at=LONG_AGO)


def _forecast_updates(captured: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in captured.captured_queries if 'UPDATE "forecasts_forecast"' in q["sql"]
    ]


@pytest.mark.parametrize(
    ("first", "then"), [(Outcome.YES, Outcome.NO), (Outcome.ANNULLED, Outcome.YES)]
)
def test_resolving_and_correcting_stamp_the_forecast_without_a_second_update(first, then):
    forecast = ForecastFactory(made_on=dt.date(2025, 1, 10), resolve_by=dt.date(2025, 6, 1))
    _aged(forecast)
    began = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        services.forecast_resolve(
            forecast=forecast, outcome=first, known_on=dt.date(2025, 6, 2), note="Seen."
        )
    stored = Forecast.objects.get(pk=forecast.pk)
    assert stored.current_outcome == first
    # The database's clock (the transaction's time on PostgreSQL): within this test's run.
    assert began - dt.timedelta(seconds=5) <= stored.updated_at <= timezone.now()
    assert _forecast_updates(captured) == []  # the service no longer updates it itself

    _aged(forecast)
    with CaptureQueriesContext(connection) as captured:
        services.forecast_resolve(
            forecast=stored,
            outcome=then,
            known_on=dt.date(2025, 6, 3),
            note="Seen again.",
            correction_reason="The first report was wrong.",
        )
    corrected = Forecast.objects.get(pk=forecast.pk)
    assert corrected.current_outcome == then
    assert corrected.updated_at > LONG_AGO + dt.timedelta(days=365)
    assert _forecast_updates(captured) == []


def test_a_deadline_extension_still_stamps_the_forecast_itself():
    forecast = ForecastFactory(made_on=dt.date(2025, 1, 10), resolve_by=dt.date(2025, 6, 1))
    _aged(forecast)
    services.forecast_extend(
        forecast=forecast,
        new_resolve_by=dt.date(2030, 1, 1),
        reason="Not yet knowable.",
        extended_by=None,
    )
    assert Forecast.objects.get(pk=forecast.pk).updated_at > LONG_AGO + dt.timedelta(days=365)
