"""Building the ledger from rows stored before it existed (migration 0011).

The events are replayed in time order: each publication (at ``published_at``, with
the estimates that stood then), each later estimate, extension and resolution at
the time its row says it was recorded. Terms are the ones stored (earlier edits
left no trace), except the deadline, which starts where its first extension moved
it from. Estimates dated before the day they were recorded are marked
``historical``: that is what they were. Every such event says
``"from_existing_rows": true``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from itertools import islice
from typing import Any

from django.utils import timezone

from forecasts.core.ledger.append import entry_chained
from forecasts.core.ledger.canonical import GENESIS_HASH
from forecasts.core.ledger.events import (
    estimate_doc,
    extension_doc,
    publication_doc,
    resolution_doc,
    resolution_kind,
)

CHUNK = 2000
_RANK = {"publication": 0, "estimate": 1, "extension": 2, "resolution": 3}


def ledger_from_rows(apps: Any, *, say: Callable[[str], None] = print) -> int:
    """Write the ledger from the stored rows; returns how many entries it wrote."""
    Forecast = apps.get_model("forecasts", "Forecast")
    Estimate = apps.get_model("forecasts", "Estimate")
    Resolution = apps.get_model("forecasts", "Resolution")
    Extension = apps.get_model("forecasts", "DeadlineExtension")
    Entry = apps.get_model("forecasts", "LedgerEntry")
    Head = apps.get_model("forecasts", "LedgerHead")
    zone = timezone.get_current_timezone()

    def day(moment: dt.datetime) -> dt.date:
        return moment.astimezone(zone).date()

    published = {
        pk: (at, synthetic)
        for pk, at, synthetic in Forecast.objects.filter(published_at__isnull=False).values_list(
            "pk", "published_at", "synthetic"
        )
    }
    back_dated: list[int] = []
    standing: dict[int, list[int]] = defaultdict(list)
    events: list[tuple[dt.datetime, int, int, str, int]] = []
    rows = Estimate.objects.values_list("pk", "forecast_id", "made_on", "created_at")
    for pk, forecast_id, made_on, created_at in rows.iterator(chunk_size=CHUNK):
        if made_on < day(created_at):
            back_dated.append(pk)
        if forecast_id not in published:
            continue
        at = published[forecast_id][0]
        if created_at <= at or made_on <= day(at):
            standing[forecast_id].append(pk)
        else:
            events.append((created_at, _RANK["estimate"], pk, "estimate", forecast_id))
    for start in range(0, len(back_dated), CHUNK):
        Estimate.objects.filter(pk__in=back_dated[start : start + CHUNK]).update(historical=True)
    for pk, (at, _) in published.items():
        events.append((at, _RANK["publication"], pk, "publication", pk))
    for model, kind, moment in (
        (Extension, "extension", "extended_at"),
        (Resolution, "resolution", "resolved_at"),
    ):
        for pk, forecast_id, at in model.objects.filter(
            forecast_id__in=list(published)
        ).values_list("pk", "forecast_id", moment):
            events.append((at, _RANK[kind], pk, kind, forecast_id))
    events.sort()

    seqs = {"record": 0, "synthetic": 0}
    hashes = {"record": GENESIS_HASH, "synthetic": GENESIS_HASH}
    first_previous = _first_previous_deadlines(Extension)
    written = 0
    iterator = iter(events)
    while batch := list(islice(iterator, CHUNK)):
        forecasts = Forecast.objects.select_related("forecaster", "source").in_bulk(
            {event[4] for event in batch}
        )
        needed = [pk for event in batch if event[3] == "publication" for pk in standing[event[2]]]
        estimates = Estimate.objects.in_bulk(
            needed + [event[2] for event in batch if event[3] == "estimate"]
        )
        resolutions = Resolution.objects.in_bulk(
            [event[2] for event in batch if event[3] == "resolution"]
        )
        extensions = Extension.objects.in_bulk(
            [event[2] for event in batch if event[3] == "extension"]
        )
        entries = []
        for at, _, pk, kind, forecast_id in batch:
            forecast = forecasts[forecast_id]
            if kind == "publication":
                kept = sorted((estimates[e] for e in standing[pk]), key=lambda e: (e.made_on, e.pk))
                event = publication_doc(forecast, kept)
                if forecast_id in first_previous:
                    event["terms"]["resolve_by"] = first_previous[forecast_id].isoformat()
                actor = "system"
            elif kind == "estimate":
                event = estimate_doc(estimates[pk])
                actor = "editor" if estimates[pk].recorded_by_id else "system"
            elif kind == "extension":
                event = extension_doc(extensions[pk])
                actor = "reviewer" if extensions[pk].extended_by_id else "system"
            else:
                kind = resolution_kind(resolutions[pk])
                event = resolution_doc(resolutions[pk])
                actor = "reviewer" if resolutions[pk].resolved_by_id else "system"
            event["from_existing_rows"] = True
            chain = "synthetic" if forecast.synthetic else "record"
            seqs[chain] += 1
            payload, hashes[chain] = entry_chained(
                hashes[chain],
                chain=chain,
                seq=seqs[chain],
                recorded_at=at,
                kind=kind,
                forecast=forecast,
                actor=actor,
                event=event,
            )
            entries.append(
                Entry(
                    chain=chain,
                    seq=seqs[chain],
                    recorded_at=at,
                    kind=kind,
                    forecast_id=forecast_id,
                    actor=actor,
                    payload=payload,
                    hash=hashes[chain],
                )
            )
        Entry.objects.bulk_create(entries)
        written += len(entries)
        say(f"  ledger: {written}/{len(events)} entries")
    for chain, seq in seqs.items():
        Head.objects.update_or_create(chain=chain, defaults={"seq": seq, "hash": hashes[chain]})
    say(
        f"  ledger: wrote {written} entries from the stored rows "
        f"({len(back_dated)} back-dated estimates marked historical)"
    )
    return written


def _first_previous_deadlines(Extension: Any) -> dict[int, dt.date]:
    first: dict[int, dt.date] = {}
    for forecast_id, previous in Extension.objects.order_by("-extended_at", "-pk").values_list(
        "forecast_id", "previous_resolve_by"
    ):
        first[forecast_id] = previous  # the earliest extension is seen last
    return first
