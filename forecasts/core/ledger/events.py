"""What each kind of ledger entry says: the event documents, built from the rows.

Dates are ISO ``YYYY-MM-DD``, moments ISO 8601 in UTC with a ``Z``, probabilities
floats, forecasters and sources ``{"id", "name"}`` / ``{"id", "key", "title"}``.
``docs/LEDGER.md`` lists every field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from forecasts.core.models import (
    DeadlineExtension,
    Estimate,
    Forecast,
    ForecastAmendment,
    Forecaster,
    Outcome,
    Resolution,
    Source,
)

#: The terms a publication states and an amendment may change; the deadline
#: (``resolve_by``, ``resolve_by_note``) is stated at publication, changed by extensions.
TERM_FIELDS = (
    "slug",
    "statement",
    "quote",
    "condition",
    "resolution_criteria",
    "made_on",
    "made_on_precision",
    "resolve_by",
    "resolve_by_note",
    "forecaster",
    "source",
)


#: An estimate's fields an estimate entry states (besides its id).
ESTIMATE_FIELDS = (
    "made_on",
    "probability",
    "low",
    "high",
    "basis",
    "phrase",
    "negated",
    "note",
    "historical",
)


def moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def forecaster_doc(forecaster: Forecaster) -> dict[str, Any]:
    return {"id": forecaster.pk, "name": forecaster.name}


def source_doc(source: Source) -> dict[str, Any]:
    return {"id": source.pk, "key": source.key, "title": source.title}


def term_value(forecast: Forecast, field: str) -> Any:
    """One term as the ledger states it."""
    if field == "forecaster":
        return forecaster_doc(forecast.forecaster)
    if field == "source":
        return source_doc(forecast.source)
    value = getattr(forecast, field)
    return value.isoformat() if isinstance(value, dt.date) else value


def terms_doc(forecast: Forecast) -> dict[str, Any]:
    return {field: term_value(forecast, field) for field in TERM_FIELDS}


def estimate_doc(estimate: Estimate) -> dict[str, Any]:
    return {
        "id": estimate.pk,
        "made_on": estimate.made_on.isoformat(),
        "probability": float(estimate.probability),
        "low": None if estimate.low is None else float(estimate.low),
        "high": None if estimate.high is None else float(estimate.high),
        "basis": estimate.basis,
        "phrase": estimate.phrase,
        "negated": estimate.negated,
        "note": estimate.note,
        "historical": estimate.historical,
    }


def publication_doc(
    forecast: Forecast, estimates: Iterable[Estimate], *, historical_reason: str = ""
) -> dict[str, Any]:
    """The terms and the estimates standing at publication (a draft's estimates are not
    public until then)."""
    assert forecast.published_at is not None
    document = {
        "published_at": moment(forecast.published_at),
        "terms": terms_doc(forecast),
        "estimates": [estimate_doc(estimate) for estimate in estimates],
    }
    if historical_reason:
        document["historical_import"] = historical_reason
    return document


def resolution_kind(resolution: Resolution) -> str:
    if resolution.outcome == Outcome.ANNULLED:
        return "annulment"
    return "correction" if resolution.supersedes_id is not None else "resolution"


def resolution_doc(resolution: Resolution) -> dict[str, Any]:
    return {
        "id": resolution.pk,
        "outcome": resolution.outcome,
        "known_on": resolution.known_on.isoformat(),
        "evidence_url": resolution.evidence_url,
        "evidence_note": resolution.evidence_note,
        "supersedes": resolution.supersedes_id,
        "correction_reason": resolution.correction_reason,
    }


def extension_doc(extension: DeadlineExtension) -> dict[str, Any]:
    return {
        "id": extension.pk,
        "previous_resolve_by": extension.previous_resolve_by.isoformat(),
        "new_resolve_by": extension.new_resolve_by.isoformat(),
        "reason": extension.reason,
    }


def amendment_doc(amendment: ForecastAmendment) -> dict[str, Any]:
    """``changes`` as stored: ``{term: [before, after]}`` in the ledger's notation."""
    return {"id": amendment.pk, "changes": amendment.changes, "reason": amendment.reason}
