"""Appending to the ledger: inside the caller's transaction, serialised on the chain's head."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from forecasts.core.compiled import prepared_cursor
from forecasts.core.ledger.canonical import canonical_json, chain_hash
from forecasts.core.ledger.events import moment
from forecasts.core.ledger.models import ActorRole, LedgerChain, LedgerEntry, LedgerHead
from forecasts.core.models import Forecast


def chain_of(forecast: Forecast) -> str:
    return LedgerChain.SYNTHETIC if forecast.synthetic else LedgerChain.RECORD


def entry_document(
    *,
    chain: str,
    seq: int,
    recorded_at: dt.datetime,
    kind: str,
    forecast: Forecast,
    actor: str,
    event: dict[str, Any],
) -> dict[str, Any]:
    """The whole entry as hashed: its place in the chain, when, what, whom it concerns,
    who (a role) and the event."""
    return {
        "chain": chain,
        "seq": seq,
        "recorded_at": moment(recorded_at),
        "kind": kind,
        "forecast": {"id": forecast.pk, "slug": forecast.slug},
        "actor": actor,
        "event": event,
    }


def entry_chained(
    previous_hash: str,
    *,
    chain: str,
    seq: int,
    recorded_at: dt.datetime,
    kind: str,
    forecast: Forecast,
    actor: str,
    event: dict[str, Any],
) -> tuple[str, str]:
    """An entry's canonical JSON and its hash chained to ``previous_hash``: the one way
    every writer of the ledger (appends, migration 0011, the synthetic chain) makes them."""
    payload = canonical_json(
        entry_document(
            chain=chain,
            seq=seq,
            recorded_at=recorded_at,
            kind=kind,
            forecast=forecast,
            actor=actor,
            event=event,
        )
    )
    return payload, chain_hash(previous_hash, payload)


def ledger_append(
    *,
    kind: str,
    forecast: Forecast,
    actor: str,
    event: dict[str, Any],
    recorded_at: dt.datetime | None = None,
) -> LedgerEntry:
    """Append one entry, chained to the newest; call inside the transaction that makes
    the change, so the entry and the change commit (or roll back) together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_append must run inside the transaction that makes the change.")
    chain = chain_of(forecast)
    lock, insert, move = _append_statements(connection.vendor)
    # (On PostgreSQL their text never changes, so each is prepared once per connection.)
    with prepared_cursor(connection) as cursor:
        cursor.execute(lock, [chain])
        head = cursor.fetchone()
        if head is None:  # made by the migration; a flush empties it
            LedgerHead.objects.get_or_create(chain=chain)
            cursor.execute(lock, [chain])
            head = cursor.fetchone()
        previous_seq, previous_hash = head
        recorded_at = recorded_at or timezone.now()
        seq = previous_seq + 1
        payload, hash_ = entry_chained(
            previous_hash,
            chain=chain,
            seq=seq,
            recorded_at=recorded_at,
            kind=kind,
            forecast=forecast,
            actor=actor,
            event=event,
        )
        values = [chain, seq, recorded_at, kind, forecast.pk, actor, payload, hash_]
        cursor.execute(
            insert,
            [
                field.get_db_prep_save(value, connection)
                for field, value in zip(_ENTRY_FIELDS, values, strict=True)
            ],
        )
        (entry_id,) = cursor.fetchone()
        cursor.execute(move, [seq, hash_, chain])
    entry = LedgerEntry(
        pk=entry_id,
        chain=chain,
        seq=seq,
        recorded_at=recorded_at,
        kind=kind,
        forecast=forecast,
        actor=actor,
        payload=payload,
        hash=hash_,
    )
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


@functools.cache
def _append_statements(vendor: str) -> tuple[str, str, str]:
    """The head's lock, the entry's insert and the head's move, as plain SQL: they are on
    every resolution's path, where building each through the ORM cost more than running
    it. Identifiers from the models' metadata, quoted; every value is a parameter."""
    quote = connection.ops.quote_name
    head = quote(LedgerHead._meta.db_table)
    entries = quote(LedgerEntry._meta.db_table)
    names = ", ".join(quote(field.column) for field in _ENTRY_FIELDS)
    locking = " FOR UPDATE" if connection.features.has_select_for_update else ""
    lock = f"SELECT seq, hash FROM {head} WHERE chain = %s{locking}"  # noqa: S608
    insert = (
        f"INSERT INTO {entries} ({names}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(_ENTRY_FIELDS))}) RETURNING id"
    )
    move = f"UPDATE {head} SET seq = %s, hash = %s WHERE chain = %s"  # noqa: S608
    return lock, insert, move


_ENTRY_FIELDS = [
    next(field for field in LedgerEntry._meta.concrete_fields if field.name == name)
    for name in ("chain", "seq", "recorded_at", "kind", "forecast", "actor", "payload", "hash")
]


def role(user: User | None, *, acting_as: str) -> str:
    """``acting_as`` (an editor's or a reviewer's change) when a person made it, else the
    system (seed data, commands run without a user)."""
    return acting_as if user is not None else ActorRole.SYSTEM
