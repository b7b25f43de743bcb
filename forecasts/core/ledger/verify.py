"""Verifying the ledger: every hash re-derived, and the public state re-derived from it.

Two passes, each streaming rows in chunks (no query per forecast or per entry):

1. Each chain, in ``seq`` order: no gap, every payload canonical and agreeing with its
   columns, every hash ``sha256(previous + payload)`` from the genesis hash, the head
   row on the last entry. Meanwhile each forecast's public state is folded from its
   entries (terms, published_at, resolve_by, the estimates, the current resolution).
2. The database against that state: every published forecast's terms, deadline,
   publication time, current resolution and the current outcome it carries, then every
   estimate of a published forecast. Every published forecast needs a publication
   entry; a draft has none. Last, the stored state counts against a recount.

The first difference found raises :class:`LedgerMismatch`, naming the entry (chain and
seq) or the forecast (id, slug and what differs).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from forecasts.core.counts import (
    counts_recount,
    counts_stored,
    tag_listings_derived,
    tag_listings_stored,
)
from forecasts.core.ledger.canonical import GENESIS_HASH, canonical_json, chain_hash
from forecasts.core.ledger.events import ESTIMATE_FIELDS, TERM_FIELDS, moment
from forecasts.core.ledger.models import EventKind, LedgerChain, LedgerEntry, LedgerHead
from forecasts.core.models import Estimate, Forecast, Resolution

CHUNK = 5000
#: How often (in entries) progress is reported.
PROGRESS_EVERY = 100_000

Progress = Callable[[str, int, int], None]

_RESOLUTION_KINDS = {EventKind.RESOLUTION, EventKind.CORRECTION, EventKind.ANNULMENT}
_ENTRY_KINDS = set(EventKind.values)


class LedgerMismatch(Exception):
    """The ledger, or the rows it vouches for, are not what the chain says."""


@dataclass
class VerifyReport:
    entries: int
    forecasts: int
    estimates: int
    seconds: float
    heads: dict[str, tuple[int, str]]

    def __str__(self) -> str:
        heads = ", ".join(
            f"{chain} #{seq} {digest[:12]}" for chain, (seq, digest) in self.heads.items()
        )
        return (
            f"Ledger verified: {self.entries} entries, {self.forecasts} forecasts, "
            f"{self.estimates} estimates in {self.seconds:.1f} s (heads: {heads})"
        )


@dataclass
class _State:
    """One forecast's public state, as its entries say."""

    chain: str
    first_seq: int
    published_at: str | None = None
    terms: dict[str, Any] = field(default_factory=dict)
    pending_resolve_by: str | None = None
    resolution: tuple[int, str, str] | None = None


def ledger_verify(*, progress: Progress | None = None) -> VerifyReport:
    """Verify every chain and the public rows against them; :class:`LedgerMismatch` at
    the first difference."""
    started = time.perf_counter()
    states: dict[int, _State] = {}
    estimates: dict[int, tuple[int, int]] = {}  # estimate id: (forecast id, digest)
    entries = 0
    heads: dict[str, tuple[int, str]] = {}
    for chain in LedgerChain.values:
        seq, digest = _chain_verify(chain, states, estimates, progress)
        entries += seq
        heads[chain] = (seq, digest)
    forecasts = _forecasts_compare(states)
    estimate_count = _estimates_compare(estimates)
    _counts_compare()
    _tag_listing_compare()
    return VerifyReport(
        entries=entries,
        forecasts=forecasts,
        estimates=estimate_count,
        seconds=time.perf_counter() - started,
        heads=heads,
    )


# --- The chains ----------------------------------------------------------------------


def _chain_verify(
    chain: str,
    states: dict[int, _State],
    estimates: dict[int, tuple[int, int]],
    progress: Progress | None,
) -> tuple[int, str]:
    rows = (
        LedgerEntry.objects.filter(chain=chain)
        .order_by("seq")
        .values_list("seq", "recorded_at", "kind", "forecast_id", "actor", "payload", "hash")
    )
    total = LedgerEntry.objects.filter(chain=chain).count() if progress else 0
    previous, expected = GENESIS_HASH, 1
    for seq, recorded_at, kind, forecast_id, actor, payload, digest in rows.iterator(CHUNK):
        where = f"Ledger entry {chain} #{seq}"
        if seq != expected:
            raise LedgerMismatch(f"Ledger entry {chain} #{expected} is missing (next is #{seq}).")
        try:
            document = json.loads(payload)
        except ValueError:
            raise LedgerMismatch(f"{where}: the payload is not JSON.") from None
        if not isinstance(document, dict) or canonical_json(document) != payload:
            raise LedgerMismatch(f"{where}: the payload is not canonical JSON.")
        columns = {
            "chain": chain,
            "seq": seq,
            "recorded_at": moment(recorded_at),
            "kind": kind,
            "actor": actor,
        }
        for name, value in columns.items():
            if document.get(name) != value:
                raise LedgerMismatch(
                    f"{where}: the payload's {name} ({document.get(name)!r}) differs from "
                    f"the row's ({value!r})."
                )
        concerns = document.get("forecast")
        if not isinstance(concerns, dict) or concerns.get("id") != forecast_id:
            raise LedgerMismatch(
                f"{where}: the payload's forecast differs from the row's ({forecast_id})."
            )
        if kind not in _ENTRY_KINDS or not isinstance(document.get("event"), dict):
            raise LedgerMismatch(f"{where}: unknown kind {kind!r} or no event.")
        if chain_hash(previous, payload) != digest:
            raise LedgerMismatch(
                f"{where}: the hash does not follow from the previous hash and the payload."
            )
        _fold(where, chain, seq, kind, forecast_id, document["event"], states, estimates)
        previous, expected = digest, seq + 1
        if progress and seq % PROGRESS_EVERY == 0:
            progress(chain, seq, total)
    last = expected - 1
    if progress and last % PROGRESS_EVERY:
        progress(chain, last, total)
    head = LedgerHead.objects.filter(chain=chain).values_list("seq", "hash").first()
    if head is None and last > 0:
        raise LedgerMismatch(f"The {chain} chain has {last} entries but no head row.")
    if head is not None and head != (last, previous):
        raise LedgerMismatch(
            f"The {chain} chain's head (#{head[0]} {head[1][:12]}) is not its last entry "
            f"(#{last} {previous[:12]})."
        )
    return last, previous


def _fold(
    where: str,
    chain: str,
    seq: int,
    kind: str,
    forecast_id: int,
    event: dict[str, Any],
    states: dict[int, _State],
    estimates: dict[int, tuple[int, int]],
) -> None:
    """Apply one entry's event to its forecast's state."""
    state = states.get(forecast_id)
    if state is None:
        state = states[forecast_id] = _State(chain=chain, first_seq=seq)
    elif state.chain != chain:
        raise LedgerMismatch(f"{where}: forecast {forecast_id} has entries on two chains.")
    try:
        if kind == EventKind.PUBLICATION:
            if state.published_at is not None:
                raise LedgerMismatch(f"{where}: forecast {forecast_id} is published twice.")
            state.published_at = event["published_at"]
            state.terms = dict(event["terms"])
            if state.pending_resolve_by is not None:
                state.terms["resolve_by"] = state.pending_resolve_by
            for estimate in event["estimates"]:
                _estimate_add(where, forecast_id, estimate, estimates)
        elif kind == EventKind.ESTIMATE:
            _estimate_add(where, forecast_id, event, estimates)
        elif kind == EventKind.AMENDMENT:
            for term, (before, after) in event["changes"].items():
                if state.terms.get(term) != before:
                    raise LedgerMismatch(
                        f"{where}: the amendment's {term} before ({before!r}) is not the "
                        f"term as the ledger had it ({state.terms.get(term)!r})."
                    )
                state.terms[term] = after
        elif kind == EventKind.EXTENSION:
            if state.published_at is None:  # a draft's extension, rebuilt from old rows
                state.pending_resolve_by = event["new_resolve_by"]
            else:
                state.terms["resolve_by"] = event["new_resolve_by"]
        elif kind in _RESOLUTION_KINDS:
            state.resolution = (event["id"], event["outcome"], event["known_on"])
    except (KeyError, TypeError, ValueError):
        raise LedgerMismatch(f"{where}: the {kind} event lacks a field it needs.") from None


def _estimate_add(
    where: str,
    forecast_id: int,
    event: dict[str, Any],
    estimates: dict[int, tuple[int, int]],
) -> None:
    if event["id"] in estimates:
        raise LedgerMismatch(f"{where}: estimate {event['id']} is on the ledger twice.")
    estimates[event["id"]] = (forecast_id, _digest(event[name] for name in ESTIMATE_FIELDS))


def _digest(values: Iterable[Any]) -> int:
    # Within one process hash() is stable; a difference is then examined field by field.
    return hash(tuple(values))


# --- The rows ------------------------------------------------------------------------


def _forecasts_compare(states: dict[int, _State]) -> int:
    resolutions = {
        forecast_id: (pk, outcome, known_on.isoformat())
        for forecast_id, pk, outcome, known_on in Resolution.objects.filter(
            is_current=True
        ).values_list("forecast_id", "pk", "outcome", "known_on")
    }
    columns = [
        name if name not in ("forecaster", "source") else f"{name}_id" for name in TERM_FIELDS
    ]
    rows = (
        Forecast.objects.filter(published_at__isnull=False)
        .order_by("pk")
        .values_list("pk", "published_at", "synthetic", "current_outcome", *columns)
    )
    count = 0
    for pk, published_at, synthetic, current_outcome, *values in rows.iterator(CHUNK):
        count += 1
        slug = values[0]
        state = states.pop(pk, None)
        where = f"Forecast {pk} ({slug})"
        if state is None or state.published_at is None:
            raise LedgerMismatch(f"{where} is published but has no publication entry.")
        chain = LedgerChain.SYNTHETIC if synthetic else LedgerChain.RECORD
        if state.chain != chain:
            raise LedgerMismatch(
                f"{where}: its entries are on the {state.chain} chain, not {chain}."
            )
        if state.published_at != moment(published_at):
            raise LedgerMismatch(
                f"{where}: published_at is {moment(published_at)}, the ledger says "
                f"{state.published_at}."
            )
        for name, value in zip(TERM_FIELDS, values, strict=True):
            stated = state.terms.get(name)
            if name in ("forecaster", "source"):
                stated = stated.get("id") if isinstance(stated, dict) else stated
            elif isinstance(value, dt.date):
                value = value.isoformat()
            if stated != value:
                raise LedgerMismatch(f"{where}: {name} is {value!r}, the ledger says {stated!r}.")
        current = resolutions.pop(pk, None)
        if current != state.resolution:
            raise LedgerMismatch(
                f"{where}: the current resolution is {_resolution_text(current)}, the ledger "
                f"says {_resolution_text(state.resolution)}."
            )
        stated_outcome = state.resolution[1] if state.resolution else None
        if current_outcome != stated_outcome:
            raise LedgerMismatch(
                f"{where}: its current outcome says {current_outcome or 'unresolved'}, the "
                f"ledger says {stated_outcome or 'unresolved'}."
            )
    if states:
        pk = min(states)
        slug = Forecast.objects.filter(pk=pk).values_list("slug", flat=True).first()
        raise LedgerMismatch(
            f"Forecast {pk} ({slug}) is a draft, yet the ledger has entries for it "
            f"(first: {states[pk].chain} #{states[pk].first_seq})."
        )
    return count


def _counts_compare() -> None:
    stored, recounted = counts_stored(), counts_recount()
    if stored[0] != recounted[0]:
        raise LedgerMismatch(
            f"The stored counts of forecasts by state are {stored[0]}; the forecasts say "
            f"{recounted[0]}."
        )
    if stored[1] != recounted[1]:
        days = sorted(set(stored[1].items()) ^ set(recounted[1].items()))
        raise LedgerMismatch(
            "The stored counts of unresolved forecasts by deadline differ from the "
            f"forecasts on {len(days)} days (first: {days[0][0]})."
        )
    if stored[2] != recounted[2]:
        scopes = sorted(set(stored[2].items()) ^ set(recounted[2].items()))
        raise LedgerMismatch(
            "The stored counts of published forecasts by forecaster, source and tag differ "
            f"from the forecasts for {len(scopes)} of them (first: {scopes[0][0]})."
        )


def _tag_listing_compare() -> None:
    stored, derived = tag_listings_stored(), tag_listings_derived()
    if stored != derived:
        differ = sorted(stored ^ derived)
        tag_id, forecast_id, resolve_by = differ[0]
        where = "lists" if differ[0] in stored else "leaves out"
        raise LedgerMismatch(
            f"The stored listing of published forecasts by tag differs from the forecasts "
            f"and their tags in {len(differ)} rows (first: it {where} forecast {forecast_id} "
            f"under tag {tag_id}, due {resolve_by})."
        )


def _resolution_text(resolution: tuple[int, str, str] | None) -> str:
    if resolution is None:
        return "none"
    pk, outcome, known_on = resolution
    return f"#{pk} {outcome} known on {known_on}"


def _estimates_compare(expected: dict[int, tuple[int, int]]) -> int:
    rows = (
        Estimate.objects.filter(forecast__published_at__isnull=False)
        .order_by("pk")
        .values_list("pk", "forecast_id", *ESTIMATE_FIELDS)
    )
    count = 0
    for pk, forecast_id, made_on, *values in rows.iterator(CHUNK):
        count += 1
        stated = expected.pop(pk, None)
        row = (made_on.isoformat(), *values)
        if stated is None:
            raise LedgerMismatch(
                f"{_forecast_name(forecast_id)}: estimate {pk} is not on the ledger."
            )
        if stated != (forecast_id, _digest(row)):
            raise LedgerMismatch(
                f"{_forecast_name(forecast_id)}: estimate {pk} differs from the ledger "
                f"({_estimate_difference(pk, forecast_id, stated[0], row)})."
            )
    if expected:
        pk = min(expected)
        raise LedgerMismatch(
            f"{_forecast_name(expected[pk][0])}: estimate {pk} is on the ledger but not "
            "in the database."
        )
    return count


def _forecast_name(pk: int) -> str:
    slug = Forecast.objects.filter(pk=pk).values_list("slug", flat=True).first()
    return f"Forecast {pk} ({slug})"


def _estimate_difference(
    pk: int, forecast_id: int, stated_forecast: int, row: tuple[Any, ...]
) -> str:
    """What differs, read again from the entries (only once something does)."""
    if stated_forecast != forecast_id:
        return f"the ledger has it for forecast {stated_forecast}"
    for payload in LedgerEntry.objects.filter(forecast_id=forecast_id).values_list(
        "payload", flat=True
    ):
        event = json.loads(payload)["event"]
        for estimate in [event, *event.get("estimates", [])]:
            if estimate.get("id") == pk and "probability" in estimate:
                return "; ".join(
                    f"{name} is {value!r}, the ledger says {estimate[name]!r}"
                    for name, value in zip(ESTIMATE_FIELDS, row, strict=True)
                    if estimate[name] != value
                )
    return "not found again"
