"""The GIN index full-text searches of the statements use (PostgreSQL only).

It holds :func:`forecasts.core.search.statement_vector`, written out here as migrations
are (frozen: a later change of that function needs a new migration), and a query uses
it only while the two expressions are the same: ``tests/web/test_forecast_search.py``
asks PostgreSQL's planner. SQLite has no GIN index and searches by substring, so the
operation does nothing there. The index is not in the model's ``Meta``: SQLite rebuilds
a table with every index of its model state, and would be asked for a GIN index then.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = GinIndex(SearchVector("statement", config="english"), name="forecast_statement_search")


def _on_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def add_index(apps, schema_editor):
    if _on_postgresql(schema_editor):
        schema_editor.add_index(apps.get_model("forecasts", "Forecast"), INDEX)


def remove_index(apps, schema_editor):
    if _on_postgresql(schema_editor):
        schema_editor.remove_index(apps.get_model("forecasts", "Forecast"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("forecasts", "0018_digest_deliveries_plural")]

    operations = [migrations.RunPython(add_index, remove_index, elidable=False)]
