"""Leaderboards: forecasters, sources and tags ranked by score, filtered by tag and period.

A board ranks only those with enough resolved forecasts (:mod:`forecasts.scores.ranking`)
and lists the rest after them, apart, as too few to rank. Unfiltered boards read the
latest snapshot; every function runs a fixed number of queries whatever the amount of
data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.validators import slug_re
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.utils import timezone

from forecasts.core.models import Resolution, Tag
from forecasts.scores.additive import EMPTY_TALLY
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.ranking import competition_ranks, is_ranked, min_resolved
from forecasts.scores.scopes import public_scope_counts, public_scopes, scope_model, scopes_named
from forecasts.scores.sums import period_sums, snapshot_from_sums

# sort parameter: (snapshot attribute, descending, label)
LEADERBOARD_SORTS = {
    "rank": ("shrunk_brier", False, "Ranking score"),
    "brier": ("brier", False, "Brier"),
    "resolved": ("resolved_count", True, "Resolved"),
    "log_loss": ("log_loss", False, "Log loss"),
    "skill": ("skill_vs_coin", True, "Skill"),
}


@dataclass(frozen=True)
class BoardRow:
    slug: str
    name: str
    snapshot: ScoreSnapshot
    history: list[float | None] = field(default_factory=list)

    @property
    def ranked(self) -> bool:
        """False when the row has too few resolved forecasts to be ranked."""
        return is_ranked(self.snapshot.resolved_count)

    @property
    def trend(self) -> str:
        """'improving' when the Brier score fell since the first snapshot, etc."""
        values = [v for v in self.history if v is not None]
        if len(values) < 2:
            return ""  # not enough history to tell
        if abs(values[-1] - values[0]) < 1e-9:
            return "steady"
        return "improving" if values[-1] < values[0] else "worsening"


@dataclass(frozen=True)
class BoardFilters:
    """The leaderboards' tag and period filters, validated.

    A period keeps the forecasts whose outcome became known in it: ``all``,
    ``12m`` (the last twelve months, :func:`last_twelve_months`) or a calendar year
    such as ``2020``. Both ends are inclusive.
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


def last_twelve_months(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the twelve months ending today, both inclusive.

    The span starts the day after the same calendar day a year earlier (29 February
    counts from 28 February, the last day of that month a year earlier) and ends
    today: 365 days, or 366 when it contains a 29 February. 2025-03-01 gives
    2024-03-02 … 2025-03-01 (365 days); 2024-03-01 gives 2023-03-02 … 2024-03-01
    and 2024-02-29 gives 2023-03-01 … 2024-02-29 (366 days each).
    """
    try:
        year_earlier = today.replace(year=today.year - 1)
    except ValueError:  # 29 February, and the year before is not a leap year
        year_earlier = today.replace(year=today.year - 1, day=28)
    return year_earlier + dt.timedelta(days=1), today


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
        # A tag on drafts alone is not public: it is not there.
        public_tags = public_scopes(ScopeKind.TAG)
        chosen_tag = public_tags.filter(slug=tag).first() if slug_re.fullmatch(tag) else None
        if chosen_tag is None:
            raise ValueError(f"There is no tag {tag!r}.")
    period = period or "all"
    if period == "all":
        return BoardFilters(tag=chosen_tag)
    if period == "12m":
        known_from, known_until = last_twelve_months(today)
        return BoardFilters(
            tag=chosen_tag, period=period, known_from=known_from, known_until=known_until
        )
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
    """The tags with a published forecast, by name."""
    return list(public_scopes(ScopeKind.TAG).order_by("name").values_list("slug", "name"))


@dataclass(frozen=True)
class Board:
    """One page of a leaderboard and how many rows the whole board has.

    A board is its ranked rows, by the sort asked for, then the rows with too few
    resolved forecasts to rank, most resolved first (never by score); a page may hold
    some of each.
    """

    rows: list[BoardRow]
    total: int
    ranked_total: int

    @property
    def ranked_rows(self) -> list[BoardRow]:
        return [row for row in self.rows if row.ranked]

    @property
    def too_few_rows(self) -> list[BoardRow]:
        return [row for row in self.rows if not row.ranked]

    @property
    def too_few_total(self) -> int:
        return self.total - self.ranked_total


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
    """A page of forecasters (or sources, or tags) by score, with each row's Brier history:
    the ranked ones first, then those with too few resolved forecasts (:class:`Board`).

    Unfiltered boards read the latest snapshot (today's is kept live), sorted and
    sliced by the database. Filtered boards are summed from the live monthly sums
    (:func:`filtered_snapshots`), without history; pass ``scored`` to share that work
    between boards.
    ``sort`` is one of :data:`LEADERBOARD_SORTS` (``ValueError`` otherwise).
    """
    board_sort_check(sort)
    if filters is not None and filters.active:
        if scored is None:
            scored = filtered_snapshots(filters, today=today or dt.date.today(), kinds=[kind])
        return _filtered_board(kind, sort, scored, limit, offset)
    spec = scope_model(kind)
    # A scope left without a published forecast since the snapshot (its forecasts
    # amended to name another forecaster, say) is left out, not linked to a page
    # that is not there (public_scopes).
    # Public: a stored count of published forecasts (one index probe per row), the test
    # public_scopes applies from the other side.
    public = public_scope_counts(kind).filter(scope_id=OuterRef("scope_id"))
    named = spec.model._default_manager.filter(pk=OuterRef("scope_id")).order_by()
    latest = ScoreSnapshot.objects.filter(scope_kind=kind).order_by("-as_of").values("as_of")[:1]
    enough = Q(resolved_count__gte=min_resolved())
    snapshots = ScoreSnapshot.objects.filter(
        Exists(public), scope_kind=kind, as_of=Subquery(latest)
    ).defer("calibration", "murphy", "phrases")  # a board shows none of them
    named_snapshots = snapshots.annotate(
        scope_slug=Subquery(named.values(spec.key_field)[:1]),
        scope_name=Subquery(named.values(spec.name_field)[:1]),
    )
    attribute, descending, _ = LEADERBOARD_SORTS[sort]
    # The sort applies to the ranked rows only; the others all tie on it (NULL) and
    # follow, most resolved first.
    value = Case(When(enough, then=F(attribute)), default=Value(None), output_field=FloatField())
    column = value.desc(nulls_last=True) if descending else value.asc(nulls_last=True)
    too_few = Case(
        When(enough, then=Value(False)), default=Value(True), output_field=BooleanField()
    )
    ordered = named_snapshots.order_by(
        too_few.asc(), column, F("resolved_count").desc(), "scope_name", "scope_id"
    )
    # The board's size comes with its page (window counts over the whole board, taken
    # before the LIMIT); only a page past the end, which has no row to carry them, asks.
    counted = ordered.annotate(
        board_total=Window(Count("pk")), board_ranked=Window(Count("pk", filter=enough))
    )
    page = list(counted[offset : offset + limit] if limit is not None else counted[offset:])
    if page:
        total, ranked_total = page[0].board_total, page[0].board_ranked
    else:
        counts = snapshots.aggregate(total=Count("pk"), ranked=Count("pk", filter=enough))
        total, ranked_total = counts["total"], counts["ranked"]
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
    return Board(rows=rows, total=total, ranked_total=ranked_total)


def board_places(rows: Sequence[BoardRow], *, sort: str, offset: int = 0) -> list[int]:
    """The places of a page of ranked rows, in the order ``sort`` put them: rows with the
    same value share a place ("1, 2, 2, 4"), counted on from ``offset``."""
    attribute, descending, _ = LEADERBOARD_SORTS[sort]
    values = []
    for row in rows:
        value = float(getattr(row.snapshot, attribute) or 0)
        values.append(-value if descending else value)
    return [offset + place for place in competition_ranks(values)]


def filtered_snapshots(
    filters: BoardFilters, *, today: dt.date, kinds: Sequence[str] = tuple(ScopeKind.values)
) -> list[ScoreSnapshot]:
    """Unsaved snapshots of every scope, summed from the live monthly sums the filters
    select (:func:`forecasts.scores.live.period_sums`): no forecast is rescored. They
    carry the leaderboards' figures; calibration is left out. Two queries; a page
    showing several filtered boards computes this once."""
    as_of = filters.known_until or today
    sums = period_sums(
        tag_id=filters.tag.pk if filters.tag else None,
        known_from=filters.known_from,
        known_until=filters.known_until,
        today=today,
        kinds=kinds,
    )
    now = timezone.now()
    return [
        snapshot_from_sums(kind, scope_id, as_of, scope_sums, EMPTY_TALLY, now)
        for (kind, scope_id), scope_sums in sorted(sums.items())
    ]


def _filtered_board(
    kind: str, sort: str, snapshots: list[ScoreSnapshot], limit: int | None, offset: int
) -> Board:
    mine = [s for s in snapshots if s.scope_kind == kind]
    names = scopes_named(kind, [s.scope_id for s in mine])
    board = [
        BoardRow(slug=names[s.scope_id].slug, name=names[s.scope_id].name, snapshot=s)
        for s in mine
        if s.scope_id in names
    ]
    attribute, descending, _ = LEADERBOARD_SORTS[sort]

    def key(row: BoardRow) -> tuple[bool, bool, float, int, str, int]:
        # As the database orders the unfiltered board: ranked rows by the sort, then
        # the others by how many resolved forecasts they have.
        value = getattr(row.snapshot, attribute) if row.ranked else None
        number = float(value or 0)
        return (
            not row.ranked,
            value is None,
            -number if descending else number,
            -row.snapshot.resolved_count,
            row.name,
            row.snapshot.scope_id,
        )

    board.sort(key=key)
    end = None if limit is None else offset + limit
    ranked_total = sum(1 for row in board if row.ranked)
    return Board(rows=board[offset:end], total=len(board), ranked_total=ranked_total)
