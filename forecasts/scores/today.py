"""Today's snapshots kept in step with the live sums, in the transaction that moved them.

The pages, ``/api/snapshots`` and the digests read a scope's figures and history from
its snapshots, one row per scope and day; today's rows are rewritten from the live sums
(:func:`forecasts.scores.sums.live_snapshots`) whenever a change moves them
(:func:`forecasts.scores.live.scores_refresh`), so what is shown never disagrees with
what committed. The first change of a day writes every scope's row (the history has
one point per day); later ones only the touched scopes'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.utils import timezone

from forecasts.core.compiled import MAX_PREPARED_PARAMETERS, prepared_cursor
from forecasts.scores.additive import Sums
from forecasts.scores.bulk import objects_insert
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.sums import Scope, live_snapshots

EVERYTHING: Scope = (ScopeKind.ALL.value, 0)
# The columns that name a snapshot; every other one is rewritten.
KEY_COLUMNS = ("scope_kind", "scope_id", "as_of")


def today_snapshots_update(scopes: set[Scope], totals: dict[Scope, Sums]) -> None:
    """Rewrite today's snapshots of these scopes (and everything's) from the live sums
    (``totals``: those just stored, read again where missing)."""
    today = timezone.localdate()
    wanted = scopes | {EVERYTHING}
    if connection.vendor != "postgresql":
        if EVERYTHING not in _delete(today, wanted):  # the day's first change
            today_snapshots_replace(today)
            return
        objects_insert(live_snapshots(as_of=today, scopes=wanted, sums=totals))
        return
    # PostgreSQL: today's rows are overwritten where they stand, one statement: no
    # DELETE and COPY (three round trips), and no new index entries (the key columns
    # keep their values, so the update can stay on the row's page).
    fresh = live_snapshots(as_of=today, scopes=wanted, sums=totals)
    overwritten = _overwrite(today, fresh)
    if EVERYTHING not in overwritten:  # the day's first change
        today_snapshots_replace(today)
        return
    # Rare: a scope left with nothing scored loses today's row (as a rewrite from the
    # sums leaves it out); one scored for the first time today gets one.
    emptied = wanted - {(s.scope_kind, s.scope_id) for s in fresh}
    if emptied:
        _delete(today, emptied)
    objects_insert([s for s in fresh if (s.scope_kind, s.scope_id) not in overwritten])


def today_snapshots_replace(today: dt.date) -> None:
    """Replace every one of today's snapshots with one from the live sums."""
    ScoreSnapshot.objects.filter(as_of=today).delete()
    objects_insert(live_snapshots(as_of=today))


def _delete(today: dt.date, scopes: set[Scope]) -> set[Scope]:
    """Delete today's snapshots of these scopes; returns the scopes that had one."""
    table = connection.ops.quote_name(ScoreSnapshot._meta.db_table)
    by_kind: dict[str, list[int]] = {}
    for kind, scope_id in sorted(scopes):
        by_kind.setdefault(kind, []).append(scope_id)
    where = " OR ".join(
        f"(scope_kind = %s AND scope_id IN ({', '.join(['%s'] * len(ids))}))"
        for ids in by_kind.values()
    )
    params: list[Any] = [today]
    for kind, ids in by_kind.items():
        params += [kind, *ids]
    with connection.cursor() as cursor:
        cursor.execute(  # identifiers from model metadata, quoted; values are parameters
            f"DELETE FROM {table} WHERE as_of = %s AND ({where}) "  # noqa: S608
            "RETURNING scope_kind, scope_id",
            params,
        )
        return set(cursor.fetchall())


def _overwrite(today: dt.date, snapshots: list[ScoreSnapshot]) -> set[Scope]:
    """Overwrite today's rows of these snapshots' scopes with them (PostgreSQL: one
    UPDATE from a VALUES list); returns the scopes that had a row.

    Scalar parameters, each cast to its column's type: psycopg quotes a JSON string in
    C, but escapes every element of an array of them in Python, which took longer than
    the statement (the phrase table is several kilobytes)."""
    if not snapshots:
        return set()
    quote = connection.ops.quote_name
    fields = [
        field
        for field in ScoreSnapshot._meta.concrete_fields
        if not field.primary_key and field.column != "as_of"
    ]
    rewritten = [field for field in fields if field.column not in KEY_COLUMNS]
    row = "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in fields) + ")"
    names = ", ".join(quote(field.column) for field in fields)
    table = quote(ScoreSnapshot._meta.db_table)
    sets = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in rewritten)
    params: list[Any] = [
        field.get_db_prep_save(getattr(snapshot, field.attname), connection)
        for snapshot in snapshots
        for field in fields
    ]
    # A resolution's few scopes: prepared once per connection on PostgreSQL (the text
    # repeats for the same number of scopes), the values sent apart from it. A bulk
    # change touching thousands of scopes is bound on the client: it would pass the
    # server's limit of 65,535 parameters to a statement.
    few = len(params) <= MAX_PREPARED_PARAMETERS
    with prepared_cursor(connection) if few else connection.cursor() as cursor:
        cursor.execute(  # identifiers and types from model metadata; values are parameters
            f"UPDATE {table} AS t SET {sets} "  # noqa: S608
            f"FROM (VALUES {', '.join([row] * len(snapshots))}) AS v ({names}) "
            "WHERE t.as_of = %s AND t.scope_kind = v.scope_kind AND t.scope_id = v.scope_id "
            "RETURNING t.scope_kind, t.scope_id",
            [*params, today],
        )
        return set(cursor.fetchall())
