"""The forecast carries its current outcome, and the database counts forecasts by state,
so that the public reads are index ranges and a few rows (issue 15).

- ``forecasts_forecast.current_outcome``: the current resolution's outcome, empty while
  unresolved. Resolutions' triggers set it whenever a resolution is inserted, superseded
  or (synthetic rows only) deleted, in the same statement; a guard refuses any other
  value, so the derived column is no door around the append-only record (0012): it can
  only ever say what the current resolution says.
- ``forecasts_forecaststatecount`` and ``forecasts_unresolveddeadlinecount``: how many
  forecasts are in each state, and how many unresolved ones are due on each day, kept
  by triggers on ``forecasts_forecast`` (see forecasts/core/counts.py). On PostgreSQL
  they are statement triggers over transition tables, so a bulk insert or delete of
  synthetic rows adds up its rows once per statement.

Both are backfilled here from the rows, before the triggers are installed.

Adding a nullable column does not rebuild the forecasts table on SQLite, so the record's
triggers (0012) stay (tests/core/test_record_triggers.py checks them all).
"""

# The SQL is built from this file's constants only, never from input.
# ruff: noqa: S608

from django.db import migrations, models

OUTCOME_REFUSED = (
    "append-only record: a forecast's current outcome is its current resolution's "
    "outcome; resolve or correct the forecast instead (forecast_resolve)."
)
MESSAGE = "'" + OUTCOME_REFUSED.replace("'", "''") + "'"

FORECAST = "forecasts_forecast"
RESOLUTION = "forecasts_resolution"
STATES = "forecasts_forecaststatecount"
DEADLINES = "forecasts_unresolveddeadlinecount"
SCOPES = "forecasts_publishedscopecount"
LINKS = "forecasts_forecast_tags"


def _current(forecast_id: str) -> str:
    """The outcome of the forecast's current resolution (NULL when it has none)."""
    return (
        f"(SELECT r.outcome FROM {RESOLUTION} r "
        f"WHERE r.forecast_id = {forecast_id} AND r.is_current)"
    )


def _state(row: str) -> str:
    """The state a forecast row is counted under (forecasts.core.counts.TalliedState)."""
    return (
        f"(CASE WHEN {row}.published_at IS NULL THEN 'draft' "
        f"WHEN {row}.current_outcome IS NULL THEN 'unresolved' "
        f"WHEN {row}.current_outcome = 'ANNULLED' THEN 'annulled' ELSE 'resolved' END)"
    )


def _unresolved(row: str) -> str:
    return f"({row}.published_at IS NOT NULL AND {row}.current_outcome IS NULL)"


def _scopes(row: str, sign: int, links: str = LINKS) -> str:
    """A published forecast row's forecaster, source and tags, each with ``sign``."""
    published = f"{row}.published_at IS NOT NULL"
    return (
        f"SELECT 'forecaster' AS kind, {row}.forecaster_id AS scope_id, {sign} AS delta "
        f"FROM {{rows}} {row} WHERE {published} "
        f"UNION ALL SELECT 'source', {row}.source_id, {sign} FROM {{rows}} {row} WHERE {published} "
        f"UNION ALL SELECT 'tag', l.tag_id, {sign} FROM {{rows}} {row} "
        f"JOIN {links} l ON l.forecast_id = {row}.id WHERE {published}"
    )


BACKFILL = [
    f"UPDATE {FORECAST} SET current_outcome = {_current(FORECAST + '.id')} "
    f"WHERE EXISTS (SELECT 1 FROM {RESOLUTION} r "
    f"WHERE r.forecast_id = {FORECAST}.id AND r.is_current)",
    f"INSERT INTO {STATES} (state, count) "
    f"SELECT {_state('f')}, count(*) FROM {FORECAST} f GROUP BY 1",
    f"INSERT INTO {DEADLINES} (resolve_by, count) "
    f"SELECT f.resolve_by, count(*) FROM {FORECAST} f WHERE {_unresolved('f')} GROUP BY 1",
    f"INSERT INTO {SCOPES} (kind, scope_id, count) SELECT kind, scope_id, sum(delta) "
    f"FROM ({_scopes('f', 1).format(rows=FORECAST)}) x GROUP BY kind, scope_id",
]

# --- PostgreSQL -------------------------------------------------------------------


def _pg_follow(event: str, rows: str) -> list[str]:
    """After resolutions change, set each touched forecast's outcome from its current
    resolution (one UPDATE per statement, whatever the number of rows)."""
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[event]
    function = f"forecasts_outcome_follow_{event.lower()}"
    return [
        f"""
        CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE {FORECAST} f SET current_outcome = t.outcome
            FROM (
                SELECT ids.forecast_id, {_current("ids.forecast_id")} AS outcome
                FROM (SELECT DISTINCT forecast_id FROM ({rows}) touched) ids
            ) t
            WHERE f.id = t.forecast_id AND f.current_outcome IS DISTINCT FROM t.outcome;
            RETURN NULL;
        END $$
        """,
        f"CREATE TRIGGER {RESOLUTION}_outcome_{event.lower()} AFTER {event} ON {RESOLUTION} "
        f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def _pg_count(event: str, deltas: str, days: str, scopes: str) -> list[str]:
    """After forecasts change, add each state's, deadline day's and scope's difference."""
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[event]
    function = f"forecasts_count_{event.lower()}"
    return [
        f"""
        CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- In key order, so two transactions take the counters' row locks alike.
            PERFORM forecasts_state_add(d.state, d.delta) FROM (
                SELECT state, sum(delta) AS delta FROM ({deltas}) x
                GROUP BY state HAVING sum(delta) <> 0 ORDER BY state
            ) d;
            PERFORM forecasts_deadline_add(d.resolve_by, d.delta) FROM (
                SELECT resolve_by, sum(delta) AS delta FROM ({days}) x
                GROUP BY resolve_by HAVING sum(delta) <> 0 ORDER BY resolve_by
            ) d;
            PERFORM forecasts_scope_add(d.kind, d.scope_id, d.delta) FROM (
                SELECT kind, scope_id, sum(delta) AS delta FROM ({scopes}) x
                GROUP BY kind, scope_id HAVING sum(delta) <> 0 ORDER BY kind, scope_id
            ) d;
            RETURN NULL;
        END $$
        """,
        f"CREATE TRIGGER {FORECAST}_count_{event.lower()} AFTER {event} ON {FORECAST} "
        f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def _pg_links(event: str, deltas: str) -> list[str]:
    """After tag links change, add each tag's difference in published forecasts."""
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[event]
    function = f"forecasts_link_count_{event.lower()}"
    return [
        f"""
        CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM forecasts_scope_add('tag', d.tag_id, d.delta) FROM (
                SELECT x.tag_id, sum(x.delta) AS delta FROM ({deltas}) x
                JOIN {FORECAST} f ON f.id = x.forecast_id AND f.published_at IS NOT NULL
                GROUP BY x.tag_id HAVING sum(x.delta) <> 0 ORDER BY x.tag_id
            ) d;
            RETURN NULL;
        END $$
        """,
        f"CREATE TRIGGER {LINKS}_count_{event.lower()} AFTER {event} ON {LINKS} "
        f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def _pg_states(rows: str, sign: int) -> str:
    return f"SELECT {_state('t')} AS state, {sign} AS delta FROM {rows} t"


def _pg_days(rows: str, sign: int) -> str:
    return f"SELECT t.resolve_by, {sign} AS delta FROM {rows} t WHERE {_unresolved('t')}"


def _counter_add(function: str, table: str, key: str, key_type: str, drop_zero: bool) -> str:
    # An increment may create the row; a decrement never does (the CHECK refuses a
    # negative count, and PostgreSQL checks an upsert's proposed row before the conflict).
    keys = [name.strip() for name in key.split(",")]
    types = [name.strip() for name in key_type.split(",")]
    arguments = ", ".join(f"k{i} {kind}" for i, kind in enumerate(types))
    values = ", ".join(f"k{i}" for i in range(len(keys)))
    match = " AND ".join(f"{name} = k{i}" for i, name in enumerate(keys))
    drop = f"DELETE FROM {table} WHERE {match} AND count = 0;" if drop_zero else ""
    return f"""
    CREATE FUNCTION {function}({arguments}, n bigint) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        IF n > 0 THEN
            INSERT INTO {table} AS c ({key}, count) VALUES ({values}, n)
            ON CONFLICT ({key}) DO UPDATE SET count = c.count + EXCLUDED.count;
        ELSIF n < 0 THEN
            UPDATE {table} SET count = count + n WHERE {match};
            IF NOT FOUND THEN
                RAISE EXCEPTION 'forecast counts: no % row to subtract % from', '{table}', -n;
            END IF;
            {drop}
        END IF;
    END $$
    """


POSTGRESQL = [
    f"""
    CREATE FUNCTION forecasts_outcome_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.current_outcome IS DISTINCT FROM {_current("NEW.id")} THEN
            PERFORM forecasts_refuse({MESSAGE});
        END IF;
        RETURN NEW;
    END $$
    """,
    f"CREATE TRIGGER {FORECAST}_outcome_guard BEFORE INSERT OR UPDATE OF current_outcome "
    f"ON {FORECAST} FOR EACH ROW EXECUTE FUNCTION forecasts_outcome_guard()",
    *_pg_follow("INSERT", "SELECT forecast_id FROM new_rows"),
    *_pg_follow(
        "UPDATE", "SELECT forecast_id FROM old_rows UNION ALL SELECT forecast_id FROM new_rows"
    ),
    *_pg_follow("DELETE", "SELECT forecast_id FROM old_rows"),
    _counter_add("forecasts_state_add", STATES, "state", "text", drop_zero=False),
    _counter_add("forecasts_deadline_add", DEADLINES, "resolve_by", "date", drop_zero=True),
    _counter_add("forecasts_scope_add", SCOPES, "kind, scope_id", "text, bigint", drop_zero=False),
    *_pg_count(
        "INSERT",
        _pg_states("new_rows", 1),
        _pg_days("new_rows", 1),
        _scopes("t", 1).format(rows="new_rows"),
    ),
    *_pg_count(
        "UPDATE",
        f"{_pg_states('old_rows', -1)} UNION ALL {_pg_states('new_rows', 1)}",
        f"{_pg_days('old_rows', -1)} UNION ALL {_pg_days('new_rows', 1)}",
        f"{_scopes('t', -1).format(rows='old_rows')} "
        f"UNION ALL {_scopes('t', 1).format(rows='new_rows')}",
    ),
    *_pg_count(
        "DELETE",
        _pg_states("old_rows", -1),
        _pg_days("old_rows", -1),
        _scopes("t", -1).format(rows="old_rows"),
    ),
    # A tag given to or taken from a published forecast.
    *_pg_links("INSERT", "SELECT tag_id, forecast_id, 1 AS delta FROM new_rows"),
    *_pg_links(
        "UPDATE",
        "SELECT tag_id, forecast_id, -1 AS delta FROM old_rows "
        "UNION ALL SELECT tag_id, forecast_id, 1 FROM new_rows",
    ),
    *_pg_links("DELETE", "SELECT tag_id, forecast_id, -1 AS delta FROM old_rows"),
    # A TRUNCATE (the test suite's flush) empties the forecasts without row triggers.
    f"""
    CREATE FUNCTION forecasts_count_reset() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM {STATES};
        DELETE FROM {DEADLINES};
        DELETE FROM {SCOPES};
        RETURN NULL;
    END $$
    """,
    f"CREATE TRIGGER {FORECAST}_count_truncate AFTER TRUNCATE ON {FORECAST} "
    "FOR EACH STATEMENT EXECUTE FUNCTION forecasts_count_reset()",
]

PG_TRIGGERS = [
    (FORECAST, f"{FORECAST}_outcome_guard"),
    *((RESOLUTION, f"{RESOLUTION}_outcome_{e}") for e in ("insert", "update", "delete")),
    *((FORECAST, f"{FORECAST}_count_{e}") for e in ("insert", "update", "delete", "truncate")),
    *((LINKS, f"{LINKS}_count_{e}") for e in ("insert", "update", "delete")),
]

POSTGRESQL_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS {name} ON {table}" for table, name in PG_TRIGGERS),
    *(
        f"DROP FUNCTION IF EXISTS {function}"
        for function in (
            "forecasts_outcome_guard()",
            "forecasts_outcome_follow_insert()",
            "forecasts_outcome_follow_update()",
            "forecasts_outcome_follow_delete()",
            "forecasts_count_insert()",
            "forecasts_count_update()",
            "forecasts_count_delete()",
            "forecasts_count_reset()",
            "forecasts_state_add(text, bigint)",
            "forecasts_deadline_add(date, bigint)",
            "forecasts_link_count_insert()",
            "forecasts_link_count_update()",
            "forecasts_link_count_delete()",
            "forecasts_scope_add(text, bigint, bigint)",
        )
    ),
]

# --- SQLite -------------------------------------------------------------------------


def _sqlite_follow(forecast_id: str) -> str:
    return (
        f"UPDATE {FORECAST} SET current_outcome = {_current(forecast_id)} "
        f"WHERE id = {forecast_id} AND current_outcome IS NOT {_current(forecast_id)};"
    )


def _sqlite_add(row: str) -> str:
    return (
        f"INSERT INTO {STATES} (state, count) SELECT {_state(row)}, 1 WHERE 1 "
        "ON CONFLICT (state) DO UPDATE SET count = count + 1; "
        f"INSERT INTO {DEADLINES} (resolve_by, count) SELECT {row}.resolve_by, 1 "
        f"WHERE {_unresolved(row)} ON CONFLICT (resolve_by) DO UPDATE SET count = count + 1; "
        f"INSERT INTO {SCOPES} (kind, scope_id, count) "
        f"SELECT kind, scope_id, 1 FROM ({_sqlite_scopes(row)}) "
        "WHERE 1 ON CONFLICT (kind, scope_id) DO UPDATE SET count = count + 1;"
    )


def _sqlite_subtract(row: str) -> str:
    return (
        f"UPDATE {STATES} SET count = count - 1 WHERE state = {_state(row)}; "
        f"UPDATE {DEADLINES} SET count = count - 1 "
        f"WHERE resolve_by = {row}.resolve_by AND {_unresolved(row)}; "
        f"DELETE FROM {DEADLINES} WHERE resolve_by = {row}.resolve_by AND count = 0; "
        f"UPDATE {SCOPES} SET count = count - 1 "
        f"WHERE (kind, scope_id) IN (SELECT kind, scope_id FROM ({_sqlite_scopes(row)}));"
    )


def _sqlite_scopes(row: str) -> str:
    """The published forecast row's forecaster, source and tags (none for a draft)."""
    published = f"{row}.published_at IS NOT NULL"
    return (
        f"SELECT 'forecaster' AS kind, {row}.forecaster_id AS scope_id WHERE {published} "
        f"UNION ALL SELECT 'source', {row}.source_id WHERE {published} "
        f"UNION ALL SELECT 'tag', tag_id FROM {LINKS} WHERE forecast_id = {row}.id AND {published}"
    )


def _published(forecast_id: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM {FORECAST} WHERE id = {forecast_id} AND published_at IS NOT NULL)"
    )


SQLITE_TRIGGERS = [
    (
        f"{FORECAST}_outcome_insert_guard",
        f"BEFORE INSERT ON {FORECAST} FOR EACH ROW "
        f"WHEN NEW.current_outcome IS NOT {_current('NEW.id')}",
        f"SELECT RAISE(ABORT, {MESSAGE});",
    ),
    (
        f"{FORECAST}_outcome_update_guard",
        f"BEFORE UPDATE OF current_outcome ON {FORECAST} FOR EACH ROW "
        f"WHEN NEW.current_outcome IS NOT {_current('NEW.id')}",
        f"SELECT RAISE(ABORT, {MESSAGE});",
    ),
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
    (f"{FORECAST}_count_insert", f"AFTER INSERT ON {FORECAST} FOR EACH ROW", _sqlite_add("NEW")),
    (
        f"{FORECAST}_count_update",
        "AFTER UPDATE OF published_at, current_outcome, resolve_by, forecaster_id, source_id "
        f"ON {FORECAST} FOR EACH ROW WHEN {_state('OLD')} IS NOT {_state('NEW')} "
        "OR OLD.resolve_by IS NOT NEW.resolve_by OR OLD.forecaster_id IS NOT NEW.forecaster_id "
        "OR OLD.source_id IS NOT NEW.source_id",
        _sqlite_subtract("OLD") + " " + _sqlite_add("NEW"),
    ),
    (
        f"{FORECAST}_count_delete",
        f"AFTER DELETE ON {FORECAST} FOR EACH ROW",
        _sqlite_subtract("OLD"),
    ),
    (
        f"{LINKS}_count_insert",
        f"AFTER INSERT ON {LINKS} FOR EACH ROW WHEN {_published('NEW.forecast_id')}",
        f"INSERT INTO {SCOPES} (kind, scope_id, count) SELECT 'tag', NEW.tag_id, 1 "
        "WHERE 1 ON CONFLICT (kind, scope_id) DO UPDATE SET count = count + 1;",
    ),
    (
        f"{LINKS}_count_delete",
        f"AFTER DELETE ON {LINKS} FOR EACH ROW WHEN {_published('OLD.forecast_id')}",
        f"UPDATE {SCOPES} SET count = count - 1 WHERE kind = 'tag' AND scope_id = OLD.tag_id;",
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
        ("forecasts", "0014_live_scores"),
    ]

    operations = [
        migrations.CreateModel(
            name="ForecastStateCount",
            fields=[
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("unresolved", "Unresolved (open or due)"),
                            ("resolved", "Resolved"),
                            ("annulled", "Annulled"),
                        ],
                        max_length=10,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("count", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="UnresolvedDeadlineCount",
            fields=[
                ("resolve_by", models.DateField(primary_key=True, serialize=False)),
                ("count", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="PublishedScopeCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("forecaster", "Forecaster"),
                            ("source", "Source"),
                            ("tag", "Tag"),
                        ],
                        max_length=10,
                    ),
                ),
                ("scope_id", models.BigIntegerField()),
                ("count", models.BigIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "scope_id"), name="scope_count_once"),
                    models.CheckConstraint(
                        condition=models.Q(("count__gte", 0)), name="scope_count_not_negative"
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="forecast",
            name="current_outcome",
            field=models.CharField(
                blank=True,
                choices=[("YES", "Yes"), ("NO", "No"), ("ANNULLED", "Annulled")],
                editable=False,
                help_text="The current resolution's outcome, empty while unresolved. Kept by the database from the resolutions, which refuses any other value.",
                max_length=10,
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="forecast",
            index=models.Index(
                condition=models.Q(
                    ("current_outcome__isnull", True), ("published_at__isnull", False)
                ),
                fields=["resolve_by", "id"],
                name="forecast_unresolved_deadline",
            ),
        ),
        migrations.AddIndex(
            model_name="forecast",
            index=models.Index(
                condition=models.Q(("published_at__isnull", False)),
                fields=["forecaster"],
                name="forecast_published_forecaster",
            ),
        ),
        migrations.AddIndex(
            model_name="forecast",
            index=models.Index(
                condition=models.Q(("published_at__isnull", False)),
                fields=["source"],
                name="forecast_published_source",
            ),
        ),
        migrations.AddIndex(
            model_name="resolution",
            index=models.Index(
                models.OrderBy(models.F("resolved_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                condition=models.Q(("is_current", True)),
                name="resolution_current_recent",
            ),
        ),
        migrations.AddIndex(
            model_name="resolution",
            index=models.Index(
                condition=models.Q(("is_current", True)),
                fields=["known_on"],
                name="resolution_current_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="forecaststatecount",
            constraint=models.CheckConstraint(
                condition=models.Q(("count__gte", 0)), name="state_count_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="unresolveddeadlinecount",
            constraint=models.CheckConstraint(
                condition=models.Q(("count__gte", 0)), name="deadline_count_not_negative"
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
