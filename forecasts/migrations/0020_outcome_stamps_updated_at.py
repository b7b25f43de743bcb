"""The triggers that set a forecast's current outcome (0015) stamp its ``updated_at`` too.

A resolution, correction or annulment inserts a resolution row (and a correction first
marks the one it supersedes as no longer current); the triggers then set the forecast's
``current_outcome`` in the same statement. ``forecast_resolve`` used to update the
forecast row once more, for ``updated_at`` alone: a second new version of the widest
row, its statement triggers run again, on every resolution's commit. Now the same
update that sets the outcome stamps the time (the transaction's time on PostgreSQL, as
``now()`` gives it; the statement's on SQLite), and the service writes the row once.

Only the three "follow" triggers change; their names stay, so the tests that list the
installed triggers (tests/core/test_counts.py) still find them.
"""

# The SQL is built from this file's and migration 0015's constants only, never from input.
# ruff: noqa: S608
import importlib

from django.db import migrations

outcome = importlib.import_module("forecasts.migrations.0015_forecast_current_outcome")

FORECAST = outcome.FORECAST
RESOLUTION = outcome.RESOLUTION
# The rows each PostgreSQL trigger reads its forecast ids from, as 0015 has them.
PG_ROWS = {
    "INSERT": "SELECT forecast_id FROM new_rows",
    "UPDATE": "SELECT forecast_id FROM old_rows UNION ALL SELECT forecast_id FROM new_rows",
    "DELETE": "SELECT forecast_id FROM old_rows",
}
# SQLite keeps datetimes as text in this form (Django's own, in UTC).
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _pg_function(event: str, *, stamped: bool) -> str:
    """The follow function of 0015 for ``event``, replaced in place (``stamped``: with
    ``updated_at`` set by the same update)."""
    created = outcome._pg_follow(event, PG_ROWS[event])[0]
    assert "SET current_outcome = t.outcome" in created  # noqa: S101  # 0015's own text
    if stamped:
        created = created.replace(
            "SET current_outcome = t.outcome", "SET current_outcome = t.outcome, updated_at = now()"
        )
    return created.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def _sqlite_follow(forecast_id: str) -> str:
    current = outcome._current(forecast_id)
    return (
        f"UPDATE {FORECAST} SET current_outcome = {current}, updated_at = {SQLITE_NOW} "
        f"WHERE id = {forecast_id} AND current_outcome IS NOT {current};"
    )


SQLITE_FOLLOW = [
    (
        f"{RESOLUTION}_outcome_insert",
        f"AFTER INSERT ON {RESOLUTION} FOR EACH ROW",
        _sqlite_follow("NEW.forecast_id"),
    ),
    (
        f"{RESOLUTION}_outcome_update",
        f"AFTER UPDATE ON {RESOLUTION} FOR EACH ROW",
        _sqlite_follow("OLD.forecast_id") + " " + _sqlite_follow("NEW.forecast_id"),
    ),
    (
        f"{RESOLUTION}_outcome_delete",
        f"AFTER DELETE ON {RESOLUTION} FOR EACH ROW",
        _sqlite_follow("OLD.forecast_id"),
    ),
]
SQLITE_NAMES = [name for name, *_ in SQLITE_FOLLOW]
SQLITE_BEFORE = [trigger for trigger in outcome.SQLITE_TRIGGERS if trigger[0] in SQLITE_NAMES]


def _sqlite(triggers: list[tuple[str, str, str]]) -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name, *_ in triggers),
        *(f"CREATE TRIGGER {name} {when} BEGIN {body} END" for name, when, body in triggers),
    ]


STATEMENTS = {
    "postgresql": (
        [_pg_function(event, stamped=True) for event in PG_ROWS],
        [_pg_function(event, stamped=False) for event in PG_ROWS],
    ),
    "sqlite": (_sqlite(SQLITE_FOLLOW), _sqlite(SQLITE_BEFORE)),
}


def _run(index: int):
    def run(apps, schema_editor):
        statements = STATEMENTS.get(schema_editor.connection.vendor)
        for statement in statements[index] if statements else ():
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("forecasts", "0019_forecast_search"),
    ]

    operations = [
        migrations.RunPython(_run(0), _run(1)),
    ]
