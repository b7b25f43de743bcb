"""Forecasts: creating one with its first estimate, editing a draft, publishing drafts,
amending a published forecast's terms, deleting a draft.

A draft is published only once its terms are made (no extraction placeholder in its
criteria, no hedge left in its statement: :mod:`forecasts.core.services.publication`),
and then under an address made from its statement, which never changes again.

Once published, a forecast's terms change only by :func:`forecast_amend`, a recorded
amendment with a reason, and its deadline only by
:func:`forecasts.core.services.resolutions.forecast_extend`. Publication, amendments
and every later change append to the ledger in their own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts.core.changes import public_pages_changed, scored_inputs_changed
from forecasts.core.ledger.append import ledger_append, role
from forecasts.core.ledger.events import amendment_doc, publication_doc, term_value
from forecasts.core.ledger.models import ActorRole, EventKind
from forecasts.core.models import (
    AMENDABLE_TERMS,
    Basis,
    DatePrecision,
    Estimate,
    Forecast,
    ForecastAmendment,
    Forecaster,
    ForecastQuerySet,
    Resolution,
    Source,
    Tag,
)
from forecasts.core.permissions import can_edit
from forecasts.core.permits import Permit, write_permit
from forecasts.core.services.estimates import (
    EstimateFields,
    estimate_save,
    phrase_fields,
)
from forecasts.core.services.publication import (
    publication_refusals,
    publication_slug,
)
from forecasts.core.services.quotes import quote_missing, quote_place

#: Fixed at publication: the address people cite, and the moment it was published.
FIXED_AT_PUBLICATION = ("slug", "published_at")
#: Changed only by an extension once published.
DEADLINE = ("resolve_by", "resolve_by_note")


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
    publish: bool = False,
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
    estimates as an editor typed them; a draft unless ``publish``.

    Give ``probability`` when the source stated a number, otherwise ``phrase``
    (mapped through the lexicon; ``negated`` when it qualified the opposite of
    ``statement``), or else ``estimates``, recorded as given (the admin's inline).
    Estimates are dated the day they are recorded (today), not ``made_on``, the day
    the source made the forecast: only the audited historical import
    (:mod:`forecasts.core.services.historical`) records what a source said in the past
    under its own date. A quote is placed in the source's text, when the source has
    one: at ``quote_start`` when the quote stands there (a text may repeat a quote,
    and extraction knows which occurrence it read), else at its first occurrence.
    ``extraction_confidence`` is the extractor's, for a draft it proposed.
    """
    today = timezone.localdate()
    fields = _first_estimates(
        probability=probability, phrase=phrase, negated=negated, estimates=estimates
    )
    forecast = forecast_build(
        slug=slug,
        source=source,
        forecaster=forecaster,
        statement=statement,
        quote=quote,
        quote_start=quote_start,
        resolution_criteria=resolution_criteria,
        made_on=made_on,
        made_on_precision=made_on_precision,
        resolve_by=resolve_by,
        resolve_by_note=resolve_by_note,
        condition=condition,
        extraction_confidence=extraction_confidence,
        tags=tags,
    )
    for item in fields:
        if item.get("made_on", today) != today:
            raise ValidationError(
                {
                    "made_on": f"An estimate is dated the day it is recorded ({today}); "
                    f"{item['made_on']} is not today."
                }
            )
        note = item.get("note", estimate_note)
        estimate_save(
            Estimate(
                forecast=forecast,
                recorded_by=recorded_by,
                **{**item, "made_on": today, "note": note},
            )
        )
    if publish:
        # Created and published at once: under the slug typed with the statement.
        _refuse_unmade(forecast)
        forecast_publish_one(
            forecast, at=timezone.now(), actor=role(recorded_by, acting_as=ActorRole.EDITOR)
        )
    transaction.on_commit(public_pages_changed)
    return forecast


def _first_estimates(
    *,
    probability: float | None,
    phrase: str,
    negated: bool,
    estimates: Sequence[EstimateFields],
) -> list[EstimateFields]:
    """The estimates a new forecast starts with: exactly one of a number, a phrase or
    typed estimates."""
    given = (probability is not None) + bool(phrase) + bool(estimates)
    if given == 0:
        raise ValidationError(
            "A forecast needs a first estimate: give either a stated probability or a "
            "verbal phrase."
        )
    if given > 1:
        raise ValidationError("Give either a stated probability or a verbal phrase, not both.")
    if phrase:
        reading = phrase_fields(phrase, negated=negated)
        return [
            {
                "probability": reading["probability"],
                "low": reading["low"],
                "high": reading["high"],
                "basis": reading["basis"],
                "phrase": reading["phrase"],
                "negated": reading["negated"],
            }
        ]
    if probability is not None:
        return [{"probability": probability, "basis": Basis.NUMBER}]
    return list(estimates)


def forecast_build(*, tags: Iterable[Tag], quote_start: int | None, **terms: Any) -> Forecast:
    """A new draft saved with its tags, its quote placed (inside the caller's transaction)."""
    forecast = Forecast(**terms)
    if quote_start is not None:
        forecast.quote_start, forecast.quote_end = quote_start, quote_start + len(forecast.quote)
    _quote_place(forecast)
    forecast.full_clean()
    forecast.save()
    forecast.tags.set(list(tags))
    return forecast


def forecast_publish_one(
    forecast: Forecast, *, at: dt.datetime, actor: str, historical_reason: str = ""
) -> None:
    """Publish a locked or just-created draft: set ``published_at`` and append the
    publication (its terms and the estimates standing) to the ledger."""
    forecast.published_at = at
    Forecast.objects.filter(pk=forecast.pk).update(published_at=at, updated_at=timezone.now())
    estimates = Estimate.objects.filter(forecast=forecast).order_by("made_on", "pk")
    ledger_append(
        kind=EventKind.PUBLICATION,
        forecast=forecast,
        actor=actor,
        event=publication_doc(forecast, estimates, historical_reason=historical_reason),
    )


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
    publish: bool = False,
    published_by: User | None = None,
) -> Forecast:
    """Save a forecast as an editor typed it; returns the saved forecast.

    A draft takes every term as typed (the model's rules hold: dates, a deadline not
    before the forecast was made, no estimate before it), and ``publish`` publishes
    it, refused while its terms are unmade (:func:`forecast_publish`), under a slug made
    from its statement unless ``slug`` was changed in this same save. A published
    forecast takes only its tags here: its terms change by :func:`forecast_amend` and
    its deadline by ``forecast_extend``, so any other change is refused, naming the way
    to make it.
    """
    locked = Forecast.objects.select_for_update().get(pk=forecast.pk)
    typed = {
        "slug": slug,
        "source": source,
        "forecaster": forecaster,
        "statement": statement,
        "quote": quote,
        "resolution_criteria": resolution_criteria,
        "made_on": made_on,
        "made_on_precision": made_on_precision,
        "resolve_by": resolve_by,
        "resolve_by_note": resolve_by_note,
        "condition": condition,
    }
    if locked.published_at is not None:
        _refuse_term_changes(locked, typed)
    else:
        placed_anew = (locked.quote, locked.source_id) != (quote, source.pk)
        slug_chosen = slug != locked.slug
        for field, value in typed.items():
            setattr(locked, field, value)
        if placed_anew:
            _quote_place(locked)
        locked.full_clean()
        locked.save()
        if publish:
            if locked.rejected_at is not None:
                raise ValidationError("A rejected draft is not published.")
            _publish_draft(locked, published_by=published_by, keep_slug=slug_chosen)
    before = set(locked.tags.values_list("pk", flat=True))
    locked.tags.set(list(tags))
    if locked.published_at is not None and set(locked.tags.values_list("pk", flat=True)) != before:
        scored_inputs_changed([locked.pk])  # a resolved forecast counts under its tags
    transaction.on_commit(public_pages_changed)
    return locked


def _refuse_term_changes(forecast: Forecast, typed: dict[str, Any]) -> None:
    changed = [field for field, value in typed.items() if _differs(forecast, field, value)]
    if not changed:
        return
    errors: dict[str, str] = {}
    for field in changed:
        if field in AMENDABLE_TERMS:
            errors[field] = (
                "The forecast is published: its terms change only by a recorded amendment "
                "with a reason (Amend terms)."
            )
        elif field in DEADLINE:
            errors[field] = (
                "The forecast is published: its deadline moves only by a recorded extension "
                "(Extend deadline)."
            )
        else:
            errors[field] = "Fixed once the forecast is published."
    raise ValidationError(errors)


def _differs(forecast: Forecast, field: str, value: Any) -> bool:
    if field in ("forecaster", "source"):
        return bool(getattr(forecast, f"{field}_id") != getattr(value, "pk", value))
    return bool(getattr(forecast, field) != value)


@transaction.atomic
def forecast_amend(
    *,
    forecast: Forecast,
    changes: dict[str, Any],
    reason: str,
    amended_by: User,
) -> ForecastAmendment:
    """Change a published, unresolved forecast's terms, recording what changed, who (an
    editor) and why, and appending the amendment to the ledger.

    ``changes`` maps terms (:data:`forecasts.core.models.AMENDABLE_TERMS`) to their new
    values; a term typed as it already stands is left out. Refused for drafts (edit
    them directly), after resolution (the terms were judged as they stood), without a
    reason, or by anyone but an editor.
    """
    if not can_edit(amended_by):
        raise PermissionDenied(f"{amended_by} may not amend forecasts (editors only).")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the forecast's terms are amended."})
    unknown = sorted(set(changes) - set(AMENDABLE_TERMS))
    if unknown:
        raise ValidationError(
            f"Only these terms can be amended: {', '.join(AMENDABLE_TERMS)} "
            f"(not {', '.join(unknown)}); the deadline moves by an extension."
        )
    locked = Forecast.objects.select_for_update().get(pk=forecast.pk)
    if locked.published_at is None:
        raise ValidationError("A draft is edited directly; amendments are for published forecasts.")
    if Resolution.objects.filter(forecast=locked, is_current=True).exists():
        raise ValidationError(
            "The forecast is resolved: its terms stay as they were when it was judged."
        )
    changed = {field: value for field, value in changes.items() if _differs(locked, field, value)}
    if not changed:
        raise ValidationError("Nothing to amend: every term is as it stands.")
    before = {field: term_value(locked, field) for field in changed}
    placed_anew = "quote" in changed or "source" in changed
    for field, value in changed.items():
        setattr(locked, field, value)
    if placed_anew:
        _quote_place(locked)
    locked.full_clean()
    with write_permit(locked.pk, Permit.AMEND):
        locked.save(update_fields=[*changed, "quote_start", "quote_end", "updated_at"])
    amendment = ForecastAmendment(
        forecast=locked,
        changes={field: [before[field], term_value(locked, field)] for field in changed},
        reason=reason,
        amended_by=amended_by,
    )
    amendment.full_clean()
    amendment.save()
    ledger_append(
        kind=EventKind.AMENDMENT,
        forecast=locked,
        actor=ActorRole.EDITOR,
        event=amendment_doc(amendment),
    )
    transaction.on_commit(public_pages_changed)
    forecast.refresh_from_db()
    return amendment


def _quote_place(forecast: Forecast) -> None:
    placed = quote_place(
        forecast.source.text, forecast.quote, current=(forecast.quote_start, forecast.quote_end)
    )
    if placed is None:
        raise ValidationError({"quote": quote_missing(forecast.quote)})
    forecast.quote_start, forecast.quote_end = placed


def _refuse_unmade(forecast: Forecast) -> None:
    if refusals := publication_refusals(forecast):
        raise ValidationError(refusals)


def _publish_draft(
    draft: Forecast,
    *,
    published_by: User | None,
    keep_slug: bool = False,
    at: dt.datetime | None = None,
) -> None:
    """Publish a locked draft whose terms are made, under the slug of its statement."""
    _refuse_unmade(draft)
    if not keep_slug:
        slug = publication_slug(draft)
        if slug != draft.slug:
            draft.slug = slug
            Forecast.objects.filter(pk=draft.pk).update(slug=slug)
    forecast_publish_one(
        draft,
        at=at or timezone.now(),
        actor=role(published_by, acting_as=ActorRole.EDITOR),
    )


@transaction.atomic
def forecast_publish(*, forecast: Forecast, published_by: User | None = None) -> Forecast:
    """Publish one draft as it stands (the change page's Publish button); returns it.

    Refused for a published or rejected forecast, and while its terms are unmade: its
    resolution criteria still extraction's placeholder, or its statement still holding
    a hedge of the lexicon (the ``ValidationError`` names each, by field). Its slug is
    made anew from its statement, kept unique.
    """
    locked = (
        Forecast.objects.select_for_update()
        .select_related("forecaster", "source")
        .get(pk=forecast.pk)
    )
    if locked.published_at is not None:
        raise ValidationError(f"“{locked}” is already published.")
    if locked.rejected_at is not None:
        raise ValidationError("A rejected draft is not published.")
    _publish_draft(locked, published_by=published_by)
    transaction.on_commit(public_pages_changed)
    return locked


@transaction.atomic
def forecasts_publish(*, forecasts: ForecastQuerySet, published_by: User | None = None) -> int:
    """Publish the drafts among ``forecasts`` whose terms are made, each with its ledger
    entry and the slug of its statement; returns how many were published.

    Rejected drafts stay rejected, and unmade ones stay drafts
    (:func:`forecasts.core.services.publication.publication_refusals` says why).
    """
    drafts = list(
        Forecast.objects.select_for_update()
        .filter(pk__in=forecasts.candidates().values("pk"))
        .select_related("forecaster", "source")
        .order_by("pk")
    )
    ready = [draft for draft in drafts if not publication_refusals(draft)]
    now = timezone.now()
    for draft in ready:
        _publish_draft(draft, published_by=published_by, at=now)
    if ready:
        transaction.on_commit(public_pages_changed)
    return len(ready)


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
