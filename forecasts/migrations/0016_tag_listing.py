"""Any page of a tag's, forecaster's or source's forecasts is one index range (issue 15).

- ``forecasts_publishedtaglisting``: each published forecast under each of its tags,
  with its deadline, kept by triggers on the tag links (a tag given or taken) and on
  the forecasts (published, unpublished never, a deadline extended). A tag's page reads
  a range of ``(tag_id, resolve_by, forecast_id)``; before, it walked every forecast by
  deadline until 50 carried the tag, the whole table for a rare tag. On PostgreSQL the
  triggers are statement triggers over transition tables (a bulk insert of synthetic
  links is one INSERT … SELECT); on SQLite, row triggers.
- The partial indexes of published forecasts by forecaster and by source gain the
  pages' order (deadline; position of the quote in the source), so their pages too are
  a range instead of a sort of every forecast of the scope.

The listing is backfilled from the rows before the triggers are installed; ``verify_ledger``
compares it with the links (forecasts.core.counts.tag_listings_derived).
"""

# The SQL is built from this file's constants only, never from input.
# ruff: noqa: S608

from django.conf import settings
from django.db import migrations, models

FORECAST = "forecasts_forecast"
LINKS = "forecasts_forecast_tags"
LISTING = "forecasts_publishedtaglisting"

BACKFILL = [
    f"INSERT INTO {LISTING} (tag_id, forecast_id, resolve_by) "
    f"SELECT l.tag_id, l.forecast_id, f.resolve_by FROM {LINKS} l "
    f"JOIN {FORECAST} f ON f.id = l.forecast_id WHERE f.published_at IS NOT NULL",
]

# --- PostgreSQL -------------------------------------------------------------------


def _pg_trigger(table: str, event: str, name: str, body: str) -> list[str]:
    referencing = {
        "INSERT": "REFERENCING NEW TABLE AS new_rows",
        "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "REFERENCING OLD TABLE AS old_rows",
        "TRUNCATE": "",
    }[event]
    return [
        f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {body}
            RETURN NULL;
        END $$
        """,
        f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


def _pg_list(links: str) -> str:
    """List the published forecasts of ``links`` (rows of tag_id, forecast_id)."""
    return (
        f"INSERT INTO {LISTING} (tag_id, forecast_id, resolve_by) "
        f"SELECT l.tag_id, l.forecast_id, f.resolve_by FROM {links} l "
        f"JOIN {FORECAST} f ON f.id = l.forecast_id WHERE f.published_at IS NOT NULL;"
    )


def _pg_unlist(links: str) -> str:
    return (
        f"DELETE FROM {LISTING} t USING {links} l "
        "WHERE t.tag_id = l.tag_id AND t.forecast_id = l.forecast_id;"
    )


# The forecasts whose listing an UPDATE changes: published or unpublished, or given
# another deadline (every other update, the common kind, lists nothing).
CHANGED = (
    "SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id "
    "WHERE (n.published_at IS NULL) <> (o.published_at IS NULL) "
    "OR n.resolve_by <> o.resolve_by"
)

POSTGRESQL = [
    *_pg_trigger(LINKS, "INSERT", "forecasts_listing_link_insert", _pg_list("new_rows")),
    *_pg_trigger(
        LINKS,
        "UPDATE",
        "forecasts_listing_link_update",
        _pg_unlist("old_rows") + " " + _pg_list("new_rows"),
    ),
    *_pg_trigger(LINKS, "DELETE", "forecasts_listing_link_delete", _pg_unlist("old_rows")),
    *_pg_trigger(LINKS, "TRUNCATE", "forecasts_listing_link_truncate", f"DELETE FROM {LISTING};"),
    *_pg_trigger(
        FORECAST,
        "UPDATE",
        "forecasts_listing_forecast_update",
        f"DELETE FROM {LISTING} WHERE forecast_id IN ({CHANGED}); "
        + _pg_list(f"(SELECT * FROM {LINKS} WHERE forecast_id IN ({CHANGED}))"),
    ),
]

PG_TRIGGERS = [
    (LINKS, "forecasts_listing_link_insert"),
    (LINKS, "forecasts_listing_link_update"),
    (LINKS, "forecasts_listing_link_delete"),
    (LINKS, "forecasts_listing_link_truncate"),
    (FORECAST, "forecasts_listing_forecast_update"),
]

POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {name} ON {table}" for table, name in PG_TRIGGERS),
    *(f"DROP FUNCTION IF EXISTS {name}()" for _, name in PG_TRIGGERS),
]

# --- SQLite -------------------------------------------------------------------------


def _sqlite_published(forecast_id: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM {FORECAST} WHERE id = {forecast_id} AND published_at IS NOT NULL)"
    )


SQLITE_TRIGGERS = [
    (
        "forecasts_listing_link_insert",
        f"AFTER INSERT ON {LINKS} FOR EACH ROW WHEN {_sqlite_published('NEW.forecast_id')}",
        f"INSERT INTO {LISTING} (tag_id, forecast_id, resolve_by) "
        f"SELECT NEW.tag_id, NEW.forecast_id, resolve_by FROM {FORECAST} "
        "WHERE id = NEW.forecast_id;",
    ),
    (
        "forecasts_listing_link_update",
        f"AFTER UPDATE ON {LINKS} FOR EACH ROW",
        f"DELETE FROM {LISTING} WHERE tag_id = OLD.tag_id AND forecast_id = OLD.forecast_id; "
        f"INSERT INTO {LISTING} (tag_id, forecast_id, resolve_by) "
        f"SELECT NEW.tag_id, NEW.forecast_id, resolve_by FROM {FORECAST} "
        "WHERE id = NEW.forecast_id AND published_at IS NOT NULL;",
    ),
    (
        "forecasts_listing_link_delete",
        f"AFTER DELETE ON {LINKS} FOR EACH ROW",
        f"DELETE FROM {LISTING} WHERE tag_id = OLD.tag_id AND forecast_id = OLD.forecast_id;",
    ),
    (
        "forecasts_listing_forecast_update",
        f"AFTER UPDATE OF published_at, resolve_by ON {FORECAST} FOR EACH ROW "
        "WHEN (NEW.published_at IS NULL) <> (OLD.published_at IS NULL) "
        "OR NEW.resolve_by <> OLD.resolve_by",
        f"DELETE FROM {LISTING} WHERE forecast_id = OLD.id; "
        f"INSERT INTO {LISTING} (tag_id, forecast_id, resolve_by) "
        f"SELECT tag_id, NEW.id, NEW.resolve_by FROM {LINKS} "
        "WHERE forecast_id = NEW.id AND NEW.published_at IS NOT NULL;",
    ),
]

SQLITE = [f"CREATE TRIGGER {name} {when} BEGIN {body} END" for name, when, body in SQLITE_TRIGGERS]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS {name}" for name, *_ in SQLITE_TRIGGERS]

#: The triggers' names, per backend (the tests check they are installed).
TRIGGER_NAMES = {
    "postgresql": [name for _, name in PG_TRIGGERS],
    "sqlite": [name for name, *_ in SQLITE_TRIGGERS],
}

STATEMENTS = {"postgresql": (POSTGRESQL, POSTGRESQL_REVERSE), "sqlite": (SQLITE, SQLITE_REVERSE)}


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        return
    for statement in [*BACKFILL, *STATEMENTS[vendor][0]]:
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    _, reverse = STATEMENTS.get(schema_editor.connection.vendor, ((), ()))
    for statement in reverse:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("forecasts", "0015_forecast_current_outcome"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PublishedTagListing",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("tag_id", models.BigIntegerField()),
                ("forecast_id", models.BigIntegerField()),
                ("resolve_by", models.DateField()),
            ],
        ),
        migrations.RemoveIndex(
            model_name="forecast",
            name="forecast_published_forecaster",
        ),
        migrations.RemoveIndex(
            model_name="forecast",
            name="forecast_published_source",
        ),
        migrations.AddIndex(
            model_name="forecast",
            index=models.Index(
                condition=models.Q(("published_at__isnull", False)),
                fields=["forecaster", "resolve_by", "id"],
                name="forecast_forecaster_deadline",
            ),
        ),
        migrations.AddIndex(
            model_name="forecast",
            index=models.Index(
                condition=models.Q(("published_at__isnull", False)),
                fields=["source", "quote_start", "id"],
                name="forecast_source_quote_order",
            ),
        ),
        migrations.AddIndex(
            model_name="publishedtaglisting",
            index=models.Index(
                fields=["tag_id", "resolve_by", "forecast_id"], name="tag_listing_by_deadline"
            ),
        ),
        migrations.AddConstraint(
            model_name="publishedtaglisting",
            constraint=models.UniqueConstraint(
                fields=("tag_id", "forecast_id"), name="tag_listing_once"
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
