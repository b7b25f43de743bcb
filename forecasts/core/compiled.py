"""Queries compiled to SQL once and run many times with fresh values.

Building and compiling an ORM query costs a few milliseconds of Python each time, more
than the round trip itself for the small, indexed reads on a resolution's path (the
permission check, the live scores' reads). A :class:`CompiledQuery` builds its query
once per database and shape, with placeholder numbers where the values go, keeps the
SQL, and then only swaps the real values into the parameters: the database still reads
everything afresh, only the Python that writes the same SQL again is spared.

The placeholders are numbers no row or constant uses; compiling checks that each one
reaches the parameters (never the SQL text), so a query that inlines a value is refused
rather than run with the wrong one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import QuerySet
from django.db.models.sql import Query

# Placeholders: below any primary key or constant the queries use, yet within a 32-bit
# integer column's range (Django answers an out-of-range lookup with no rows, compiling
# no SQL). The first million all match this pattern, which the SQL text must never hold.
_PLACEHOLDER_BASE = -2_000_000_000
_PLACEHOLDER_TEXT = re.compile(r"2000\d{6}")
# Shapes kept per query (the number of ids in each list argument): a resolution
# asks for one forecast; a publication or a bulk tag change for more.
MAX_SHAPES = 32
# Prepared only up to this many parameters (one per id of a list): a bulk change's long
# lists are planned once anyway, and a statement bound on the server takes at most
# 65,535 parameters, where one bound on the client has no limit.
MAX_PREPARED_PARAMETERS = 1000

Value = int | Sequence[int]


class CompiledQuery:
    """A query built by ``build(**values)`` (integers, or lists of them), compiled once per
    database alias and list lengths.

    ``build`` must use each value only as a query parameter (a filter's value, an
    ``__in`` list), so that the same SQL answers for any values; it returns a QuerySet
    or a ``Query`` (``queryset.query.exists()`` for an existence check).
    """

    def __init__(
        self, build: Callable[..., QuerySet[Any] | Query], *, converted: bool = False
    ) -> None:
        self._build = build
        # converted: rows come back as the ORM gives them (its fields' converters applied:
        # dates and booleans on SQLite, JSON), not only as the driver does.
        self._converted = converted
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}

    def sql(self, using: str = "default", /, **values: Value) -> tuple[str, list[Any]]:
        """The SQL and its parameters for these values."""
        return _filled(self._compiled_for(using, values), values)

    def execute(self, using: str = "default", /, **values: Value) -> list[tuple[Any, ...]]:
        """Run the query with these values; every row, as the database driver returns it
        (plain numbers and strings), or as the ORM does if ``converted``. On PostgreSQL
        the statement is prepared on the server the first time a connection runs it
        (:func:`prepared_cursor`), so that it is planned once per connection, not every
        time; unless it has more than :data:`MAX_PREPARED_PARAMETERS` parameters."""
        compiled = self._compiled_for(using, values)
        sql, params = _filled(compiled, values)
        connection = connections[using]
        prepared = len(params) <= MAX_PREPARED_PARAMETERS
        with prepared_cursor(connection) if prepared else connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        converters = compiled[3]
        if converters and rows:
            return [_converted(row, converters, connection) for row in rows]
        return rows

    def _compiled_for(self, using: str, values: dict[str, Value]) -> _Compiled:
        shape = (using, *((name, _length(value)) for name, value in sorted(values.items())))
        compiled = self._compiled.get(shape)
        if compiled is None:
            compiled = self._compile(using, values)
            if len(self._compiled) < MAX_SHAPES:
                self._compiled[shape] = compiled
        return compiled

    def _compile(self, using: str, values: dict[str, Value]) -> _Compiled:
        placeholders: dict[int, tuple[str, int]] = {}
        stand_ins: dict[str, Value] = {}
        for name, value in sorted(values.items()):
            if isinstance(value, int):
                number = _PLACEHOLDER_BASE - len(placeholders)
                placeholders[number] = (name, -1)
                stand_ins[name] = number
            else:
                numbers = []
                for index in range(len(value)):
                    number = _PLACEHOLDER_BASE - len(placeholders)
                    placeholders[number] = (name, index)
                    numbers.append(number)
                stand_ins[name] = numbers
        built = self._build(**stand_ins)
        query = built.query if isinstance(built, QuerySet) else built
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        converters: list[tuple[int, list[Any], Any]] = []
        if self._converted:
            found = compiler.get_converters([column for column, _, _ in compiler.select])
            converters = [(index, found[index][0], found[index][1]) for index in sorted(found)]
        slots = {
            position: placeholders[param]
            for position, param in enumerate(params)
            if isinstance(param, int) and param in placeholders
        }
        missing = set(placeholders.values()) - set(slots.values())
        if missing or _PLACEHOLDER_TEXT.search(sql):
            raise ValueError(
                f"{self._build.__qualname__} does not pass every value as a parameter "
                f"({sorted(name for name, _ in missing) or 'a value is in the SQL text'}); "
                "it cannot be compiled once."
            )
        return sql, list(params), slots, converters


# SQL, parameters with placeholders, each placeholder's position (value name, index in
# its list, or -1), and the converters of the columns that have any (``converted``).
_Compiled = tuple[str, list[Any], dict[int, tuple[str, int]], list[tuple[int, list[Any], Any]]]


def _filled(compiled: _Compiled, values: dict[str, Value]) -> tuple[str, list[Any]]:
    """The compiled SQL, and its parameters with these values in the placeholders' places."""
    sql, params, slots, _ = compiled
    filled = list(params)
    for position, (name, index) in slots.items():
        value = values[name]
        filled[position] = value if index < 0 else value[index]  # type: ignore[index]
    return sql, filled


def _converted(
    row: tuple[Any, ...], converters: list[tuple[int, list[Any], Any]], connection: Any
) -> tuple[Any, ...]:
    """A row as the ORM returns it: each column through its field's converters."""
    values = list(row)
    for index, functions, expression in converters:
        value = values[index]
        for function in functions:
            value = function(value, expression, connection)
        values[index] = value
    return tuple(values)


def prepared_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor for a compiled query, or any statement whose text repeats.

    Django's PostgreSQL cursors bind the parameters on the client (psycopg's
    ``ClientCursor``), which sends the SQL with the values written in and never
    prepares it, so the server plans the query again on every run: 2 ms for the
    permission check on a resolution's path, which then ran in 0.2 ms. Here, when the
    connection allows prepared statements (``prepare_threshold``, set in the settings),
    the cursor binds on the server, and psycopg prepares each statement once per
    connection and then only executes it. The cursor is wrapped as Django wraps its own
    (errors translated, the query logged and seen by ``execute_wrapper``), so tests that
    count queries count these too.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if getattr(raw, "prepare_threshold", None) is None:
        return connection.cursor()
    connection.validate_thread_sharing()
    # (django-stubs type the argument as Django's wrapper; it is the driver's cursor.)
    server_binding: Any = psycopg.Cursor(raw)
    if connection.queries_logged:
        return _PreparedDebugCursor(server_binding, connection)
    return connection.make_cursor(server_binding)


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs each statement as Django logs its own, the SQL with its values written in.
    (Django reads them back from the driver's cursor, which only a client-binding
    cursor keeps: it would log None here.)"""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


def _length(value: Value) -> int:
    return -1 if isinstance(value, int) else len(value)
