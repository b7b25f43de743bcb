"""Appending to the ledger: inside the caller's transaction, serialised on the chain's head."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

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
    try:
        head = LedgerHead.objects.select_for_update().get(chain=chain)
    except LedgerHead.DoesNotExist:  # made by the migration; a flush empties it
        LedgerHead.objects.get_or_create(chain=chain)
        head = LedgerHead.objects.select_for_update().get(chain=chain)
    recorded_at = recorded_at or timezone.now()
    seq = head.seq + 1
    payload, hash_ = entry_chained(
        head.hash,
        chain=chain,
        seq=seq,
        recorded_at=recorded_at,
        kind=kind,
        forecast=forecast,
        actor=actor,
        event=event,
    )
    entry = LedgerEntry.objects.create(
        chain=chain,
        seq=seq,
        recorded_at=recorded_at,
        kind=kind,
        forecast=forecast,
        actor=actor,
        payload=payload,
        hash=hash_,
    )
    LedgerHead.objects.filter(chain=chain).update(seq=seq, hash=entry.hash)
    return entry


def role(user: User | None, *, acting_as: str) -> str:
    """``acting_as`` (an editor's or a reviewer's change) when a person made it, else the
    system (seed data, commands run without a user)."""
    return acting_as if user is not None else ActorRole.SYSTEM
