"""Estimates: a probability for a forecast's proposition at a point in time."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from forecasts.core import phrases
from forecasts.core.changes import public_pages_changed
from forecasts.core.models import Basis, Estimate, Forecast


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
