"""The synthetic chain: ledger entries for a batch of synthetic forecasts, in bulk.

The entries are the ones the services would have appended (:mod:`forecasts.core.ledger`'s
own event documents, :func:`~forecasts.core.ledger.append.entry_document`, canonical
JSON and the hash rule), on the separate synthetic chain, so ``verify_ledger`` checks
benchmark data like the record. Per forecast, in order: its publication (at
``published_at``, with the estimates dated that day), each later estimate (recorded at
13:00 UTC of its date) and its resolution (at ``resolved_at``). Drafts have none.

Writing goes by plain rows (COPY or ``executemany``, like the estimates) after the
head row is locked; the head moves once per batch, in the batch's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import cast

from forecasts.core.ledger.append import entry_chained
from forecasts.core.ledger.canonical import GENESIS_HASH
from forecasts.core.ledger.events import (
    ESTIMATE_FIELDS,
    estimate_doc,
    publication_doc,
    resolution_doc,
    resolution_kind,
)
from forecasts.core.ledger.models import ActorRole, EventKind, LedgerChain, LedgerEntry, LedgerHead
from forecasts.core.models import Estimate, Forecast, Forecaster, Resolution, Source
from forecasts.devtools.synthetic_draws import rows_insert

CHAIN = LedgerChain.SYNTHETIC
_COLUMNS = ("chain", "seq", "recorded_at", "kind", "forecast_id", "actor", "payload", "hash")


class SyntheticLedger:
    """Appends batches to the synthetic chain; knows the synthetic forecasters and sources,
    so publications state their terms without a query per forecast."""

    def __init__(self, *, forecasters: Sequence[int], sources: Sequence[int]) -> None:
        self.forecasters = Forecaster.objects.in_bulk(list(forecasters))
        self.sources = Source.objects.in_bulk(list(sources))

    def write(self, *, forecasts: Sequence[Forecast], resolutions: Sequence[Resolution]) -> int:
        """Append the entries of one batch (inside its transaction); returns how many."""
        LedgerHead.objects.get_or_create(chain=CHAIN)
        head = LedgerHead.objects.select_for_update().get(chain=CHAIN)
        seq, previous = head.seq, head.hash
        published = [forecast for forecast in forecasts if forecast.published_at is not None]
        by_forecast: dict[int, list[Estimate]] = defaultdict(list)
        # Named rows with the attributes estimate_doc reads: a model instance per
        # estimate cost a third of the ledger's time.
        rows_read = (
            Estimate.objects.filter(forecast_id__in=[forecast.pk for forecast in published])
            .order_by("forecast_id", "made_on", "pk")
            .values_list("forecast_id", "created_at", "pk", *ESTIMATE_FIELDS, named=True)
        )
        for estimate in rows_read:
            by_forecast[estimate.forecast_id].append(cast(Estimate, estimate))
        resolved = {resolution.forecast_id: resolution for resolution in resolutions}
        rows: list[tuple[object, ...]] = []

        def append(
            forecast: Forecast, kind: str, at: dt.datetime, event: dict[str, object]
        ) -> None:
            nonlocal seq, previous
            seq += 1
            payload, previous = entry_chained(
                previous,
                chain=CHAIN,
                seq=seq,
                recorded_at=at,
                kind=kind,
                forecast=forecast,
                actor=ActorRole.SYSTEM,
                event=event,
            )
            rows.append((CHAIN, seq, at, kind, forecast.pk, ActorRole.SYSTEM, payload, previous))

        for forecast in published:
            assert forecast.published_at is not None
            forecast.forecaster = self.forecasters[forecast.forecaster_id]
            forecast.source = self.sources[forecast.source_id]
            day = forecast.published_at.date()
            estimates = by_forecast[forecast.pk]
            standing = [estimate for estimate in estimates if estimate.made_on <= day]
            append(
                forecast,
                EventKind.PUBLICATION,
                forecast.published_at,
                publication_doc(forecast, standing),
            )
            for estimate in estimates[len(standing) :]:
                append(forecast, EventKind.ESTIMATE, estimate.created_at, estimate_doc(estimate))
            if (resolution := resolved.get(forecast.pk)) is not None:
                append(
                    forecast,
                    resolution_kind(resolution),
                    resolution.resolved_at,
                    resolution_doc(resolution),
                )
        rows_insert(LedgerEntry, _COLUMNS, rows)
        LedgerHead.objects.filter(chain=CHAIN).update(seq=seq, hash=previous)
        return len(rows)


def synthetic_ledger_clear() -> int:
    """Delete the synthetic chain's entries and reset its head; returns how many went.
    Runs before any synthetic forecast is deleted (the entries protect them)."""
    deleted, _ = LedgerEntry.objects.filter(chain=CHAIN).delete()
    LedgerHead.objects.update_or_create(chain=CHAIN, defaults={"seq": 0, "hash": GENESIS_HASH})
    return deleted
