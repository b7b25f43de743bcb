"""Reads of the ledger for the API, the feeds and the forecast pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, QuerySet

from forecasts.core.ledger.canonical import GENESIS_HASH
from forecasts.core.ledger.models import LedgerChain, LedgerEntry, LedgerHead


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
