"""Queries compiled once answer as the ORM's own query does, for any values, and a query
that does not pass its values as parameters is refused."""

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.expressions import RawSQL

from forecasts.core.compiled import CompiledQuery
from forecasts.core.models import Forecast
from tests.conftest import require_postgresql
from tests.factories import ForecastFactory

pytestmark = pytest.mark.django_db


def _of_source(*, ids, source_id):
    return (
        Forecast.objects.filter(pk__in=ids, source_id=source_id)
        .order_by("pk")
        .values_list("pk", "slug")
    )


def test_answers_as_the_orm_for_other_values_and_lengths():
    forecasts = [ForecastFactory() for _ in range(4)]
    shared = ForecastFactory(source=forecasts[0].source)
    query = CompiledQuery(_of_source)
    cases = [
        ([forecasts[0].pk], forecasts[0].source_id),
        ([forecasts[1].pk], forecasts[1].source_id),
        ([forecasts[0].pk, shared.pk, forecasts[2].pk], forecasts[0].source_id),
        ([shared.pk, forecasts[3].pk], forecasts[3].source_id),
        ([forecasts[1].pk], forecasts[0].source_id),  # no row
    ]
    for ids, source_id in cases:
        expected = list(_of_source(ids=ids, source_id=source_id))
        assert query.execute(ids=ids, source_id=source_id) == expected
    assert len(query._compiled) == 3  # one per shape: 1, 3 and 2 ids


def test_an_existence_check_compiles():
    forecast = ForecastFactory()
    query = CompiledQuery(lambda *, pk: Forecast.objects.filter(pk=pk).query.exists())
    assert query.execute(pk=forecast.pk)
    assert not query.execute(pk=forecast.pk + 1000)


def test_a_value_written_into_the_sql_is_refused():
    def inlined(*, pk):
        # The id as SQL text, as a careless query would write it (int: no injection).
        return Forecast.objects.filter(pk=RawSQL(str(int(pk)), [])).values_list("pk")  # noqa: S611

    with pytest.raises(ValueError, match="does not pass every value as a parameter"):
        CompiledQuery(inlined).execute(pk=ForecastFactory().pk)


def test_a_value_left_unused_is_refused():
    def ignores(*, pk, source_id):
        return Forecast.objects.filter(pk=pk).annotate(s=F("source_id") + Value(0))

    with pytest.raises(ValueError, match="source_id"):
        CompiledQuery(ignores).execute(pk=1, source_id=2)


def _prepared_statements():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_postgresql_plans_a_compiled_query_once_per_connection(django_assert_num_queries):
    require_postgresql("prepared statements are PostgreSQL's")
    forecasts = [ForecastFactory() for _ in range(3)]
    query = CompiledQuery(_of_source)
    before = _prepared_statements()
    for forecast in forecasts:  # other values, the same statement
        with django_assert_num_queries(1) as captured:  # seen as Django's own queries are
            rows = query.execute(ids=[forecast.pk], source_id=forecast.source_id)
        assert rows == [(forecast.pk, forecast.slug)]
        # Logged with its values written in, as Django logs its own.
        logged = captured.captured_queries[0]["sql"]
        assert f'"forecasts_forecast"."id" IN ({forecast.pk})' in logged
        assert f'"forecasts_forecast"."source_id" = {forecast.source_id}' in logged
    added = [text for text in _prepared_statements() if text not in before]
    assert len(added) == 1
    assert '"forecasts_forecast"' in added[0]
    # The values are bound, not written in.
    assert "$1" in added[0]
    assert "$2" in added[0]


def test_without_prepared_statements_a_compiled_query_still_answers():
    require_postgresql("prepared statements are PostgreSQL's")
    forecast = ForecastFactory()
    threshold = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None  # DATABASE_PREPARED_STATEMENTS=0
    try:
        before = _prepared_statements()
        query = CompiledQuery(_of_source)
        assert query.execute(ids=[forecast.pk], source_id=forecast.source_id) == [
            (forecast.pk, forecast.slug)
        ]
        assert _prepared_statements() == before
    finally:
        connection.connection.prepare_threshold = threshold


def test_a_long_list_is_bound_on_the_client_past_the_servers_parameter_limit():
    require_postgresql("the limit is on statements bound on the server")
    forecast = ForecastFactory()
    query = CompiledQuery(_of_source)
    # More ids than a statement bound on the server may carry (65,535 parameters).
    ids = [forecast.pk, *range(10**9, 10**9 + 70_000)]
    before = _prepared_statements()
    assert query.execute(ids=ids, source_id=forecast.source_id) == [(forecast.pk, forecast.slug)]
    assert _prepared_statements() == before


def test_converted_rows_are_the_orms_dates_booleans_and_json():
    from forecasts.scores.models import ScopeKind, ScoreSnapshot

    forecast = ForecastFactory(synthetic=True)
    columns = ("pk", "made_on", "resolve_by", "synthetic", "published_at")
    query = CompiledQuery(
        lambda *, pk: Forecast.objects.filter(pk=pk).values_list(*columns), converted=True
    )
    expected = list(Forecast.objects.filter(pk=forecast.pk).values_list(*columns))
    assert query.execute(pk=forecast.pk) == expected
    made_on, synthetic = expected[0][1], expected[0][3]
    assert (made_on, synthetic) == (forecast.made_on, True)  # a date and a bool, on SQLite too

    snapshot = ScoreSnapshot.objects.create(
        scope_kind=ScopeKind.ALL,
        as_of=forecast.made_on,
        resolved_count=1,
        yes_count=1,
        calibration=[{"count": 1, "lower": 0.9}],
        murphy={"reliability": 0.01},
    )
    json_query = CompiledQuery(
        lambda *, pk: ScoreSnapshot.objects.filter(pk=pk).values_list("calibration", "murphy"),
        converted=True,
    )
    assert json_query.execute(pk=snapshot.pk) == [
        ([{"count": 1, "lower": 0.9}], {"reliability": 0.01})
    ]
