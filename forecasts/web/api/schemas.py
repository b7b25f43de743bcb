"""What the API reads and writes: query parameters and response bodies.

The response schemas read model objects and annotated querysets directly (django-ninja
resolves attributes, dotted aliases and ``resolve_<field>`` methods). Each is an explicit
list of fields, so nothing a reader should not see (drafts, who resolved or recorded
anything, e-mail addresses) can slip out through a model attribute.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.conf import settings
from ninja import Field, Schema
from pydantic import ConfigDict

from forecasts.core.models import Estimate, Forecast, Resolution
from forecasts.scores.forecast import forecast_score, published_brier
from forecasts.web.filters import Absent, PublicStatus
from forecasts.web.pagination import PageFields

OutcomeValue = Literal["YES", "NO", "ANNULLED"]
Precision = Literal["day", "month", "year"]
BasisValue = Literal["number", "phrase"]
ScopeKindValue = Literal["all", "forecaster", "source", "tag"]
MAX_ID = 2**63 - 1


# --- Query parameters (the forecast filters are forecasts.web.filters.ForecastFilters) ---


class ScoresQuery(Schema):
    kind: ScopeKindValue | Absent = Field(None, description="Only scopes of this kind.")


class SnapshotQuery(Schema):
    scope_kind: ScopeKindValue = Field("all", description="The kind of scope.")
    scope_id: int = Field(
        0, ge=0, le=MAX_ID, description="The forecaster, source or tag id; 0 for everything."
    )


# --- Response bodies --------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, str]] | None = None


class TagOut(Schema):
    slug: str
    name: str


class SourceRef(Schema):
    key: str
    title: str
    url: str = Field(description="The article's address; empty when unknown.")
    publisher: str


class ForecasterRef(Schema):
    slug: str
    name: str


# (Comments, not docstrings, on the schemas: a docstring would become the schema's
# description in the OpenAPI document.)


# A forecast of forecast_public_list with with_row_details: the first estimate's and the
# current resolution's fields are its annotations.
class ForecastOut(Schema):
    slug: str
    statement: str
    quote: str
    source: SourceRef
    forecaster: ForecasterRef
    made_on: dt.date
    made_on_precision: Precision
    resolve_by: dt.date
    status: PublicStatus
    probability: float | None = Field(description="The estimate standing now.")
    published_probability: float | None = Field(description="The first estimate (scored).")
    basis: BasisValue | None = Field(description="How the first estimate was stated.")
    phrase: str = Field(description="The verbal phrase of the first estimate, if any.")
    negated: bool = Field(description="The phrase qualified the negation of the statement.")
    outcome: OutcomeValue | None
    known_on: dt.date | None
    evidence_url: str | None
    brier: float | None = Field(description="Brier score at publication; null if not scored.")
    tags: list[TagOut]
    url: str = Field(description="The forecast's public page.")

    @staticmethod
    def resolve_basis(forecast: Forecast) -> str | None:
        return getattr(forecast, "published_basis", None)

    @staticmethod
    def resolve_phrase(forecast: Forecast) -> str:
        return getattr(forecast, "published_phrase", None) or ""

    @staticmethod
    def resolve_negated(forecast: Forecast) -> bool:
        return bool(getattr(forecast, "published_negated", False))

    @staticmethod
    def resolve_brier(forecast: Forecast) -> float | None:
        return published_brier(forecast)

    @staticmethod
    def resolve_url(forecast: Forecast) -> str:
        return settings.SITE_URL + forecast.get_absolute_url()


class EstimateOut(Schema):
    made_on: dt.date
    probability: float
    low: float | None
    high: float | None
    basis: BasisValue
    phrase: str
    negated: bool
    note: str


class ResolutionOut(Schema):
    outcome: OutcomeValue
    known_on: dt.date
    evidence_url: str
    evidence_note: str
    correction_reason: str
    resolved_at: dt.datetime
    is_current: bool


class ExtensionOut(Schema):
    previous_resolve_by: dt.date
    new_resolve_by: dt.date
    reason: str
    extended_at: dt.datetime


def _first_estimate(forecast: Forecast) -> Estimate | None:
    # The detail's estimates are prefetched oldest first.
    return next(iter(forecast.estimates.all()), None)


def _current_resolution(forecast: Forecast) -> Resolution | None:
    return next((r for r in forecast.resolutions.all() if r.is_current), None)


# A forecast of forecast_public_detail: its history is prefetched, so the first estimate's
# and the current resolution's fields are read from it.
class ForecastDetailOut(ForecastOut):
    resolution_criteria: str
    resolve_by_note: str
    condition: str
    time_averaged_brier: float | None
    estimates: list[EstimateOut] = Field(description="Oldest first; the last one stands.")
    resolutions: list[ResolutionOut] = Field(
        description="Newest first: the current resolution, then those it corrected."
    )
    extensions: list[ExtensionOut] = Field(description="Deadline extensions, oldest first.")

    @staticmethod
    def resolve_basis(forecast: Forecast) -> str | None:
        first = _first_estimate(forecast)
        return first.basis if first else None

    @staticmethod
    def resolve_phrase(forecast: Forecast) -> str:
        first = _first_estimate(forecast)
        return first.phrase if first else ""

    @staticmethod
    def resolve_negated(forecast: Forecast) -> bool:
        first = _first_estimate(forecast)
        return first.negated if first else False

    @staticmethod
    def resolve_known_on(forecast: Forecast) -> dt.date | None:
        current = _current_resolution(forecast)
        return current.known_on if current else None

    @staticmethod
    def resolve_evidence_url(forecast: Forecast) -> str | None:
        current = _current_resolution(forecast)
        return current.evidence_url if current else None

    @staticmethod
    def resolve_time_averaged_brier(forecast: Forecast) -> float | None:
        score = forecast_score(
            forecast=forecast,
            estimates=list(forecast.estimates.all()),
            resolution=_current_resolution(forecast),
        )
        return score.time_averaged_brier if score else None


class ForecasterOut(Schema):
    id: int
    slug: str
    name: str
    kind: Literal["person", "outlet"]
    url: str
    description: str
    forecast_count: int


class SourceOut(Schema):
    id: int
    key: str
    title: str
    url: str
    publisher: str
    author: str
    published_on: dt.date
    published_precision: Precision
    has_text: bool
    forecast_count: int


class ScopeOut(Schema):
    kind: ScopeKindValue
    id: int
    slug: str
    name: str


class ScoresOut(Schema):
    resolved_count: int
    yes_count: int
    brier: float | None
    shrunk_brier: float | None
    time_averaged_brier: float | None
    log_loss: float | None
    skill_vs_coin: float | None
    skill_vs_base_rate: float | None
    calibration: list[dict[str, Any]]
    murphy: dict[str, Any]


_SCOPE_FIELDS = frozenset(ScopeOut.model_fields)
_PLACE_FIELDS = frozenset({"rank", "ranked"})


def _scope_or_snapshot(field: str) -> str:
    if field in _PLACE_FIELDS:
        return field
    return f"scope.{field}" if field in _SCOPE_FIELDS else f"snapshot.{field}"


# A ScopeSnapshot: the scope's fields are read from its scope, its place on the board
# from itself, the rest from its snapshot (each field's alias is its dotted path).
class ScopeScoresOut(ScopeOut, ScoresOut):
    model_config = ConfigDict(alias_generator=_scope_or_snapshot)

    as_of: dt.date
    ranked: bool = Field(
        description=(
            "Whether its kind's leaderboard ranks it: only forecasters, sources and tags "
            "with at least LEADERBOARD_MIN_RESOLVED resolved forecasts are ranked "
            "(never everything)."
        )
    )
    rank: int | None = Field(
        description=(
            "Its place among the ranked of its kind, by shrunk_brier (equal scores share "
            "a place); null when it is not ranked."
        )
    )


class SnapshotOut(ScoresOut):
    as_of: dt.date
    computed_at: dt.datetime


class PhraseOut(Schema):
    phrase: str = Field(description="The verbal phrase, lower-cased.")
    count: int = Field(description="Resolved forecasts whose first estimate used it.")
    happened: int = Field(description="How many of them came true.")
    observed_frequency: float
    interval_low: float = Field(description="95 % Wilson interval of the frequency.")
    interval_high: float


class PhrasesOut(Schema):
    scope: ScopeOut
    items: list[PhraseOut]


ChainValue = Literal["record", "synthetic"]
KindValue = Literal[
    "publication", "estimate", "resolution", "correction", "annulment", "extension", "amendment"
]
ActorValue = Literal["editor", "reviewer", "system", "import"]


class LedgerQuery(Schema):
    chain: ChainValue = Field(
        "record", description="The public record, or the developer tools' synthetic chain."
    )
    after: int = Field(0, ge=0, le=MAX_ID, description="Only entries with a greater seq.")
    forecast: str | None = Field(
        None, max_length=100, description="Only the entries of the forecast with this slug."
    )


class HeadQuery(Schema):
    chain: ChainValue = Field("record", description="Which chain's head.")


# A LedgerEntry of ledger_entries (its forecast's slug annotated).
class LedgerEntryOut(Schema):
    seq: int
    recorded_at: dt.datetime
    kind: KindValue
    forecast: str = Field(alias="forecast_slug", description="The forecast's slug.")
    actor: ActorValue = Field(description="Who acted, as a role: the ledger names no one.")
    payload: str = Field(description="The canonical JSON that was hashed, exactly.")
    hash: str = Field(description="sha256(previous entry's hash + payload), hex.")


class LedgerHeadOut(Schema):
    chain: ChainValue
    seq: int = Field(description="The newest entry's seq; 0 for an empty chain.")
    hash: str = Field(description="The newest entry's hash; 64 zeros for an empty chain.")


# --- Pages (forecasts.web.pagination.PublicPagination fills them) -------------------------


class ForecastPage(PageFields):
    items: list[ForecastOut]


class ForecasterPage(PageFields):
    items: list[ForecasterOut]


class SourcePage(PageFields):
    items: list[SourceOut]


class _AsOf(Schema):
    as_of: dt.date | None


# as_of comes before the page's fields: fields are ordered from the last base class.
class LatestScoresOut(PageFields, _AsOf):
    items: list[ScopeScoresOut]


class LedgerPage(PageFields):
    items: list[LedgerEntryOut]


class SnapshotPage(PageFields):
    scope: ScopeOut
    items: list[SnapshotOut]
