"""Reads of the ledger for the API, the feeds and the forecast pages."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import F, QuerySet

from forecasts.core.ledger.canonical import GENESIS_HASH
from forecasts.core.ledger.models import (
    ActorRole,
    EventKind,
    LedgerChain,
    LedgerEntry,
    LedgerHead,
)


@dataclass(frozen=True)
class Head:
    chain: str
    seq: int
    hash: str


def ledger_entries(
    *, chain: str = LedgerChain.RECORD, after: int = 0, forecast_slug: str | None = None
) -> QuerySet[LedgerEntry]:
    """A chain's entries after ``seq`` ``after``, oldest first, each with its forecast's
    slug at hand; only one forecast's when ``forecast_slug`` is given."""
    entries = LedgerEntry.objects.filter(chain=chain, seq__gt=after)
    if forecast_slug is not None:
        entries = entries.filter(forecast__slug=forecast_slug)
    return entries.annotate(forecast_slug=F("forecast__slug")).order_by("seq")


def ledger_head(*, chain: str = LedgerChain.RECORD) -> Head:
    """A chain's newest seq and hash (seq 0 and the genesis hash while it is empty)."""
    row = LedgerHead.objects.filter(chain=chain).values_list("seq", "hash").first()
    seq, digest = row if row is not None else (0, GENESIS_HASH)
    return Head(chain=chain, seq=seq, hash=digest)


@dataclass(frozen=True)
class HistoryItem:
    """One ledger entry of a forecast, told for its public page: what changed (plain
    text lines; the template escapes them), when, who (a role) and why."""

    seq: int
    hash: str
    recorded_at: dt.datetime
    kind: str
    title: str
    actor: str
    changes: list[str]
    reason: str

    @property
    def short_hash(self) -> str:
        return self.hash[:12]


def ledger_forecast_history(*, forecast_id: int) -> list[HistoryItem]:
    """Every ledger entry of one forecast, oldest first (one query)."""
    entries = LedgerEntry.objects.filter(forecast_id=forecast_id).order_by("chain", "seq")
    items = []
    for entry in entries.only("seq", "hash", "recorded_at", "kind", "actor", "payload"):
        event = json.loads(entry.payload)["event"]
        changes, reason = _told(entry.kind, event)
        items.append(
            HistoryItem(
                seq=entry.seq,
                hash=entry.hash,
                recorded_at=entry.recorded_at,
                kind=entry.kind,
                title=_label(EventKind, entry.kind),
                actor=_label(ActorRole, entry.actor),
                changes=changes,
                reason=reason,
            )
        )
    return items


def _label(choices: type[models.TextChoices], value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def _percent(probability: float) -> str:
    return f"{probability:.0%}".replace("%", " %")


def _estimate(event: dict[str, Any]) -> str:
    text = f"estimate {_percent(event['probability'])} on {event['made_on']}"
    if event.get("basis") == "phrase":
        text += f" (from “{event['phrase']}”{', negated' if event.get('negated') else ''})"
    if event.get("historical"):
        text += ", historical"
    return text


def _term(value: Any) -> str:
    if isinstance(value, dict):  # a forecaster or a source
        return str(value.get("name") or value.get("title") or value.get("id"))
    return "(empty)" if value in ("", None) else str(value)


def _told(kind: str, event: dict[str, Any]) -> tuple[list[str], str]:
    """What an event changed, as lines, and the reason it gives."""
    if kind == EventKind.PUBLICATION:
        estimates = [_estimate(estimate) for estimate in event.get("estimates", [])]
        lines = [f"Published with {', '.join(estimates) or 'no estimate'}."]
        terms = event.get("terms", {})
        lines.append(f"Deadline {terms.get('resolve_by')}.")
        return lines, event.get("historical_import", "")
    if kind == EventKind.ESTIMATE:
        return [f"New {_estimate(event)}."], event.get("note", "")
    if kind == EventKind.EXTENSION:
        moved = f"Deadline {event['previous_resolve_by']} → {event['new_resolve_by']}."
        return [moved], event.get("reason", "")
    if kind == EventKind.AMENDMENT:
        lines = [
            f"{term.replace('_', ' ').capitalize()}: “{_term(before)}” → “{_term(after)}”."
            for term, (before, after) in event.get("changes", {}).items()
        ]
        return lines, event.get("reason", "")
    # A resolution, a correction or an annulment.
    lines = [f"Outcome {event['outcome']}, known on {event['known_on']}."]
    if event.get("evidence_url"):
        lines.append(f"Evidence: {event['evidence_url']}")
    if kind == EventKind.CORRECTION or event.get("correction_reason"):
        if event.get("evidence_note"):
            lines.append(event["evidence_note"])
        return lines, event.get("correction_reason", "")
    return lines, event.get("evidence_note", "")
