"""Public pages: thin adapters over selectors."""

import logging
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from forecasts.core import selectors as core_selectors
from forecasts.core.ledger.selectors import ledger_forecast_history
from forecasts.scores import boards
from forecasts.scores.additive import SHRINK_PSEUDOCOUNT
from forecasts.scores.filtered import filtered_scores
from forecasts.scores.forecast import forecast_score
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.phrase_table import scorecard_phrases
from forecasts.scores.ranking import is_ranked, min_resolved
from forecasts.scores.scopes import scope_model
from forecasts.scores.selectors import scope_history, score_changes, scoreboard
from forecasts.scores.sums import scope_probability_count
from forecasts.web import charts
from forecasts.web import selectors as page_selectors
from forecasts.web.caching import cached_public_page
from forecasts.web.pagination import (
    PAGE_SIZE,
    Window,
    checked_page,
    page_number,
    page_offset,
)

logger = logging.getLogger(__name__)

# The query parameters a board page reads (_board_options); each cached view names
# those it reads, and no other makes a page of its own (caching.cached_public_page).
BOARD_PARAMS = ("sort", "tag", "period")


@require_safe
@cached_public_page(params=())
def forecast_detail(request: HttpRequest, slug: str) -> HttpResponse:
    forecast = core_selectors.forecast_public_detail(slug=slug, at=timezone.now())
    resolutions = list(forecast.resolutions.all())
    estimates = list(forecast.estimates.all())
    current = next((r for r in resolutions if r.is_current), None)
    return render(
        request,
        "forecasts/forecast_detail.html",
        {
            "forecast": forecast,
            "estimates": estimates,
            "current_resolution": current,
            "earlier_resolutions": [r for r in resolutions if not r.is_current],
            "score": forecast_score(forecast=forecast, estimates=estimates, resolution=current),
            "probability_chart": charts.forecast_probability_chart(forecast, estimates, current),
            "history": ledger_forecast_history(forecast_id=forecast.pk),
        },
    )


@require_safe
@cached_public_page(params=("sort",))
def scores(request: HttpRequest) -> HttpResponse:
    # Its boards' column headings sort them, as on the scorecard; they are not filtered.
    try:
        sort = boards.board_sort_check(request.GET.get("sort", "rank"))
    except ValueError as exc:
        return _bad_request(request, str(exc))
    filters = boards.BoardFilters()
    board = scoreboard()
    return render(
        request,
        "forecasts/scores.html",
        {
            "scoreboard": board,
            "changes": score_changes(board.history),
            "murphy": _murphy_reading(board.overall),
            "boards": [
                _board_context(name, sort, filters, limit=TOP_ROWS)
                for name in ("forecasters", "sources", "tags")
            ],
            **_filter_context(sort, filters),
        },
    )


@dataclass(frozen=True)
class MurphyReading:
    """The Murphy decomposition with what a reader needs to make sense of it."""

    reliability: float
    resolution: float
    uncertainty: float
    brier: float
    resolved: int
    groups: int  # distinct probabilities: the decomposition's groups

    @property
    def pure_groups(self) -> bool:
        """True when every group's outcomes were all the same (resolution equals
        uncertainty): then reliability is the Brier score itself and the split says
        nothing about calibration, which is what a handful of forecasts at each
        probability gives."""
        return abs(self.resolution - self.uncertainty) < 1e-9


def _murphy_reading(overall: ScoreSnapshot | None) -> MurphyReading | None:
    if overall is None or not overall.resolved_count or not overall.murphy:
        return None
    return MurphyReading(
        reliability=overall.murphy["reliability"],
        resolution=overall.murphy["resolution"],
        uncertainty=overall.murphy["uncertainty"],
        brier=overall.brier or 0.0,
        resolved=overall.resolved_count,
        groups=scope_probability_count(kind=ScopeKind.ALL, scope_id=0),
    )


# --- Scorecard and scope pages -----------------------------------------------------


# Leaderboards on the scorecard show the top rows; the full boards are paged.
TOP_ROWS = 10
SCORECARD_BOARDS = ("forecasters", "sources")
BOARDS = {
    # URL name: (scope kind, caption, column label, detail route)
    "forecasters": (ScopeKind.FORECASTER, "Forecasters", "Forecaster", "forecasts:forecaster"),
    "sources": (ScopeKind.SOURCE, "Sources", "Source", "forecasts:source"),
    "tags": (ScopeKind.TAG, "Tags", "Tag", "forecasts:tag"),
}


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "forecasts/bad_request.html", {"message": message}, status=400)


def _board_options(request: HttpRequest) -> tuple[str, boards.BoardFilters]:
    """The sort and filters asked for; ``ValueError`` with a message when they are wrong."""
    sort = boards.board_sort_check(request.GET.get("sort", "rank"))
    filters = boards.board_filters(
        tag=request.GET.get("tag"), period=request.GET.get("period"), today=timezone.localdate()
    )
    return sort, filters


def _board_context(
    name: str,
    sort: str,
    filters: boards.BoardFilters,
    *,
    limit: int,
    offset: int = 0,
    scored: list[ScoreSnapshot] | None = None,
) -> dict[str, object]:
    kind, caption, label, route = BOARDS[name]
    board = boards.leaderboard(
        kind,
        sort=sort,
        filters=filters,
        limit=limit,
        offset=offset,
        today=timezone.localdate(),
        scored=scored,
    )
    return {
        "name": name,
        "board": board,
        "rows": _with_sparklines(board.ranked_rows, sort=sort, offset=offset),
        "too_few": board.too_few_rows,
        "caption": caption,
        "label": label,
        "route": route,
    }


def _filter_context(sort: str, filters: boards.BoardFilters) -> dict[str, object]:
    return {
        "sort": sort,
        "filters": filters,
        "query": filters.query(sort=sort if sort != "rank" else ""),
        "sort_urls": {name: "?" + filters.query(sort=name) for name in boards.LEADERBOARD_SORTS},
        "sorts": [(name, label) for name, (_, _, label) in boards.LEADERBOARD_SORTS.items()],
        "tag_choices": boards.tag_choices(),
        "period_choices": boards.period_choices(today=timezone.localdate()),
        "pseudocount": SHRINK_PSEUDOCOUNT,
        "min_resolved": min_resolved(),
    }


@require_safe
@cached_public_page(params=BOARD_PARAMS)
def scorecard(request: HttpRequest) -> HttpResponse:
    try:
        sort, filters = _board_options(request)
    except ValueError as exc:
        return _bad_request(request, str(exc))
    now = timezone.now()
    headline = page_selectors.headline(at=now)
    filtered = (
        filtered_scores(
            filters,
            today=timezone.localdate(now),
            kinds=[BOARDS[name][0] for name in SCORECARD_BOARDS],
        )
        if filters.active
        else None
    )
    # What the headline, the charts and the phrase table show: the forecasts the filters
    # keep, or everything.
    overall = filtered.overall if filtered else headline.overall
    scored = filtered.scored if filtered else None
    calibration: charts.Chart | None = None
    if filtered:
        scope_name = _filter_name(filters)
        if filtered.overall.resolved_count:
            calibration = charts.calibration_chart_of(filtered.overall.calibration, name=scope_name)
        history = charts.snapshot_history_chart(
            filtered.history, name=f"{scope_name}, by the month the outcome became known"
        )
    else:
        if overall and overall.resolved_count:
            calibration = charts.snapshot_calibration_chart(overall, name="everything")
        history = charts.snapshot_history_chart(scope_history(ScopeKind.ALL, 0), name="everything")
    return render(
        request,
        "forecasts/scorecard.html",
        {
            "headline": headline,
            "overall": overall,
            "calibration_chart": calibration,
            "history_chart": history,
            "boards": [
                _board_context(name, sort, filters, limit=TOP_ROWS, scored=scored)
                for name in SCORECARD_BOARDS
            ],
            **_filter_context(sort, filters),
            "phrases": scorecard_phrases(overall),
            "awaiting_verdict": core_selectors.awaiting_verdict(at=now),
            "coming_due": core_selectors.coming_due(at=now),
            "recently_resolved": core_selectors.latest_outcomes(),
        },
    )


def _filter_name(filters: boards.BoardFilters) -> str:
    """The filtered forecasts in a few words, for a chart's title."""
    parts = []
    if filters.tag:
        parts.append(f"tagged “{filters.tag.name}”")
    if filters.period == "12m":
        parts.append("known in the last 12 months")
    elif filters.period != "all":
        parts.append(f"known in {filters.period}")
    return "forecasts " + ", ".join(parts)


@require_safe
@cached_public_page(params=(*BOARD_PARAMS, "page"))
def leaderboard(request: HttpRequest, name: str) -> HttpResponse:
    if name not in BOARDS:
        raise Http404("No such leaderboard.")
    try:
        sort, filters = _board_options(request)
        number = page_number(request.GET.get("page"))
    except ValueError as exc:
        return _bad_request(request, str(exc))
    offset = page_offset(number, PAGE_SIZE)
    context = _board_context(name, sort, filters, limit=PAGE_SIZE, offset=offset)
    board = context["board"]
    assert isinstance(board, boards.Board)
    try:  # the board is paged by the scores domain, which also counts it
        page = checked_page(Window(board.total, board.rows), number=number, per_page=PAGE_SIZE)
    except ValueError as exc:
        return _bad_request(request, str(exc))
    return render(
        request,
        "forecasts/leaderboard.html",
        {
            **context,
            **_filter_context(sort, filters),
            "page": page.number,
            "pages": page.paginator.num_pages,
        },
    )


@require_safe
@cached_public_page(params=("page",))
def forecaster_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _scope_detail(request, ScopeKind.FORECASTER, key=slug)


@require_safe
@cached_public_page(params=("page",))
def tag_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _scope_detail(request, ScopeKind.TAG, key=slug)


@require_safe
@cached_public_page(params=("page",))
def source_detail(request: HttpRequest, key: str) -> HttpResponse:
    return _scope_detail(request, ScopeKind.SOURCE, key=key)


# The index pages: kind, heading, and the leaderboard that ranks them.
SCOPE_INDEXES = {
    ScopeKind.FORECASTER: ("Forecasters", "forecasters"),
    ScopeKind.SOURCE: ("Sources", "sources"),
    ScopeKind.TAG: ("Topics", "tags"),
}


@require_safe
@cached_public_page(params=("page",))
def forecaster_index(request: HttpRequest) -> HttpResponse:
    return _scope_index(request, ScopeKind.FORECASTER)


@require_safe
@cached_public_page(params=("page",))
def source_index(request: HttpRequest) -> HttpResponse:
    return _scope_index(request, ScopeKind.SOURCE)


@require_safe
@cached_public_page(params=("page",))
def tag_index(request: HttpRequest) -> HttpResponse:
    return _scope_index(request, ScopeKind.TAG)


def _scope_index(request: HttpRequest, kind: ScopeKind) -> HttpResponse:
    try:
        number = page_number(request.GET.get("page"))
        page = page_selectors.scope_index(kind, number=number)
    except ValueError as exc:
        return _bad_request(request, str(exc))
    heading, board = SCOPE_INDEXES[kind]
    spec = scope_model(kind)
    return render(
        request,
        "forecasts/scope_index.html",
        {
            "page": page,
            "rows": [
                (getattr(row, spec.key_field), getattr(row, spec.name_field), row)
                for row in page.object_list
            ],
            "kind": kind.value,
            "heading": heading,
            "board": board,
        },
    )


def _scope_detail(request: HttpRequest, kind: ScopeKind, *, key: str) -> HttpResponse:
    try:
        number = page_number(request.GET.get("page"))
        page = page_selectors.scope_page(kind, key=key, at=timezone.now(), number=number)
    except ValueError as exc:
        return _bad_request(request, str(exc))
    context = _scope_context(page, kind)
    if kind == ScopeKind.SOURCE:
        quotes = core_selectors.source_quotes(page.obj)
        context["text_parts"] = core_selectors.highlighted_text(page.obj, quotes)
    return render(request, "forecasts/scope_detail.html", context)


def _scope_context(page: page_selectors.ScopePage, kind: ScopeKind) -> dict[str, object]:
    name = getattr(page.obj, scope_model(kind).name_field)
    return {
        "page": page,
        "kind": kind.label,
        "ranked": page.latest is not None and is_ranked(page.latest.resolved_count),
        "min_resolved": min_resolved(),
        "calibration_chart": charts.snapshot_calibration_chart(page.latest, name=name)
        if page.latest and page.latest.resolved_count
        else None,
        "history_chart": charts.snapshot_history_chart(page.history, name=name),
    }


def _with_sparklines(
    rows: list[boards.BoardRow], *, sort: str, offset: int
) -> list[tuple[int, boards.BoardRow, charts.Chart]]:
    """Each ranked row with its place in the board's order (equal values share a place,
    "1, 2, 2, 4", counted from the page's first row) and its sparkline."""
    sparks = charts.brier_sparklines([(row.name, row.history) for row in rows])
    places = boards.board_places(rows, sort=sort, offset=offset)
    return list(zip(places, rows, sparks, strict=True))
