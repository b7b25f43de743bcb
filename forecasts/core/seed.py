"""Loading the seed article's forecasts (idempotent)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from forecasts.core import seed_data
from forecasts.core.models import DatePrecision, Forecast, Forecaster, Source, Tag
from forecasts.core.services import forecast_resolve, source_text_attach
from forecasts.core.services.historical import forecast_import_historical


@dataclass(frozen=True)
class SeedReport:
    created: int
    existing: int
    resolved: int
    quotes_located: int

    def __str__(self) -> str:
        return (
            f"{self.created} forecasts created, {self.existing} already present, "
            f"{self.resolved} resolutions recorded, "
            f"{self.quotes_located} quotes located in the text"
        )


@transaction.atomic
def seed_forecasts_load(*, text: str | None = None) -> SeedReport:
    """Store the seed article's forecasts; running it again changes nothing.

    Forecasts are matched by slug, so ones already present (perhaps edited by an
    editor since) are left alone. With ``text`` (the article, supplied at run
    time) the source keeps it and each quote's position in it is recorded.
    """
    source, _ = Source.objects.get_or_create(key=seed_data.SOURCE["key"], defaults=seed_data.SOURCE)
    forecaster, _ = Forecaster.objects.get_or_create(
        slug=seed_data.FORECASTER["slug"], defaults=seed_data.FORECASTER
    )
    tags = {
        slug: Tag.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in seed_data.TAGS.items()
    }
    present = set(
        Forecast.objects.filter(slug__in=[item.slug for item in seed_data.FORECASTS]).values_list(
            "slug", flat=True
        )
    )
    published_at = dt.datetime.combine(seed_data.MADE_ON, dt.time(12), tzinfo=dt.UTC)
    created = resolved = 0
    for item in seed_data.FORECASTS:
        if item.slug in present:
            continue
        forecast = forecast_import_historical(
            reason=seed_data.IMPORT_REASON,
            slug=item.slug,
            source=source,
            forecaster=forecaster,
            statement=item.statement,
            quote=item.quote,
            resolution_criteria=item.resolution_criteria,
            made_on=seed_data.MADE_ON,
            made_on_precision=DatePrecision.MONTH,
            resolve_by=item.resolve_by,
            resolve_by_note=item.resolve_by_note,
            condition=item.condition,
            tags=[tags[slug] for slug in item.tags],
            published_at=published_at,
            phrase=item.phrase,
            negated=item.negated,
        )
        created += 1
        if item.resolution is not None:
            forecast_resolve(
                forecast=forecast,
                outcome=item.resolution.outcome,
                known_on=item.resolution.known_on,
                evidence_url=item.resolution.evidence_url,
                note=item.resolution.evidence_note,
            )
            resolved += 1
    located = source_text_attach(source=source, text=text) if text is not None else 0
    return SeedReport(
        created=created, existing=len(present), resolved=resolved, quotes_located=located
    )
