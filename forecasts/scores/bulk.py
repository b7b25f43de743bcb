"""Writing many score rows at once: PostgreSQL's COPY, else ``executemany`` in batches.

Django's ``bulk_create`` on PostgreSQL sends each column as an array parameter; for the
snapshots' JSON columns psycopg escapes every quote in every element in Python, which
made writing a day's snapshots (9,000 scopes) take 6 s, most of it escaping. COPY streams
the same rows in a fraction of that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

from forecasts.core.compiled import MAX_PREPARED_PARAMETERS, prepared_cursor

EXECUTEMANY_BATCH = 5000


def rows_insert(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (values in the order of ``columns``, as the database takes them)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg's own cursor: its errors wrapped as Django's (a dropped connection
            # is an OperationalError that a task retries).
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608  # quoted names
        batch: list[Sequence[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == EXECUTEMANY_BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def objects_insert(objects: Sequence[Model]) -> None:
    """Insert unsaved model instances of one model, every concrete field but an
    auto-generated primary key, each value prepared by its field as ``save()`` would
    (defaults already applied by the constructor). Their primary keys stay unset."""
    if not objects:
        return
    model = type(objects[0])
    fields = _written_fields(model)
    rows_insert(
        model,
        [field.column for field in fields],
        (
            [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]
            for obj in objects
        ),
    )


def objects_upsert(objects: Sequence[Model], *, conflict: str) -> None:
    """Insert unsaved model instances of one model, or, where a row with the same
    ``conflict`` column is there, overwrite its other columns (``ON CONFLICT … DO
    UPDATE``, which PostgreSQL and SQLite both know). Each value is prepared by its field
    as ``save()`` would.

    Sent in batches of as many rows as fit in :data:`MAX_PREPARED_PARAMETERS`
    parameters, so the statement for a few rows (a resolution's one) repeats its text
    and PostgreSQL prepares it once per connection (``prepared_cursor``): Django's
    ``bulk_create(update_conflicts=True)`` builds and compiles it afresh each time,
    which cost more than running it."""
    if not objects:
        return
    model = type(objects[0])
    fields = _written_fields(model)
    quote = connection.ops.quote_name
    key = next(field.column for field in fields if field.name == conflict)
    names = ", ".join(quote(field.column) for field in fields)
    updates = ", ".join(
        f"{quote(field.column)} = excluded.{quote(field.column)}"
        for field in fields
        if field.column != key
    )
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_batch = max(1, MAX_PREPARED_PARAMETERS // len(fields))
    with prepared_cursor(connection) as cursor:
        for start in range(0, len(objects), per_batch):
            batch = objects[start : start + per_batch]
            cursor.execute(  # identifiers from model metadata, quoted; values are parameters
                f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(batch))} "
                f"ON CONFLICT ({quote(key)}) DO UPDATE SET {updates}",
                [
                    field.get_db_prep_save(getattr(obj, field.attname), connection)
                    for obj in batch
                    for field in fields
                ],
            )


def _written_fields(model: type[Model]) -> list[Any]:
    """Every concrete field but a primary key the database generates."""
    return [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and getattr(field, "db_returning", False))
    ]
