"""The database refuses what no service does to the record (see forecasts/core/permits.py).

PostgreSQL: one trigger function per guarded table. SQLite: the same rules as
``RAISE(ABORT)`` triggers. Both read the permits the services open in
``forecasts_writepermit``, a table no model maps (so a flush leaves it alone).

The quote's offsets are not guarded: they are where the quote stands in its source's
stored text, and follow that text when it is corrected (source_text_attach); the quote
itself is a term.

SQLite drops a table's triggers when Django rebuilds the table to alter it: a later
migration that alters one of these tables must install them again
(tests/core/test_record_triggers.py checks they are all there).
"""

# The SQL is built from this file's constants only, never from input.
# ruff: noqa: S608

from django.db import migrations

PREFIX = "append-only record: "

FORECAST_DELETED = "a published forecast is never deleted."
FORECAST_FIXED = "a published forecast's slug, publication time and synthetic flag never change."
TERMS = (
    "a published forecast's terms change only by a recorded amendment with a reason "
    "(Amend terms, forecast_amend)."
)
DEADLINE = (
    "a published forecast's deadline moves only by a recorded extension "
    "(Extend deadline, forecast_extend)."
)
ESTIMATE_CHANGED = "an estimate is never changed: record a new one."
ESTIMATE_DELETED = "a published forecast's estimates are never deleted."
RESOLUTION_CHANGED = (
    "a resolution is never changed: a correction is a new resolution that supersedes it."
)
RESOLUTION_DELETED = "a resolution is never deleted."
AMENDMENT = "an amendment is never changed nor deleted."
EXTENSION = "a deadline extension is never changed nor deleted."
LEDGER = "a ledger entry is never changed nor deleted."

TERM_COLUMNS = (
    "statement",
    "quote",
    '"condition"',
    "resolution_criteria",
    "made_on",
    "made_on_precision",
    "forecaster_id",
    "source_id",
)
RESOLUTION_COLUMNS = (
    "id",
    "forecast_id",
    "outcome",
    "known_on",
    "evidence_url",
    "evidence_note",
    "resolved_by_id",
    "resolved_at",
    "supersedes_id",
    "correction_reason",
)

TRIGGERED = {
    "forecasts_forecast": ("UPDATE", "DELETE"),
    "forecasts_estimate": ("UPDATE", "DELETE"),
    "forecasts_resolution": ("UPDATE", "DELETE"),
    "forecasts_forecastamendment": ("UPDATE", "DELETE"),
    "forecasts_deadlineextension": ("UPDATE", "DELETE"),
    "forecasts_ledgerentry": ("UPDATE", "DELETE"),
}


def _q(text: str) -> str:
    return "'" + (PREFIX + text).replace("'", "''") + "'"


def _row(prefix: str, columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"{prefix}.{column}" for column in columns) + ")"


# --- PostgreSQL -------------------------------------------------------------------

POSTGRESQL = [
    "CREATE TABLE forecasts_writepermit (forecast_id bigint NOT NULL, kind varchar(10) NOT NULL)",
    "CREATE INDEX forecasts_writepermit_forecast ON forecasts_writepermit (forecast_id, kind)",
    """
    CREATE FUNCTION forecasts_permitted(fid bigint, permit text) RETURNS boolean
    LANGUAGE sql STABLE AS $$
        SELECT EXISTS (SELECT 1 FROM forecasts_writepermit WHERE forecast_id = fid AND kind = permit)
    $$
    """,
    """
    CREATE FUNCTION forecasts_refuse(message text) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '%', message USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    f"""
    CREATE FUNCTION forecasts_forecast_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.published_at IS NULL THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN
            IF NOT OLD.synthetic THEN PERFORM forecasts_refuse({_q(FORECAST_DELETED)}); END IF;
            RETURN OLD;
        END IF;
        IF (NEW.id, NEW.slug, NEW.published_at, NEW.synthetic)
            IS DISTINCT FROM (OLD.id, OLD.slug, OLD.published_at, OLD.synthetic) THEN
            PERFORM forecasts_refuse({_q(FORECAST_FIXED)});
        END IF;
        IF {_row("NEW", TERM_COLUMNS)} IS DISTINCT FROM {_row("OLD", TERM_COLUMNS)}
            AND NOT forecasts_permitted(OLD.id, 'amend') THEN
            PERFORM forecasts_refuse({_q(TERMS)});
        END IF;
        IF (NEW.resolve_by, NEW.resolve_by_note) IS DISTINCT FROM (OLD.resolve_by, OLD.resolve_by_note)
            AND NOT forecasts_permitted(OLD.id, 'extend') THEN
            PERFORM forecasts_refuse({_q(DEADLINE)});
        END IF;
        RETURN NEW;
    END $$
    """,
    f"""
    CREATE FUNCTION forecasts_estimate_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN PERFORM forecasts_refuse({_q(ESTIMATE_CHANGED)}); END IF;
        IF EXISTS (SELECT 1 FROM forecasts_forecast f WHERE f.id = OLD.forecast_id
                   AND f.published_at IS NOT NULL AND NOT f.synthetic) THEN
            PERFORM forecasts_refuse({_q(ESTIMATE_DELETED)});
        END IF;
        RETURN OLD;
    END $$
    """,
    f"""
    CREATE FUNCTION forecasts_resolution_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM forecasts_forecast f WHERE f.id = OLD.forecast_id AND f.synthetic) THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        IF TG_OP = 'DELETE' THEN PERFORM forecasts_refuse({_q(RESOLUTION_DELETED)}); END IF;
        IF OLD.is_current AND NOT NEW.is_current
            AND {_row("NEW", RESOLUTION_COLUMNS)} IS NOT DISTINCT FROM {_row("OLD", RESOLUTION_COLUMNS)}
            AND forecasts_permitted(OLD.forecast_id, 'correct') THEN
            RETURN NEW;
        END IF;
        PERFORM forecasts_refuse({_q(RESOLUTION_CHANGED)});
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION forecasts_history_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND EXISTS (
            SELECT 1 FROM forecasts_forecast f WHERE f.id = OLD.forecast_id AND f.synthetic
        ) THEN
            RETURN OLD;
        END IF;
        PERFORM forecasts_refuse(TG_ARGV[0]);
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE FUNCTION forecasts_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND OLD.chain = 'synthetic' THEN RETURN OLD; END IF;
        PERFORM forecasts_refuse({_q(LEDGER)});
        RETURN NULL;
    END $$
    """,
    *(
        f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}({argument})"
        for table, function, argument in (
            ("forecasts_forecast", "forecasts_forecast_guard", ""),
            ("forecasts_estimate", "forecasts_estimate_guard", ""),
            ("forecasts_resolution", "forecasts_resolution_guard", ""),
            ("forecasts_forecastamendment", "forecasts_history_guard", _q(AMENDMENT)),
            ("forecasts_deadlineextension", "forecasts_history_guard", _q(EXTENSION)),
            ("forecasts_ledgerentry", "forecasts_ledger_guard", ""),
        )
    ),
]

POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}" for table in TRIGGERED),
    *(
        f"DROP FUNCTION IF EXISTS {function}"
        for function in (
            "forecasts_forecast_guard()",
            "forecasts_estimate_guard()",
            "forecasts_resolution_guard()",
            "forecasts_history_guard()",
            "forecasts_ledger_guard()",
            "forecasts_refuse(text)",
            "forecasts_permitted(bigint, text)",
        )
    ),
    "DROP TABLE IF EXISTS forecasts_writepermit",
]

# --- SQLite -----------------------------------------------------------------------

FLUSHING = "EXISTS (SELECT 1 FROM forecasts_writepermit WHERE kind = 'flush')"
SYNTHETIC_FORECAST = (
    "EXISTS (SELECT 1 FROM forecasts_forecast f WHERE f.id = OLD.forecast_id AND f.synthetic)"
)


def _permitted(permit: str, forecast: str = "OLD.id") -> str:
    return (
        f"EXISTS (SELECT 1 FROM forecasts_writepermit "
        f"WHERE forecast_id = {forecast} AND kind = '{permit}')"
    )


def _differs(columns: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns) + ")"


def _same(columns: tuple[str, ...]) -> str:
    return "(" + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in columns) + ")"


def _sqlite_trigger(name: str, event: str, table: str, when: str, message: str) -> str:
    condition = f" WHEN {when}" if when else ""
    return (
        f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW{condition} "
        f"BEGIN SELECT RAISE(ABORT, {_q(message)}); END"
    )


SQLITE_TRIGGERS = [
    (
        "forecasts_forecast_no_delete",
        "DELETE",
        "forecasts_forecast",
        f"OLD.published_at IS NOT NULL AND NOT OLD.synthetic AND NOT {FLUSHING}",
        FORECAST_DELETED,
    ),
    (
        "forecasts_forecast_fixed",
        "UPDATE",
        "forecasts_forecast",
        "OLD.published_at IS NOT NULL AND " + _differs(("id", "slug", "published_at", "synthetic")),
        FORECAST_FIXED,
    ),
    (
        "forecasts_forecast_terms",
        "UPDATE",
        "forecasts_forecast",
        f"OLD.published_at IS NOT NULL AND {_differs(TERM_COLUMNS)} AND NOT {_permitted('amend')}",
        TERMS,
    ),
    (
        "forecasts_forecast_deadline",
        "UPDATE",
        "forecasts_forecast",
        f"OLD.published_at IS NOT NULL AND {_differs(('resolve_by', 'resolve_by_note'))} "
        f"AND NOT {_permitted('extend')}",
        DEADLINE,
    ),
    ("forecasts_estimate_no_update", "UPDATE", "forecasts_estimate", "", ESTIMATE_CHANGED),
    (
        "forecasts_estimate_no_delete",
        "DELETE",
        "forecasts_estimate",
        "EXISTS (SELECT 1 FROM forecasts_forecast f WHERE f.id = OLD.forecast_id "
        f"AND f.published_at IS NOT NULL AND NOT f.synthetic) AND NOT {FLUSHING}",
        ESTIMATE_DELETED,
    ),
    (
        "forecasts_resolution_no_update",
        "UPDATE",
        "forecasts_resolution",
        f"NOT {SYNTHETIC_FORECAST} AND NOT (OLD.is_current AND NOT NEW.is_current "
        f"AND {_same(RESOLUTION_COLUMNS)} AND {_permitted('correct', 'OLD.forecast_id')})",
        RESOLUTION_CHANGED,
    ),
    (
        "forecasts_resolution_no_delete",
        "DELETE",
        "forecasts_resolution",
        f"NOT {SYNTHETIC_FORECAST} AND NOT {FLUSHING}",
        RESOLUTION_DELETED,
    ),
    ("forecasts_amendment_no_update", "UPDATE", "forecasts_forecastamendment", "", AMENDMENT),
    (
        "forecasts_amendment_no_delete",
        "DELETE",
        "forecasts_forecastamendment",
        f"NOT {SYNTHETIC_FORECAST} AND NOT {FLUSHING}",
        AMENDMENT,
    ),
    ("forecasts_extension_no_update", "UPDATE", "forecasts_deadlineextension", "", EXTENSION),
    (
        "forecasts_extension_no_delete",
        "DELETE",
        "forecasts_deadlineextension",
        f"NOT {SYNTHETIC_FORECAST} AND NOT {FLUSHING}",
        EXTENSION,
    ),
    ("forecasts_ledgerentry_no_update", "UPDATE", "forecasts_ledgerentry", "", LEDGER),
    (
        "forecasts_ledgerentry_no_delete",
        "DELETE",
        "forecasts_ledgerentry",
        f"OLD.chain <> 'synthetic' AND NOT {FLUSHING}",
        LEDGER,
    ),
]

#: The triggers' names, per backend (the tests check they are installed).
TRIGGER_NAMES = {
    "postgresql": [f"{table}_guard" for table in TRIGGERED],
    "sqlite": [name for name, *_ in SQLITE_TRIGGERS],
}

SQLITE = [
    "CREATE TABLE forecasts_writepermit (forecast_id integer NOT NULL, kind varchar(10) NOT NULL)",
    "CREATE INDEX forecasts_writepermit_forecast ON forecasts_writepermit (forecast_id, kind)",
    *(_sqlite_trigger(*trigger) for trigger in SQLITE_TRIGGERS),
]

SQLITE_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES["sqlite"]),
    "DROP TABLE IF EXISTS forecasts_writepermit",
]

STATEMENTS = {"postgresql": (POSTGRESQL, POSTGRESQL_REVERSE), "sqlite": (SQLITE, SQLITE_REVERSE)}


def install(apps, schema_editor):
    forward, _ = STATEMENTS.get(schema_editor.connection.vendor, ((), ()))
    for statement in forward:
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor):
    _, reverse = STATEMENTS.get(schema_editor.connection.vendor, ((), ()))
    for statement in reverse:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("forecasts", "0011_record_ledger")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
