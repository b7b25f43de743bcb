"""Estimates: a probability for a forecast's proposition at a point in time."""

from __future__ import annotations

import datetime as dt
from typing import Required, TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from forecasts.core import phrases
from forecasts.core.changes import public_pages_changed
from forecasts.core.models import Basis, Estimate, Forecast


class EstimateFields(TypedDict, total=False):
    """An estimate as an editor typed it: :func:`estimate_record`'s arguments but the forecast."""

    probability: Required[float]
    made_on: Required[dt.date]
    low: float | None
    high: float | None
    basis: str
    phrase: str
    negated: bool
    note: str


def estimate_record(
    *,
    forecast: Forecast,
    probability: float,
    made_on: dt.date,
    low: float | None = None,
    high: float | None = None,
    basis: str = Basis.NUMBER,
    phrase: str = "",
    negated: bool = False,
    note: str = "",
    recorded_by: User | None = None,
) -> Estimate:
    """Record a probability for the forecast's proposition as of ``made_on`` (not before
    the forecast was made: ``Estimate.clean``)."""
    estimate = Estimate(
        forecast=forecast,
        probability=probability,
        low=low,
        high=high,
        basis=basis,
        phrase=phrase,
        negated=negated,
        made_on=made_on,
        note=note,
        recorded_by=recorded_by,
    )
    estimate.full_clean()
    estimate.save()
    transaction.on_commit(public_pages_changed)
    return estimate


def estimate_record_phrase(
    *,
    forecast: Forecast,
    phrase: str,
    made_on: dt.date,
    negated: bool = False,
    note: str = "",
    recorded_by: User | None = None,
) -> Estimate:
    """Record an estimate derived from a verbal phrase through the lexicon.

    ``negated`` means the phrase qualified the opposite of the forecast's
    proposition ("a deal will most likely remain out of reach" for the
    proposition "a deal is reached"), so the probability is 1 − P(phrase).
    """
    try:
        reading = phrases.estimate(phrase, negated=negated)
    except phrases.UnknownPhrase as exc:
        raise ValidationError({"phrase": str(exc)}) from None
    return estimate_record(
        forecast=forecast,
        probability=reading.probability,
        low=reading.low,
        high=reading.high,
        basis=Basis.PHRASE,
        phrase=reading.phrase.text,
        negated=negated,
        made_on=made_on,
        note=note,
        recorded_by=recorded_by,
    )


def estimate_delete_check(*, estimate: Estimate) -> None:
    """Raise ``ValidationError`` if :func:`estimate_delete` would refuse."""
    _estimate_delete_refuse(estimate, Forecast.objects.get(pk=estimate.forecast_id))


@transaction.atomic
def estimate_delete(*, estimate: Estimate) -> None:
    """Delete an estimate of a draft (one typed wrong, say), as long as another remains.

    A published forecast's estimates are the record of what was said: never deleted.
    """
    # Locked: two deletions at once must not each count on the other's estimate remaining.
    forecast = Forecast.objects.select_for_update().get(pk=estimate.forecast_id)
    _estimate_delete_refuse(estimate, forecast)
    estimate.delete()


def _estimate_delete_refuse(estimate: Estimate, forecast: Forecast) -> None:
    if forecast.published_at is not None:
        raise ValidationError("A published forecast's estimates are never deleted.")
    if not forecast.estimates.exclude(pk=estimate.pk).exists():
        raise ValidationError(
            f"“{estimate}” is the only estimate of “{forecast}”: a forecast keeps at least "
            "one. Record the right one first."
        )
