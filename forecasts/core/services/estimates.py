"""Estimates: a probability for a forecast's proposition, dated the day it is recorded.

An estimate is never back-dated: ``made_on`` is the day it is recorded, and none is
accepted once the outcome is known. The one exception is the audited historical
import (:mod:`forecasts.core.services.historical`, the seed loader's), whose
estimates carry the date their source published them and say so (``historical``).
"""

from __future__ import annotations

import datetime as dt
from typing import Required, TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts.core import phrases
from forecasts.core.changes import public_pages_changed
from forecasts.core.ledger.append import ledger_append, role
from forecasts.core.ledger.events import estimate_doc
from forecasts.core.ledger.models import ActorRole, EventKind
from forecasts.core.models import Basis, Estimate, Forecast, Resolution


class EstimateFields(TypedDict, total=False):
    """An estimate as an editor typed it: :func:`estimate_record`'s arguments but the forecast."""

    probability: Required[float]
    made_on: dt.date
    low: float | None
    high: float | None
    basis: str
    phrase: str
    negated: bool
    note: str


@transaction.atomic
def estimate_record(
    *,
    forecast: Forecast,
    probability: float,
    made_on: dt.date | None = None,
    low: float | None = None,
    high: float | None = None,
    basis: str = Basis.NUMBER,
    phrase: str = "",
    negated: bool = False,
    note: str = "",
    recorded_by: User | None = None,
) -> Estimate:
    """Record a probability for the forecast's proposition, dated today (``made_on``, when
    given, must be today: an estimate is never back-dated, nor dated ahead).

    Refused once the forecast's outcome is known. On a published forecast the
    estimate is appended to the ledger in the same transaction.
    """
    today = timezone.localdate()
    if made_on is None:
        made_on = today
    elif made_on < today:
        raise ValidationError(
            {
                "made_on": f"An estimate is dated the day it is recorded ({today}), never "
                f"earlier: {made_on} would back-date it."
            }
        )
    elif made_on > today:
        raise ValidationError(
            {"made_on": f"An estimate is dated the day it is recorded ({today}), not later."}
        )
    return estimate_save(
        Estimate(
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
    )


def estimate_save(estimate: Estimate, *, actor: str = ActorRole.EDITOR) -> Estimate:
    """Validate and store an estimate whose date has been checked, and put it on the
    ledger when its forecast is published. Only this module and the historical import
    call it; every other door records through :func:`estimate_record`."""
    # Locked: an estimate and a resolution of the same forecast must not cross.
    forecast = Forecast.objects.select_for_update().get(pk=estimate.forecast_id)
    estimate.forecast = forecast
    known = (
        Resolution.objects.filter(forecast=forecast, is_current=True)
        .values_list("known_on", flat=True)
        .first()
    )
    if known is not None and estimate.made_on >= known:
        raise ValidationError(
            f"The outcome of “{forecast}” became known on {known}: no estimate is accepted "
            "on or after that day."
        )
    estimate.full_clean()
    estimate.save()
    if forecast.published_at is not None:
        ledger_append(
            kind=EventKind.ESTIMATE,
            forecast=forecast,
            actor=role(estimate.recorded_by, acting_as=actor),
            event=estimate_doc(estimate),
        )
    transaction.on_commit(public_pages_changed)
    return estimate


def estimate_record_phrase(
    *,
    forecast: Forecast,
    phrase: str,
    made_on: dt.date | None = None,
    negated: bool = False,
    note: str = "",
    recorded_by: User | None = None,
) -> Estimate:
    """Record an estimate derived from a verbal phrase through the lexicon.

    ``negated`` means the phrase qualified the opposite of the forecast's
    proposition ("a deal will most likely remain out of reach" for the
    proposition "a deal is reached"), so the probability is 1 − P(phrase).
    """
    return estimate_record(
        forecast=forecast,
        **phrase_fields(phrase, negated=negated),
        made_on=made_on,
        note=note,
        recorded_by=recorded_by,
    )


class PhraseReading(TypedDict):
    """An estimate's fields read from a verbal phrase."""

    probability: float
    low: float | None
    high: float | None
    basis: str
    phrase: str
    negated: bool


def phrase_fields(phrase: str, *, negated: bool) -> PhraseReading:
    """An estimate's probability, range, basis and phrase read from a verbal phrase through
    the lexicon; ``ValidationError`` for a phrase the lexicon does not know."""
    try:
        reading = phrases.estimate(phrase, negated=negated)
    except phrases.UnknownPhrase as exc:
        raise ValidationError({"phrase": str(exc)}) from None
    return {
        "probability": reading.probability,
        "low": reading.low,
        "high": reading.high,
        "basis": Basis.PHRASE,
        "phrase": reading.phrase.text,
        "negated": negated,
    }


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
