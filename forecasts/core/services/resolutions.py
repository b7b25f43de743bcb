"""Resolving and correcting a forecast, and extending its deadline: the reviewers' writes."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from forecasts.core.changes import public_pages_changed, scored_inputs_changed
from forecasts.core.compiled import CompiledQuery
from forecasts.core.ledger.append import ledger_append, role
from forecasts.core.ledger.events import extension_doc, resolution_doc, resolution_kind
from forecasts.core.ledger.models import ActorRole, EventKind
from forecasts.core.models import DeadlineExtension, Forecast, Outcome, Resolution
from forecasts.core.permissions import can_resolve
from forecasts.core.permits import Permit, write_permit


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
    (:func:`forecasts.core.permissions.can_resolve`); ``None`` is the system itself
    (seed data). The forecast row is locked, so two reviewers resolving at once
    cannot both think they were first. The live scores are updated in the same
    transaction (:mod:`forecasts.scores.live`).
    """
    locked = _locked(forecast.pk)
    resolution = _resolution_build(
        forecast=locked,
        outcome=outcome,
        known_on=known_on,
        evidence_url=evidence_url,
        note=note,
        resolved_by=resolved_by,
        correction_reason=correction_reason,
        outcome_is_fresh=True,
    )
    if resolution.supersedes is not None:
        with write_permit(locked.pk, Permit.CORRECT):
            Resolution.objects.filter(pk=resolution.supersedes.pk).update(is_current=False)
    # The database's triggers set the forecast's current outcome and stamp its
    # updated_at in the same statement (migrations 0015 and 0020).
    resolution.save()
    ledger_append(
        kind=resolution_kind(resolution),
        forecast=locked,
        actor=role(resolved_by, acting_as=ActorRole.REVIEWER),
        event=resolution_doc(resolution),
    )
    scored_inputs_changed([locked.pk])
    transaction.on_commit(public_pages_changed)
    # The database set the row's current_outcome (migration 0014); the caller's copy follows.
    forecast.current_outcome = resolution.outcome
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
    outcome_is_fresh: bool = False,
) -> Resolution:
    """The validated, unsaved resolution (superseding the current one, if any).

    ``outcome_is_fresh``: the forecast row was just read, locked (``forecast_resolve``),
    so its ``current_outcome`` is the current resolution's (the database keeps it so,
    migration 0015): an unresolved forecast has no resolution to supersede, and its
    first resolution, the common case, skips the read of one."""
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
    previous = None
    if not outcome_is_fresh or forecast.current_outcome is not None:
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
    # (and to the database, which enforces it); everything else is checked here. The
    # model's check constraints hold by construction (outcome and correction reason are
    # checked above) or are checked in Python with their own messages: Django would
    # evaluate each in a query of its own, on the path every resolution's commit takes.
    # Nor are the foreign keys looked up again: the forecast is the row just read (locked,
    # in forecast_resolve), the one superseded was read above, and the reviewer is the
    # acting user (the database's foreign keys still hold).
    resolution.full_clean(
        exclude=["forecast", "supersedes", "resolved_by"], validate_constraints=False
    )
    if not resolution.evidence_url and not resolution.evidence_note:
        raise ValidationError(_constraint_message("resolution_has_evidence"))
    return resolution


def _constraint_message(name: str) -> str:
    """The violation message of one of Resolution's database constraints."""
    constraint = next(c for c in Resolution._meta.constraints if c.name == name)
    return str(constraint.violation_error_message)


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
    locked = _locked(forecast.pk)
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
    with write_permit(locked.pk, Permit.EXTEND):
        Forecast.objects.filter(pk=locked.pk).update(
            resolve_by=new_resolve_by, updated_at=timezone.now()
        )
    if locked.published_at is not None:
        ledger_append(
            kind=EventKind.EXTENSION,
            forecast=locked,
            actor=role(extended_by, acting_as=ActorRole.REVIEWER),
            event=extension_doc(extension),
        )
    transaction.on_commit(public_pages_changed)
    forecast.resolve_by = new_resolve_by
    return extension


def _locked(pk: int) -> Forecast:
    """The forecast row as it stands, locked until the transaction ends: what
    ``Forecast.objects.select_for_update().get(pk=pk)`` gives, its SQL compiled once (it
    opens every resolution's commit)."""
    rows = _LOCKED.execute(pk=pk)
    if not rows:
        raise Forecast.DoesNotExist(f"Forecast {pk} does not exist.")
    return Forecast.from_db(connection.alias, _FORECAST_COLUMNS, rows[0])


_FORECAST_COLUMNS = [field.attname for field in Forecast._meta.concrete_fields]
_LOCKED = CompiledQuery(
    lambda *, pk: (
        Forecast.objects.select_for_update()
        .filter(pk=pk)
        .order_by()
        .values_list(*_FORECAST_COLUMNS)
    ),
    converted=True,
)


def _require_reviewer(user: User | None, forecast: Forecast) -> None:
    if user is not None and not can_resolve(user, forecast):
        raise PermissionDenied(f"{user} may not resolve forecast {forecast.pk}.")
