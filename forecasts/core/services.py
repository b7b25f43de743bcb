"""Every write to the record: creating forecasts, recording estimates, resolving and
correcting, extending deadlines, attaching a source's text, publishing.

Services take keyword-only, typed arguments, validate with the model's own rules
(``full_clean``, which includes the database constraints' messages) and run in
one transaction, so bad input gets a clear ``ValidationError`` and nothing is
half-written. The admin, the review pages, the e-mailed links, commands and
tasks all call these; none of them writes the rows itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from forecasts.core import phrases
from forecasts.core.changes import public_pages_changed, resolution_recorded
from forecasts.core.models import (
    Basis,
    DatePrecision,
    DeadlineExtension,
    Estimate,
    Forecast,
    Forecaster,
    Outcome,
    Resolution,
    Source,
    Tag,
)
from forecasts.core.permissions import can_resolve


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
        forecast.quote_start, forecast.quote_end = _quote_offsets(source.text, quote)
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


def forecast_resolve_check(
    *,
    forecast: Forecast,
    outcome: str,
    known_on: dt.date,
    evidence_url: str = "",
    note: str = "",
    resolved_by: User | None = None,
    correction_reason: str = "",
) -> None:
    """Raise ``ValidationError`` (or ``PermissionDenied``) if :func:`forecast_resolve`
    would refuse these values. Forms call it to show the rules as form errors."""
    _resolution_build(
        forecast=forecast,
        outcome=outcome,
        known_on=known_on,
        evidence_url=evidence_url,
        note=note,
        resolved_by=resolved_by,
        correction_reason=correction_reason,
    )


@transaction.atomic
def forecast_resolve(
    *,
    forecast: Forecast,
    outcome: str,
    known_on: dt.date,
    resolved_by: User | None = None,
    evidence_url: str = "",
    note: str = "",
    correction_reason: str = "",
) -> Resolution:
    """Resolve a forecast, or correct its resolution (a new row; history is kept).

    The one entry point for the admin, the review queue, e-mail links and
    commands. ``resolved_by`` must be allowed to resolve this forecast
    (:func:`forecasts.permissions.can_resolve`); ``None`` is the system itself
    (seed data). The forecast row is locked, so two reviewers resolving at once
    cannot both think they were first. Scores are recomputed after commit.
    """
    locked = Forecast.objects.select_for_update().get(pk=forecast.pk)
    resolution = _resolution_build(
        forecast=locked,
        outcome=outcome,
        known_on=known_on,
        evidence_url=evidence_url,
        note=note,
        resolved_by=resolved_by,
        correction_reason=correction_reason,
    )
    if resolution.supersedes is not None:
        Resolution.objects.filter(pk=resolution.supersedes.pk).update(is_current=False)
    resolution.save()
    Forecast.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
    resolution_recorded()
    transaction.on_commit(public_pages_changed)
    return resolution


def _resolution_build(
    *,
    forecast: Forecast,
    outcome: str,
    known_on: dt.date,
    evidence_url: str,
    note: str,
    resolved_by: User | None,
    correction_reason: str,
) -> Resolution:
    """The validated, unsaved resolution (superseding the current one, if any)."""
    _require_reviewer(resolved_by, forecast)
    if forecast.published_at is None:
        raise ValidationError("A draft cannot be resolved; publish it first.")
    if outcome not in Outcome.values:
        raise ValidationError(
            {"outcome": f"The outcome must be YES, NO or ANNULLED, not {outcome!r}."}
        )
    if known_on < forecast.made_on:
        raise ValidationError(
            {
                "known_on": "The outcome cannot be known before the forecast was made "
                f"({forecast.made_on})."
            }
        )
    if known_on > timezone.localdate():
        raise ValidationError({"known_on": "The outcome cannot be known on a future date."})
    previous = Resolution.objects.filter(forecast=forecast, is_current=True).first()
    correction_reason = correction_reason.strip()
    if previous is not None and not correction_reason:
        raise ValidationError(
            "This forecast is already resolved; to correct it, give the reason for the correction."
        )
    if previous is None and correction_reason:
        raise ValidationError(
            {"correction_reason": "Nothing to correct: the forecast is unresolved."}
        )
    resolution = Resolution(
        forecast=forecast,
        outcome=outcome,
        known_on=known_on,
        evidence_url=evidence_url,
        evidence_note=note,
        resolved_by=resolved_by,
        resolved_at=timezone.now(),
        supersedes=previous,
        correction_reason=correction_reason,
    )
    # The "one current resolution" rule is left to the swap in forecast_resolve
    # (and to the database, which enforces it); everything else is checked here.
    resolution.full_clean(validate_constraints=False)
    resolution.validate_constraints(exclude={"forecast"})
    return resolution


@transaction.atomic
def forecast_extend(
    *,
    forecast: Forecast,
    new_resolve_by: dt.date,
    reason: str,
    extended_by: User | None,
) -> DeadlineExtension:
    """Move an unresolved forecast's deadline later ("not yet knowable"), recording who and why.

    Review prompts start again from the new deadline (each prompt records the
    deadline it was about, so the earlier ones stay in the history).
    """
    locked = Forecast.objects.select_for_update().get(pk=forecast.pk)
    _require_reviewer(extended_by, locked)
    if Resolution.objects.filter(forecast=locked, is_current=True).exists():
        raise ValidationError("A resolved forecast's deadline cannot be extended.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the deadline is extended."})
    extension = DeadlineExtension(
        forecast=locked,
        previous_resolve_by=locked.resolve_by,
        new_resolve_by=new_resolve_by,
        reason=reason.strip(),
        extended_by=extended_by,
    )
    extension.full_clean()
    extension.save()
    Forecast.objects.filter(pk=locked.pk).update(
        resolve_by=new_resolve_by, updated_at=timezone.now()
    )
    transaction.on_commit(public_pages_changed)
    forecast.resolve_by = new_resolve_by
    return extension


def _require_reviewer(user: User | None, forecast: Forecast) -> None:
    if user is not None and not can_resolve(user, forecast):
        raise PermissionDenied(f"{user} may not resolve forecast {forecast.pk}.")


@transaction.atomic
def source_text_attach(*, source: Source, text: str) -> int:
    """Store a source's full text and locate each of its forecasts' quotes in it.

    Returns the number of forecasts whose quote position was (re)computed. A
    quote missing from the text is an error: nothing is stored.
    """
    if not text.strip():
        raise ValidationError({"text": "The source text is empty."})
    forecasts = list(source.forecasts.exclude(quote=""))
    offsets = {forecast.pk: _quote_offsets(text, forecast.quote) for forecast in forecasts}
    changed = 0
    for forecast in forecasts:
        if (forecast.quote_start, forecast.quote_end) != offsets[forecast.pk]:
            forecast.quote_start, forecast.quote_end = offsets[forecast.pk]
            forecast.save(update_fields=["quote_start", "quote_end", "updated_at"])
            changed += 1
    if source.text != text:
        source.text = text
        source.save(update_fields=["text"])
    transaction.on_commit(public_pages_changed)
    return changed


def _quote_offsets(text: str, quote: str) -> tuple[int, int]:
    start = text.find(quote)
    if start < 0:
        raise ValidationError({"quote": f"The quote is not in the source text: {quote[:80]!r}…"})
    return start, start + len(quote)


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
