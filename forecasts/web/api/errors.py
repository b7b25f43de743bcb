"""The 400 a bad query parameter gets, from the API and the CSV export alike: one sentence
naming every bad parameter, and the same as a list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from forecasts.web.api.schemas import LedgerQuery, ScoresQuery, SnapshotQuery
from forecasts.web.filters import ForecastFilters
from forecasts.web.pagination import PageQuery

_PARAMETERS = {
    "slug",
    *ForecastFilters.model_fields,
    *PageQuery.model_fields,
    *ScoresQuery.model_fields,
    *SnapshotQuery.model_fields,
    *LedgerQuery.model_fields,
}


def parameter_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Pydantic's errors as ``{"param", "message"}``: one per parameter, no internals."""
    described: dict[str, str] = {}
    for error in errors:
        # ninja may put the view's argument name in the location, and pydantic the branch
        # of a union after the parameter's name: ("query", "filters", "status", "none").
        # An optional parameter's first error is about its real type, not about None.
        location = [str(part) for part in error.get("loc", ())]
        name = next((part for part in location if part in _PARAMETERS), "request")
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        described.setdefault(name, message)
    return [{"param": name, "message": message} for name, message in described.items()]


def parameter_error_message(errors: Iterable[Mapping[str, Any]]) -> str:
    """One sentence naming every bad parameter, for a 400 response."""
    parts = [f"{error['param']}: {error['message']}" for error in parameter_errors(errors)]
    return "Bad query parameter. " + "; ".join(parts) + "."
