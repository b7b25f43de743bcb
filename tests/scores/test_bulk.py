"""Writing many score rows: an upsert inserts new rows and overwrites the rest, in batches
whose text repeats, each value prepared by its field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from forecasts.scores.bulk import objects_upsert
from forecasts.scores.models import ForecastScore
from tests.factories import ForecastFactory

pytestmark = pytest.mark.django_db


def _score(forecast, *, brier: float, tags: list[int]) -> ForecastScore:
    return ForecastScore(
        forecast_id=forecast.pk,
        forecaster_id=forecast.forecaster_id,
        source_id=forecast.source_id,
        tags=tags,
        probability=0.7,
        phrase="likely",
        happened=True,
        known_on=dt.date(2026, 11, 30),
        brier=brier,
        log_loss=0.3,
        time_averaged_brier=brier,
        updated_at=timezone.now(),
    )


def test_an_upsert_inserts_new_rows_and_overwrites_those_there():
    kept, changed, added = (ForecastFactory() for _ in range(3))
    objects_upsert(
        [_score(kept, brier=0.1, tags=[1]), _score(changed, brier=0.2, tags=[2])],
        conflict="forecast",
    )
    objects_upsert(
        [_score(changed, brier=0.5, tags=[3, 4]), _score(added, brier=0.6, tags=[])],
        conflict="forecast",
    )
    rows = dict(ForecastScore.objects.values_list("forecast_id", "brier"))
    assert rows == {kept.pk: 0.1, changed.pk: 0.5, added.pk: 0.6}
    assert ForecastScore.objects.get(pk=changed.pk).tags == [3, 4]  # JSON, prepared by its field
    assert ForecastScore.objects.get(pk=added.pk).known_on == dt.date(2026, 11, 30)


def test_more_rows_than_a_batch_go_in_batches_of_one_text(django_assert_max_num_queries):
    forecasts = [ForecastFactory() for _ in range(200)]  # 12 columns: batches of 83 rows
    with django_assert_max_num_queries(3) as captured:
        objects_upsert([_score(f, brier=0.25, tags=[f.pk]) for f in forecasts], conflict="forecast")
    assert len(captured.captured_queries) == 3
    assert ForecastScore.objects.count() == 200
    assert sorted(ForecastScore.objects.values_list("tags", flat=True)) == sorted(
        [f.pk] for f in forecasts
    )
    if connection.vendor == "postgresql":  # the full batches' text is prepared once
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements "
                "WHERE statement LIKE 'INSERT INTO \"forecasts_forecastscore\"%%'"
            )
            assert cursor.fetchone()[0] == 2  # 83 rows, and the last 34
