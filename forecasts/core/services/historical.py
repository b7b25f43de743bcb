"""The audited historical import: forecasts a source published in the past, entered with
the estimates the source stated, under the source's own date.

Everywhere else an estimate is dated the day it is recorded. This is the one path
that records an older date, and it says so wherever it is seen: each estimate is
marked ``historical``, and the publication's ledger entry carries the import's reason
and the actor "the historical import". Only the seed loader
(:mod:`forecasts.core.seed`) calls it; an import-linter contract in
``pyproject.toml`` keeps it that way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts.core.changes import public_pages_changed
from forecasts.core.ledger.models import ActorRole
from forecasts.core.models import Basis, DatePrecision, Estimate, Forecast, Forecaster, Source, Tag
from forecasts.core.services.estimates import estimate_save, phrase_fields
from forecasts.core.services.forecasts import forecast_build, forecast_publish_one


@transaction.atomic
def forecast_import_historical(
    *,
    reason: str,
    slug: str,
    source: Source,
    forecaster: Forecaster,
    statement: str,
    resolution_criteria: str,
    made_on: dt.date,
    resolve_by: dt.date,
    published_at: dt.datetime,
    phrase: str = "",
    negated: bool = False,
    probability: float | None = None,
    quote: str = "",
    made_on_precision: str = DatePrecision.DAY,
    resolve_by_note: str = "",
    condition: str = "",
    tags: Iterable[Tag] = (),
) -> Forecast:
    """Publish a forecast its source made on ``made_on``, with the one estimate the source
    stated (``phrase`` or ``probability``) dated ``made_on``.

    ``reason`` (required) says what is imported and why the date is older than the
    record, e.g. "The seed article, published in October 2019". ``published_at`` is
    when the source published it, not later than now.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "A historical import says what it imports and why."})
    if published_at > timezone.now():
        raise ValidationError({"published_at": "A historical publication is in the past."})
    if (probability is None) == (not phrase):
        raise ValidationError("Give either the stated probability or the verbal phrase.")
    forecast = forecast_build(
        slug=slug,
        source=source,
        forecaster=forecaster,
        statement=statement,
        quote=quote,
        quote_start=None,
        resolution_criteria=resolution_criteria,
        made_on=made_on,
        made_on_precision=made_on_precision,
        resolve_by=resolve_by,
        resolve_by_note=resolve_by_note,
        condition=condition,
        extraction_confidence=None,
        tags=tags,
    )
    if phrase:
        estimate = Estimate(**phrase_fields(phrase, negated=negated))
    else:
        assert probability is not None  # one of the two, checked above
        estimate = Estimate(probability=probability, basis=Basis.NUMBER)
    estimate.forecast, estimate.made_on, estimate.historical = forecast, made_on, True
    estimate_save(estimate)
    forecast_publish_one(
        forecast, at=published_at, actor=ActorRole.IMPORT, historical_reason=reason
    )
    transaction.on_commit(public_pages_changed)
    return forecast
