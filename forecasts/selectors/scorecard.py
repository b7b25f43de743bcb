"""Reads for the public scorecard and the forecaster, source and tag pages.

Every function runs a fixed number of queries whatever the amount of data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.shortcuts import get_object_or_404

from forecasts import scoring
from forecasts.models import (
    Basis,
    Estimate,
    Forecast,
    Forecaster,
    ForecastQuerySet,
    Outcome,
    Resolution,
    ScopeKind,
    ScoreSnapshot,
    Source,
    Tag,
)

# sort parameter: (snapshot attribute, descending, label)
LEADERBOARD_SORTS = {
    "rank": ("shrunk_brier", False, "Ranking score"),
    "brier": ("brier", False, "Brier"),
    "resolved": ("resolved_count", True, "Resolved"),
    "log_loss": ("log_loss", False, "Log loss"),
    "skill": ("skill_vs_coin", True, "Skill"),
}
RECENT = 10


@dataclass(frozen=True)
class Headline:
    tracked: int
    resolved: int
    due: int
    open: int
    overall: ScoreSnapshot | None


@dataclass(frozen=True)
class BoardRow:
    slug: str
    name: str
    snapshot: ScoreSnapshot
    history: list[float | None] = field(default_factory=list)

    @property
    def trend(self) -> str:
        """'improving' when the Brier score fell since the first snapshot, etc."""
        values = [v for v in self.history if v is not None]
        if len(values) < 2 or abs(values[-1] - values[0]) < 1e-9:
            return "steady"
        return "improving" if values[-1] < values[0] else "worsening"


def headline(*, at: dt.datetime) -> Headline:
    from forecasts.selectors import forecast_status_counts

    by_status = forecast_status_counts(at=at)
    overall = ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL).order_by("-as_of").first()
    return Headline(
        tracked=sum(by_status.values()) - by_status["draft"],
        resolved=by_status.get("resolved", 0),
        due=by_status.get("due", 0),
        open=by_status.get("open", 0),
        overall=overall,
    )


def leaderboard(kind: str, *, sort: str = "rank") -> list[BoardRow]:
    """The latest snapshot of every forecaster (or source, or tag), sorted, with history.

    ``sort`` is one of :data:`LEADERBOARD_SORTS` (``ValueError`` otherwise).
    """
    if sort not in LEADERBOARD_SORTS:
        raise ValueError(f"Unknown sort {sort!r}; use one of {', '.join(LEADERBOARD_SORTS)}.")
    latest = (
        ScoreSnapshot.objects.filter(scope_kind=kind).order_by("-as_of").values("as_of").first()
    )
    if latest is None:
        return []
    snapshots = list(ScoreSnapshot.objects.filter(scope_kind=kind, as_of=latest["as_of"]))
    ids = [snapshot.scope_id for snapshot in snapshots]
    model, slug_field, label = _SCOPE_MODELS[kind]
    names = {
        row["pk"]: (row[slug_field], row[label])
        for row in model.objects.filter(pk__in=ids).values("pk", slug_field, label)
    }
    history: dict[int, list[float | None]] = {scope_id: [] for scope_id in ids}
    rows = (
        ScoreSnapshot.objects.filter(scope_kind=kind, scope_id__in=ids)
        .order_by("as_of")
        .values_list("scope_id", "brier")
    )
    for scope_id, brier in rows:
        history[scope_id].append(brier)
    board = [
        BoardRow(
            slug=names.get(s.scope_id, ("", f"#{s.scope_id}"))[0],
            name=names.get(s.scope_id, ("", f"#{s.scope_id}"))[1],
            snapshot=s,
            history=history[s.scope_id],
        )
        for s in snapshots
        if s.scope_id in names
    ]
    attribute, descending, _ = LEADERBOARD_SORTS[sort]

    def key(row: BoardRow) -> tuple[bool, float, str]:
        value = getattr(row.snapshot, attribute)
        missing = value is None
        number = float(value or 0)
        return (missing, -number if descending else number, row.name)

    return sorted(board, key=key)


# The model of each scope kind, its URL key field and its display name field.
_SCOPE_MODELS: dict[str, tuple[type[Any], str, str]] = {
    ScopeKind.FORECASTER: (Forecaster, "slug", "name"),
    ScopeKind.SOURCE: (Source, "key", "title"),
    ScopeKind.TAG: (Tag, "slug", "name"),
}


def phrase_table(forecasts: ForecastQuerySet | None = None) -> list[scoring.PhraseCalibration]:
    """How often events described with each verbal phrase happened (first estimates only)."""
    estimates = Estimate.objects.filter(
        basis=Basis.PHRASE,
        negated=False,
        forecast__published_at__isnull=False,
        forecast__resolutions__is_current=True,
        forecast__resolutions__outcome__in=[Outcome.YES, Outcome.NO],
    )
    if forecasts is not None:
        estimates = estimates.filter(forecast__in=forecasts)
    rows = list(
        estimates.order_by("forecast_id", "made_on", "pk").values_list(
            "forecast_id", "phrase", "forecast__resolutions__outcome"
        )
    )
    first: dict[int, tuple[str, int]] = {}
    for forecast_id, phrase, outcome in rows:
        first.setdefault(forecast_id, (phrase, 1 if outcome == Outcome.YES else 0))
    if not first:
        return []
    phrases, outcomes = zip(*first.values(), strict=True)
    return scoring.phrase_calibration(list(phrases), list(outcomes))


def coming_due(*, at: dt.datetime, limit: int = RECENT) -> list[tuple[Forecast, int]]:
    """Open forecasts nearest their deadline, with the days left."""
    today = at.date()
    forecasts = (
        Forecast.objects.open(at=at)
        .with_status(at=at)
        .select_related("forecaster", "source")
        .order_by("resolve_by", "pk")[:limit]
    )
    return [(forecast, (forecast.resolve_by - today).days) for forecast in forecasts]


def recently_resolved(*, limit: int = RECENT) -> list[Resolution]:
    return list(
        Resolution.objects.filter(is_current=True, forecast__published_at__isnull=False)
        .select_related("forecast", "forecast__forecaster")
        .order_by("-resolved_at", "-pk")[:limit]
    )


def scope_history(kind: str, scope_id: int) -> list[ScoreSnapshot]:
    return list(ScoreSnapshot.objects.filter(scope_kind=kind, scope_id=scope_id).order_by("as_of"))


@dataclass(frozen=True)
class ScopePage:
    obj: Any
    forecasts: list[Forecast]
    latest: ScoreSnapshot | None
    history: list[ScoreSnapshot]
    phrases: list[scoring.PhraseCalibration]


def _scope_page(kind: str, obj: Any, forecasts: ForecastQuerySet, *, at: dt.datetime) -> ScopePage:
    history = scope_history(kind, obj.pk)
    listed = list(
        forecasts.published()
        .with_status(at=at)
        .select_related("forecaster", "source")
        .prefetch_related("tags")
        .order_by("resolve_by", "pk")
    )
    return ScopePage(
        obj=obj,
        forecasts=listed,
        latest=history[-1] if history else None,
        history=history,
        phrases=phrase_table(forecasts),
    )


def forecaster_page(*, slug: str, at: dt.datetime) -> ScopePage:
    forecaster = get_object_or_404(Forecaster, slug=slug)
    forecasts = Forecast.objects.filter(forecaster=forecaster)
    return _scope_page(ScopeKind.FORECASTER, forecaster, forecasts, at=at)


def tag_page(*, slug: str, at: dt.datetime) -> ScopePage:
    tag = get_object_or_404(Tag, slug=slug)
    return _scope_page(ScopeKind.TAG, tag, Forecast.objects.filter(tags=tag), at=at)


def source_page(*, key: str, at: dt.datetime) -> ScopePage:
    source = get_object_or_404(Source, key=key)
    page = _scope_page(ScopeKind.SOURCE, source, Forecast.objects.filter(source=source), at=at)
    # The source page lists quotes in the order they appear in the text.
    page.forecasts.sort(key=lambda f: (f.quote_start is None, f.quote_start or 0, f.pk))
    return page


@dataclass(frozen=True)
class TextPart:
    text: str
    forecast: Forecast | None  # set for a highlighted quote


def highlighted_text(source: Source, forecasts: list[Forecast]) -> list[TextPart]:
    """The source's text cut into plain runs and quoted runs (the published forecasts' quotes)."""
    if not source.text:
        return []
    spans = sorted(
        (f.quote_start, f.quote_end, f)
        for f in forecasts
        if f.quote_start is not None and f.quote_end is not None
    )
    parts: list[TextPart] = []
    position = 0
    for start, end, forecast in spans:
        if start < position:  # overlapping quotes: keep the first
            continue
        if start > position:
            parts.append(TextPart(source.text[position:start], None))
        parts.append(TextPart(source.text[start:end], forecast))
        position = end
    if position < len(source.text):
        parts.append(TextPart(source.text[position:], None))
    return parts
