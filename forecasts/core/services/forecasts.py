"""Forecasts: creating one with its first estimate, changing its terms, publishing drafts,
deleting a draft."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts.core.changes import public_pages_changed
from forecasts.core.models import (
    DatePrecision,
    Forecast,
    Forecaster,
    ForecastQuerySet,
    Source,
    Tag,
)
from forecasts.core.services.estimates import (
    EstimateFields,
    estimate_record,
    estimate_record_phrase,
)
from forecasts.core.services.quotes import quote_missing, quote_place


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
    estimates: Sequence[EstimateFields] = (),
    recorded_by: User | None = None,
    quote_start: int | None = None,
    extraction_confidence: float | None = None,
) -> Forecast:
    """Create a forecast with its first estimate: a stated number, a verbal phrase, or
    estimates as an editor typed them.

    Give ``probability`` when the source stated a number, otherwise ``phrase``
    (mapped through the lexicon; ``negated`` when it qualified the opposite of
    ``statement``), or else ``estimates``, recorded as given (the admin's inline).
    A quote is placed in the source's text, when the source has one: at
    ``quote_start`` when the quote stands there (a text may repeat a quote, and
    extraction knows which occurrence it read), else at its first occurrence.
    ``extraction_confidence`` is the extractor's, for a draft it proposed.
    """
    given = (probability is not None) + bool(phrase) + bool(estimates)
    if given == 0:
        raise ValidationError(
            "A forecast needs a first estimate: give either a stated probability or a "
            "verbal phrase."
        )
    if given > 1:
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
        extraction_confidence=extraction_confidence,
    )
    if quote_start is not None:
        forecast.quote_start, forecast.quote_end = quote_start, quote_start + len(quote)
    _quote_place(forecast)
    forecast.full_clean()
    forecast.save()
    forecast.tags.set(list(tags))
    transaction.on_commit(public_pages_changed)
    if phrase:
        estimate_record_phrase(
            forecast=forecast,
            phrase=phrase,
            negated=negated,
            made_on=made_on,
            note=estimate_note,
            recorded_by=recorded_by,
        )
    elif probability is not None:
        estimate_record(
            forecast=forecast,
            probability=probability,
            made_on=made_on,
            note=estimate_note,
            recorded_by=recorded_by,
        )
    for fields in estimates:
        estimate_record(forecast=forecast, recorded_by=recorded_by, **fields)
    return forecast


@transaction.atomic
def forecast_update(
    *,
    forecast: Forecast,
    slug: str,
    source: Source,
    forecaster: Forecaster,
    statement: str,
    quote: str,
    resolution_criteria: str,
    made_on: dt.date,
    made_on_precision: str,
    resolve_by: dt.date,
    resolve_by_note: str,
    condition: str,
    tags: Iterable[Tag],
    published_at: dt.datetime | None,
) -> Forecast:
    """Set a forecast's terms as an editor typed them; returns the saved forecast.

    The model's rules hold (dates, a deadline not before the forecast was made, no
    estimate before it, a rejected draft stays unpublished), and a new quote or source
    places the quote again. Terms of published forecasts are not yet restricted to
    recorded amendments: this is the editors' door as it stands.
    """
    locked = Forecast.objects.select_for_update().get(pk=forecast.pk)
    placed_anew = (locked.quote, locked.source_id) != (quote, source.pk)
    locked.slug, locked.source, locked.forecaster = slug, source, forecaster
    locked.statement, locked.quote = statement, quote
    locked.resolution_criteria, locked.condition = resolution_criteria, condition
    locked.made_on, locked.made_on_precision = made_on, made_on_precision
    locked.resolve_by, locked.resolve_by_note = resolve_by, resolve_by_note
    locked.published_at = published_at
    if placed_anew:
        _quote_place(locked)
    locked.full_clean()
    locked.save()
    locked.tags.set(list(tags))
    transaction.on_commit(public_pages_changed)
    return locked


def _quote_place(forecast: Forecast) -> None:
    placed = quote_place(
        forecast.source.text, forecast.quote, current=(forecast.quote_start, forecast.quote_end)
    )
    if placed is None:
        raise ValidationError({"quote": quote_missing(forecast.quote)})
    forecast.quote_start, forecast.quote_end = placed


@transaction.atomic
def forecasts_publish(*, forecasts: ForecastQuerySet) -> int:
    """Publish the drafts among ``forecasts`` (rejected drafts stay rejected); returns how
    many were published."""
    count = forecasts.candidates().update(published_at=timezone.now(), updated_at=timezone.now())
    if count:
        transaction.on_commit(public_pages_changed)
    return count


@transaction.atomic
def forecasts_reject(*, forecasts: ForecastQuerySet) -> int:
    """Mark the drafts among ``forecasts`` rejected (published forecasts are never
    touched); kept, so that extracting again does not propose them again. Returns how
    many were rejected."""
    now = timezone.now()
    return Forecast.objects.filter(pk__in=forecasts.candidates().values("pk")).update(
        rejected_at=now, updated_at=now
    )


def forecast_delete_check(*, forecast: Forecast) -> None:
    """Raise ``ValidationError`` if :func:`forecast_delete` would refuse."""
    _forecast_delete_refuse(Forecast.objects.get(pk=forecast.pk))


@transaction.atomic
def forecast_delete(*, forecast: Forecast) -> None:
    """Delete a draft, with its estimates and reviewer assignments (entered by mistake, say).

    A published forecast is never deleted; nor is a draft with a resolution or an
    extension on record (one published once, then taken back to draft).
    """
    locked = Forecast.objects.select_for_update().get(pk=forecast.pk)
    _forecast_delete_refuse(locked)
    locked.delete()


def _forecast_delete_refuse(forecast: Forecast) -> None:
    if forecast.published_at is not None:
        raise ValidationError(f"“{forecast}” is published: a published forecast is never deleted.")
    if forecast.resolutions.exists() or forecast.extensions.exists():
        raise ValidationError(
            f"“{forecast}” has a resolution or a deadline extension on record: it is kept."
        )
