"""Reads for the public scorecard and the forecaster, source and tag pages.

Every function runs a fixed number of queries whatever the amount of data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.validators import slug_re
from django.db.models import F, OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

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
        if len(values) < 2:
            return ""  # not enough history to tell
        if abs(values[-1] - values[0]) < 1e-9:
            return "steady"
        return "improving" if values[-1] < values[0] else "worsening"


def headline(*, at: dt.datetime) -> Headline:
    from forecasts.selectors import forecast_status_counts

    by_status = forecast_status_counts(at=at)
    return Headline(
        tracked=sum(by_status.values()) - by_status["draft"],
        resolved=by_status.get("resolved", 0),
        due=by_status.get("due", 0),
        open=by_status.get("open", 0),
        overall=latest_overall(),
    )


def latest_overall() -> ScoreSnapshot | None:
    """The newest snapshot of everything: the headline scores and the phrase table."""
    return ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL).order_by("-as_of").first()


@dataclass(frozen=True)
class BoardFilters:
    """The leaderboards' tag and period filters, validated.

    A period keeps the forecasts whose outcome became known in it: ``all``,
    ``12m`` (the last twelve months) or a calendar year such as ``2020``.
    """

    tag: Tag | None = None
    period: str = "all"
    known_from: dt.date | None = None
    known_until: dt.date | None = None

    @property
    def active(self) -> bool:
        return self.tag is not None or self.period != "all"

    def query(self, **extra: str) -> str:
        """The query string that keeps these filters (plus ``extra``) in a link."""
        params = {"tag": self.tag.slug if self.tag else "", "period": self.period, **extra}
        return urlencode({k: v for k, v in params.items() if v and v != "all"})


FIRST_YEAR = 1900


def board_sort_check(sort: str) -> str:
    """``sort`` when it is one of :data:`LEADERBOARD_SORTS`; ``ValueError`` otherwise."""
    if sort not in LEADERBOARD_SORTS:
        raise ValueError(f"Unknown sort {sort!r}; use one of {', '.join(LEADERBOARD_SORTS)}.")
    return sort


def board_filters(*, tag: str | None, period: str | None, today: dt.date) -> BoardFilters:
    """Parse the ``tag`` and ``period`` query parameters; ``ValueError`` says what is wrong."""
    chosen_tag = None
    if tag:
        # Only a slug can name a tag; PostgreSQL refuses a NUL byte in a query (a 500).
        chosen_tag = Tag.objects.filter(slug=tag).first() if slug_re.fullmatch(tag) else None
        if chosen_tag is None:
            raise ValueError(f"There is no tag {tag!r}.")
    period = period or "all"
    if period == "all":
        return BoardFilters(tag=chosen_tag)
    if period == "12m":
        year_ago = today.replace(year=today.year - 1, day=min(today.day, 28))
        return BoardFilters(tag=chosen_tag, period=period, known_from=year_ago, known_until=today)
    if period.isascii() and period.isdigit() and FIRST_YEAR <= int(period) <= today.year:
        year = int(period)
        return BoardFilters(
            tag=chosen_tag,
            period=period,
            known_from=dt.date(year, 1, 1),
            known_until=min(dt.date(year, 12, 31), today),
        )
    raise ValueError(
        f"Unknown period {period!r}; use 'all', '12m' or a year from {FIRST_YEAR} to {today.year}."
    )


def period_choices(*, today: dt.date) -> list[tuple[str, str]]:
    """The periods worth offering: all time, the last year, and each year with outcomes."""
    first = (
        Resolution.objects.filter(is_current=True, forecast__published_at__isnull=False)
        .order_by("known_on")
        .values_list("known_on", flat=True)
        .first()
    )
    years = range(today.year, (first.year if first else today.year) - 1, -1)
    return [("all", "All time"), ("12m", "Last 12 months")] + [(str(y), str(y)) for y in years]


def tag_choices() -> list[tuple[str, str]]:
    return list(Tag.objects.order_by("name").values_list("slug", "name"))


@dataclass(frozen=True)
class Board:
    """One page of a leaderboard and how many rows the whole board has."""

    rows: list[BoardRow]
    total: int


def leaderboard(
    kind: str,
    *,
    sort: str = "rank",
    filters: BoardFilters | None = None,
    limit: int | None = None,
    offset: int = 0,
    today: dt.date | None = None,
    scored: list[ScoreSnapshot] | None = None,
) -> Board:
    """A page of forecasters (or sources, or tags) by score, with each row's Brier history.

    Unfiltered boards read the latest snapshot, sorted and sliced by the database.
    Filtered boards are scored afresh from the forecasts the filters keep (the
    snapshots hold no per-tag or per-period breakdown), without history; pass
    ``scored`` (from :func:`filtered_snapshots`) to share that work between boards.
    ``sort`` is one of :data:`LEADERBOARD_SORTS` (``ValueError`` otherwise).
    """
    board_sort_check(sort)
    if filters is not None and filters.active:
        if scored is None:
            scored = filtered_snapshots(filters, today=today or dt.date.today())
        return _filtered_board(kind, sort, scored, limit, offset)
    model, slug_field, label = _SCOPE_MODELS[kind]
    named = model.objects.filter(pk=OuterRef("scope_id"))
    latest = ScoreSnapshot.objects.filter(scope_kind=kind).order_by("-as_of").values("as_of")[:1]
    snapshots = (
        ScoreSnapshot.objects.filter(scope_kind=kind, as_of=Subquery(latest))
        .annotate(
            scope_slug=Subquery(named.values(slug_field)[:1]),
            scope_name=Subquery(named.values(label)[:1]),
        )
        .filter(scope_slug__isnull=False)
    )
    attribute, descending, _ = LEADERBOARD_SORTS[sort]
    column = F(attribute).desc(nulls_last=True) if descending else F(attribute).asc(nulls_last=True)
    ordered = snapshots.order_by(column, "scope_name", "scope_id")
    page = list(ordered[offset : offset + limit] if limit is not None else ordered[offset:])
    if limit is None or (offset == 0 and len(page) < limit):
        total = offset + len(page)  # the whole board was read: no need to count
    else:
        total = snapshots.count()
    history: dict[int, list[float | None]] = {s.scope_id: [] for s in page}
    if page:
        points = (
            ScoreSnapshot.objects.filter(scope_kind=kind, scope_id__in=list(history))
            .order_by("as_of")
            .values_list("scope_id", "brier")
        )
        for scope_id, brier in points:
            history[scope_id].append(brier)
    rows = [
        BoardRow(slug=s.scope_slug, name=s.scope_name, snapshot=s, history=history[s.scope_id])
        for s in page
    ]
    return Board(rows=rows, total=total)


def filtered_snapshots(filters: BoardFilters, *, today: dt.date) -> list[ScoreSnapshot]:
    """Unsaved snapshots of every scope, scored from the forecasts the filters keep.

    Three queries; a page showing several filtered boards computes this once.
    """
    from forecasts.selectors import score_rows
    from forecasts.services.scores import scope_snapshots, scored_forecasts

    as_of = filters.known_until or today
    scored = scored_forecasts(
        score_rows(
            as_of=as_of,
            known_from=filters.known_from,
            tag_id=filters.tag.pk if filters.tag else None,
        )
    )
    return scope_snapshots(scored, as_of=as_of)


def _filtered_board(
    kind: str, sort: str, snapshots: list[ScoreSnapshot], limit: int | None, offset: int
) -> Board:
    mine = [s for s in snapshots if s.scope_kind == kind]
    model, slug_field, label = _SCOPE_MODELS[kind]
    names = {
        row["pk"]: (row[slug_field], row[label])
        for row in model.objects.filter(pk__in=[s.scope_id for s in mine]).values(
            "pk", slug_field, label
        )
    }
    board = [
        BoardRow(slug=names[s.scope_id][0], name=names[s.scope_id][1], snapshot=s)
        for s in mine
        if s.scope_id in names
    ]
    attribute, descending, _ = LEADERBOARD_SORTS[sort]

    def key(row: BoardRow) -> tuple[bool, float, str, int]:
        value = getattr(row.snapshot, attribute)
        number = float(value or 0)
        return (value is None, -number if descending else number, row.name, row.snapshot.scope_id)

    board.sort(key=key)
    end = None if limit is None else offset + limit
    return Board(rows=board[offset:end], total=len(board))


# The model of each scope kind, its URL key field and its display name field.
_SCOPE_MODELS: dict[str, tuple[type[Any], str, str]] = {
    ScopeKind.FORECASTER: (Forecaster, "slug", "name"),
    ScopeKind.SOURCE: (Source, "key", "title"),
    ScopeKind.TAG: (Tag, "slug", "name"),
}


def phrase_table(
    forecasts: ForecastQuerySet | None = None, *, known_by: dt.date | None = None
) -> list[scoring.PhraseCalibration]:
    """How often events described with each verbal phrase happened (first estimates only),
    counting the outcomes known by ``known_by`` (all of them when it is None)."""
    # One filter() for every condition on the resolution, so that all of them hold for
    # the same (current) row: a separate filter() joins resolutions again, and a
    # superseded resolution's date would stand in for the current one's.
    resolution: dict[str, object] = {
        "forecast__resolutions__is_current": True,
        "forecast__resolutions__outcome__in": [Outcome.YES, Outcome.NO],
    }
    if known_by is not None:
        resolution["forecast__resolutions__known_on__lte"] = known_by
    estimates = Estimate.objects.filter(
        basis=Basis.PHRASE, negated=False, forecast__published_at__isnull=False, **resolution
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


def scorecard_phrases(overall: ScoreSnapshot | None) -> list[scoring.PhraseCalibration]:
    """The scorecard's phrase table: the one the latest overall snapshot holds (computed
    with it, off the request path), else computed now."""
    if overall is not None and overall.phrases is not None:
        return [scoring.PhraseCalibration(**row) for row in overall.phrases]
    return phrase_table()


def scope_phrases(*, kind: str, scope_id: int) -> list[scoring.PhraseCalibration]:
    """A scope's phrase table: everything's from its latest snapshot, a forecaster's,
    source's or tag's computed from its forecasts."""
    if kind == ScopeKind.ALL:
        return scorecard_phrases(latest_overall())
    member = {
        ScopeKind.FORECASTER: "forecaster_id",
        ScopeKind.SOURCE: "source_id",
        ScopeKind.TAG: "tags",
    }[ScopeKind(kind)]
    return phrase_table(Forecast.objects.filter(**{member: scope_id}))


def coming_due(*, at: dt.datetime, limit: int = RECENT) -> list[tuple[Forecast, int]]:
    """Open forecasts nearest their deadline, with the days left."""
    today = timezone.localdate(at)
    forecasts = _by_deadline(Forecast.objects.open(at=at), at=at, limit=limit)
    return [(forecast, (forecast.resolve_by - today).days) for forecast in forecasts]


def awaiting_verdict(*, at: dt.datetime, limit: int = RECENT) -> list[tuple[Forecast, int]]:
    """Forecasts past their deadline with no verdict yet, longest overdue first, with the
    days since the deadline: in public, so none can quietly rot unresolved."""
    today = timezone.localdate(at)
    forecasts = _by_deadline(Forecast.objects.due(at=at), at=at, limit=limit)
    return [(forecast, (today - forecast.resolve_by).days) for forecast in forecasts]


def _by_deadline(forecasts: ForecastQuerySet, *, at: dt.datetime, limit: int) -> list[Forecast]:
    return list(
        forecasts.with_status(at=at)
        .select_related("forecaster", "source")
        .order_by("resolve_by", "pk")[:limit]
    )


def recently_resolved(*, limit: int = RECENT) -> list[Resolution]:
    return list(
        Resolution.objects.filter(is_current=True, forecast__published_at__isnull=False)
        .select_related("forecast", "forecast__forecaster")
        .order_by("-resolved_at", "-pk")[:limit]
    )


def scope_history(kind: str, scope_id: int) -> list[ScoreSnapshot]:
    return list(ScoreSnapshot.objects.filter(scope_kind=kind, scope_id=scope_id).order_by("as_of"))


SCOPE_PAGE_SIZE = 50


@dataclass(frozen=True)
class ScopePage:
    obj: Any
    forecasts: list[Forecast]  # one page of them
    total: int
    number: int
    pages: int
    latest: ScoreSnapshot | None
    history: list[ScoreSnapshot]
    phrases: list[scoring.PhraseCalibration]


def _scope_page(
    kind: str,
    obj: Any,
    forecasts: ForecastQuerySet,
    *,
    at: dt.datetime,
    number: int,
    order: tuple[Any, ...] = ("resolve_by", "pk"),
) -> ScopePage:
    """``ValueError`` when ``number`` is past the last page."""
    published = forecasts.published()
    total = published.count()
    pages = max(1, -(-total // SCOPE_PAGE_SIZE))
    if not 1 <= number <= pages:
        raise ValueError(
            f"Page {number} does not exist: there {'is' if pages == 1 else 'are'} {pages}."
        )
    offset = (number - 1) * SCOPE_PAGE_SIZE
    listed = list(
        published.with_status(at=at)
        .select_related("forecaster", "source")
        .order_by(*order)[offset : offset + SCOPE_PAGE_SIZE]
    )
    history = scope_history(kind, obj.pk)
    return ScopePage(
        obj=obj,
        forecasts=listed,
        total=total,
        number=number,
        pages=pages,
        latest=history[-1] if history else None,
        history=history,
        phrases=phrase_table(forecasts),
    )


def forecaster_page(*, slug: str, at: dt.datetime, number: int = 1) -> ScopePage:
    forecaster = get_object_or_404(Forecaster, slug=slug)
    forecasts = Forecast.objects.filter(forecaster=forecaster)
    return _scope_page(ScopeKind.FORECASTER, forecaster, forecasts, at=at, number=number)


def tag_page(*, slug: str, at: dt.datetime, number: int = 1) -> ScopePage:
    tag = get_object_or_404(Tag, slug=slug)
    forecasts = Forecast.objects.filter(tags=tag)
    return _scope_page(ScopeKind.TAG, tag, forecasts, at=at, number=number)


def source_page(*, key: str, at: dt.datetime, number: int = 1) -> ScopePage:
    source = get_object_or_404(Source, key=key)
    # The source page lists quotes in the order they appear in the text.
    return _scope_page(
        ScopeKind.SOURCE,
        source,
        Forecast.objects.filter(source=source),
        at=at,
        number=number,
        order=(F("quote_start").asc(nulls_last=True), "pk"),
    )


def source_quotes(source: Source) -> list[Forecast]:
    """Every published forecast quoted from the source's stored text (for highlighting)."""
    if not source.text:
        return []
    return list(
        Forecast.objects.published()
        .filter(source=source, quote_start__isnull=False, quote_end__isnull=False)
        .only("slug", "statement", "quote_start", "quote_end")
        .order_by("quote_start", "pk")
    )


@dataclass(frozen=True)
class TextPart:
    text: str
    forecast: Forecast | None  # set for a highlighted quote


def highlighted_text(source: Source, forecasts: list[Forecast]) -> list[TextPart]:
    """The source's text cut into plain runs and quoted runs (the published forecasts' quotes)."""
    if not source.text:
        return []
    spans = sorted(
        (
            (f.quote_start, f.quote_end, f)
            for f in forecasts
            if f.quote_start is not None and f.quote_end is not None
        ),
        # Two forecasts may quote the same sentence: the forecasts themselves don't compare.
        key=lambda span: (span[0], span[1], span[2].pk),
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
