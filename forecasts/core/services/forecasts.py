"""Forecasts: creating one with its first estimate, publishing drafts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from forecasts.core.changes import public_pages_changed
from forecasts.core.models import DatePrecision, Forecast, Forecaster, Source, Tag
from forecasts.core.services.estimates import estimate_record, estimate_record_phrase
from forecasts.core.services.quotes import quote_offsets


@transaction.atomic
def forecast_create(
    *,
    slug: str,
    source: Source,
    forecaster: Forecaster,
    statement: str,
    resolution_criteria: str,
    made_on: dt.date,
    resolve_by: dt.date,
    quote: str = "",
    made_on_precision: str = DatePrecision.DAY,
    resolve_by_note: str = "",
    condition: str = "",
    tags: Iterable[Tag] = (),
    published_at: dt.datetime | None = None,
    probability: float | None = None,
    phrase: str = "",
    negated: bool = False,
    estimate_note: str = "",
) -> Forecast:
    """Create a forecast with its first estimate: a stated number, or a verbal phrase.

    Give ``probability`` when the source stated a number, otherwise ``phrase``
    (mapped through the lexicon; ``negated`` when it qualified the opposite of
    ``statement``).
    """
    if (probability is None) == (not phrase):
        raise ValidationError("Give either a stated probability or a verbal phrase, not both.")
    forecast = Forecast(
        slug=slug,
        source=source,
        forecaster=forecaster,
        statement=statement,
        quote=quote,
        resolution_criteria=resolution_criteria,
        made_on=made_on,
        made_on_precision=made_on_precision,
        resolve_by=resolve_by,
        resolve_by_note=resolve_by_note,
        condition=condition,
        published_at=published_at,
    )
    if quote and source.text:
        forecast.quote_start, forecast.quote_end = quote_offsets(source.text, quote)
    forecast.full_clean()
    forecast.save()
    forecast.tags.set(list(tags))
    transaction.on_commit(public_pages_changed)
    if phrase:
        estimate_record_phrase(
            forecast=forecast, phrase=phrase, negated=negated, made_on=made_on, note=estimate_note
        )
    else:
        assert probability is not None
        estimate_record(
            forecast=forecast, probability=probability, made_on=made_on, note=estimate_note
        )
    return forecast


@transaction.atomic
def forecasts_publish(*, forecasts: QuerySet[Forecast]) -> int:
    """Publish the drafts among ``forecasts`` (rejected drafts stay rejected); returns how
    many were published."""
    count = forecasts.filter(published_at__isnull=True, rejected_at__isnull=True).update(
        published_at=timezone.now(), updated_at=timezone.now()
    )
    if count:
        transaction.on_commit(public_pages_changed)
    return count
