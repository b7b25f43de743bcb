"""What a digest reports for a period: read once per period, filtered per subscriber in memory.

A period's report is the same for every subscriber; only the filters (tags,
forecasters) and a staff member's review queue differ. So :func:`digest_period_report`
runs a fixed number of queries per period, and :func:`digest_filter` narrows it
down for one subscriber without touching the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from forecasts.core.models import Forecast, Resolution
from forecasts.core.paths import slug_path
from forecasts.core.selectors import estimates_in_order, forecasts_to_review
from forecasts.digests.periods import WEEKLY, Period
from forecasts.scores.forecast import brier as forecast_brier
from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.ranking import is_ranked, min_resolved
from forecasts.scores.scopes import scopes_named


@dataclass(frozen=True)
class DigestForecast:
    slug: str
    statement: str
    forecaster_id: int
    forecaster: str
    tag_ids: frozenset[int]
    probability: float | None  # the probability given when it was published
    resolve_by: dt.date
    outcome: str = ""
    evidence_url: str = ""
    evidence_note: str = ""
    brier: float | None = None
    known_on: dt.date | None = None  # when the outcome became known (resolved ones)

    @property
    def path(self) -> str:
        return slug_path("forecasts:detail", self.slug)


@dataclass(frozen=True)
class ScoreChange:
    forecaster_id: int
    forecaster: str
    slug: str
    before: float | None  # None: not scored before the period
    after: float
    resolved: int

    @property
    def change(self) -> float | None:
        return None if self.before is None else self.after - self.before

    @property
    def ranked(self) -> bool:
        """False when the forecaster has too few resolved forecasts to be ranked: the
        digest lists those apart, as the leaderboards do."""
        return is_ranked(self.resolved)


@dataclass(frozen=True)
class Overall:
    """Everything's scores at the end of the period (its latest snapshot by then)."""

    brier: float
    resolved: int


@dataclass(frozen=True)
class DigestReport:
    """A period's news. ``resolved`` holds the outcomes recorded in the period that became
    known in it or in the period before (a reviewer records an outcome a few days after
    it is reported); ``recorded_late`` the outcomes recorded in it that were known before
    that (a historical import, a backlog cleared), listed apart with their dates, never as
    the period's news. ``fell_due`` are the forecasts whose deadline fell in the period;
    the summary line counts them."""

    period: Period
    next_period: Period
    new: list[DigestForecast] = field(default_factory=list)
    resolved: list[DigestForecast] = field(default_factory=list)
    score_changes: list[ScoreChange] = field(default_factory=list)
    due_next: list[DigestForecast] = field(default_factory=list)
    review_queue: list[DigestForecast] = field(default_factory=list)
    recorded_late: list[DigestForecast] = field(default_factory=list)
    fell_due: list[DigestForecast] = field(default_factory=list)
    overall: Overall | None = None
    # Items left out of each section by digest_trim (section name -> how many).
    omitted: dict[str, int] = field(default_factory=dict)

    @property
    def min_resolved(self) -> int:
        return min_resolved()

    @property
    def news_since(self) -> dt.date:
        return news_since(self.period)

    def count(self, section: str) -> int:
        """How many items a section has, those digest_trim left out included."""
        return len(getattr(self, section)) + self.omitted.get(section, 0)

    @property
    def summary(self) -> str:
        """The digest's first line: what the period brought, in counts."""
        resolved, due, new = self.count("resolved"), len(self.fell_due), self.count("new")
        parts = [
            f"{resolved} outcome{'s' if resolved != 1 else ''} became known",
            f"{due} forecast{'s' if due != 1 else ''} reached {'its' if due == 1 else 'their'}"
            " deadline",
            f"{new} new forecast{'s' if new != 1 else ''}",
        ]
        late = self.count("recorded_late")
        if late:
            parts.append(f"{late} older outcome{'s' if late != 1 else ''} newly recorded")
        line = f"This {self.period.unit}: " + ", ".join(parts) + "."
        if self.overall is not None:
            line += (
                f" Brier {self.overall.brier:.3f} over all {self.overall.resolved} resolved"
                f" forecast{'s' if self.overall.resolved != 1 else ''}."
            )
        return line

    @property
    def empty(self) -> bool:
        return not (
            self.new
            or self.resolved
            or self.recorded_late
            or self.score_changes
            or self.due_next
            or self.review_queue
        )


def news_since(period: Period) -> dt.date:
    """The first day of the period before ``period``: an outcome recorded in ``period`` is
    its news when it became known from then on."""
    day_before = period.first_day - dt.timedelta(days=1)
    if period.cadence == WEEKLY:
        return day_before - dt.timedelta(days=day_before.weekday())
    return day_before.replace(day=1)


def _digest_forecast(
    forecast: Forecast, resolution: Resolution | None = None, *, with_estimate: bool = True
) -> DigestForecast:
    """A forecast as a digest lists it; ``with_estimate=False`` for one the summary line
    only counts (what a subscriber's filters need, its estimates not read)."""
    estimates = list(forecast.estimates.all()) if with_estimate else []
    probability = estimates[0].probability if estimates else None
    return DigestForecast(
        slug=forecast.slug,
        statement=forecast.statement,
        forecaster_id=forecast.forecaster_id,
        forecaster=forecast.forecaster.name,
        tag_ids=frozenset(tag.pk for tag in forecast.tags.all()),
        probability=probability,
        resolve_by=forecast.resolve_by,
        outcome=resolution.outcome if resolution else "",
        evidence_url=resolution.evidence_url if resolution else "",
        evidence_note=resolution.evidence_note if resolution else "",
        brier=forecast_brier(probability, resolution.outcome if resolution else None),
        known_on=resolution.known_on if resolution else None,
    )


def _with_details() -> list[Any]:
    return [
        estimates_in_order(),
        "tags",
    ]


def digest_period_report(*, period: Period, next_period: Period) -> DigestReport:
    """New, resolved, score changes and due next for a period, for every forecast."""
    new = (
        Forecast.objects.published()
        .filter(published_at__gte=period.start, published_at__lt=period.end)
        .select_related("forecaster")
        .prefetch_related(*_with_details())
        .order_by("published_at", "pk")
    )
    resolutions = (
        Resolution.objects.filter(
            is_current=True,
            resolved_at__gte=period.start,
            resolved_at__lt=period.end,
            forecast__published_at__isnull=False,
        )
        .select_related("forecast", "forecast__forecaster")
        .prefetch_related(
            "forecast__tags",
            estimates_in_order("forecast__estimates"),
        )
        .order_by("resolved_at", "pk")
    )
    due_next = (
        Forecast.objects.unresolved()
        .filter(resolve_by__gte=next_period.first_day, resolve_by__lte=next_period.last_day)
        .select_related("forecaster")
        .prefetch_related(*_with_details())
        .order_by("resolve_by", "pk")
    )
    fell_due = (
        Forecast.objects.published()
        .filter(resolve_by__gte=period.first_day, resolve_by__lte=period.last_day)
        .select_related("forecaster")
        .prefetch_related("tags")
        .order_by("resolve_by", "pk")
    )
    recorded = [_digest_forecast(row.forecast, row) for row in resolutions]
    since = news_since(period)
    return DigestReport(
        period=period,
        next_period=next_period,
        new=[_digest_forecast(forecast) for forecast in new],
        resolved=[item for item in recorded if item.known_on and item.known_on >= since],
        recorded_late=sorted(
            (item for item in recorded if item.known_on and item.known_on < since),
            key=lambda item: (item.known_on, item.slug),
        ),
        score_changes=_score_changes(period),
        due_next=[_digest_forecast(forecast) for forecast in due_next],
        fell_due=[_digest_forecast(forecast, with_estimate=False) for forecast in fell_due],
        overall=_overall(period),
    )


def _overall(period: Period) -> Overall | None:
    """Everything's Brier score by the end of the period, from its latest snapshot then."""
    latest = (
        ScoreSnapshot.objects.filter(
            scope_kind=ScopeKind.ALL, as_of__lte=period.last_day, resolved_count__gt=0
        )
        .order_by("-as_of")
        .values_list("brier", "resolved_count")
        .first()
    )
    if latest is None or latest[0] is None:
        return None
    return Overall(brier=latest[0], resolved=latest[1])


def _score_changes(period: Period) -> list[ScoreChange]:
    """Forecasters whose Brier moved by at least ``DIGEST_NOTABLE_BRIER_CHANGE`` between the
    last snapshot before the period and the last one inside it, or who were first scored:
    those a leaderboard ranks first, then those with too few resolved forecasts to rank
    (:attr:`ScoreChange.ranked`), each by the size of the change."""
    snapshots = ScoreSnapshot.objects.filter(scope_kind=ScopeKind.FORECASTER)
    end_as_of = (
        snapshots.filter(as_of__lte=period.last_day)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    if end_as_of is None or end_as_of < period.first_day:
        return []
    start_as_of = (
        snapshots.filter(as_of__lt=period.first_day)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    rows = snapshots.filter(as_of__in=[day for day in (start_as_of, end_as_of) if day])
    by_scope: dict[int, dict[dt.date, ScoreSnapshot]] = defaultdict(dict)
    for row in rows:
        by_scope[row.scope_id][row.as_of] = row
    # Only forecasters with a published forecast are named (scores.scopes.public_scopes).
    names = scopes_named(ScopeKind.FORECASTER, list(by_scope))
    threshold = settings.DIGEST_NOTABLE_BRIER_CHANGE
    changes = []
    for scope_id, by_day in by_scope.items():
        after = by_day.get(end_as_of)
        if after is None or after.brier is None or scope_id not in names:
            continue
        before_row = by_day.get(start_as_of) if start_as_of else None
        before = before_row.brier if before_row else None
        if before is not None and abs(after.brier - before) < threshold:
            continue
        changes.append(
            ScoreChange(
                forecaster_id=scope_id,
                forecaster=names[scope_id].name,
                slug=names[scope_id].slug,
                before=before,
                after=after.brier,
                resolved=after.resolved_count,
            )
        )
    return sorted(
        changes,
        key=lambda change: (not change.ranked, -abs(change.change or 1.0), change.forecaster),
    )


def digest_filter(
    report: DigestReport, *, tag_ids: frozenset[int], forecaster_ids: frozenset[int]
) -> DigestReport:
    """The report narrowed to a subscriber's filters (none: everything).

    A forecast is kept when its forecaster is followed or it has a followed tag.
    Score changes are kept for followed forecasters and for the forecasters of
    the resolutions kept.
    """
    if not tag_ids and not forecaster_ids:
        return report

    def wanted(item: DigestForecast) -> bool:
        return item.forecaster_id in forecaster_ids or bool(item.tag_ids & tag_ids)

    resolved = [item for item in report.resolved if wanted(item)]
    late = [item for item in report.recorded_late if wanted(item)]
    scored = forecaster_ids | {item.forecaster_id for item in [*resolved, *late]}
    return DigestReport(
        period=report.period,
        next_period=report.next_period,
        new=[item for item in report.new if wanted(item)],
        resolved=resolved,
        score_changes=[c for c in report.score_changes if c.forecaster_id in scored],
        due_next=[item for item in report.due_next if wanted(item)],
        recorded_late=late,
        fell_due=[item for item in report.fell_due if wanted(item)],
        overall=report.overall,
    )


SECTIONS = ("review_queue", "resolved", "new", "score_changes", "due_next", "recorded_late")


def digest_trim(report: DigestReport, *, limit: int) -> DigestReport:
    """At most ``limit`` items per section; ``omitted`` counts the rest (0 when none).

    A busy week (a bulk import, a batch of resolutions) must not make a digest
    of thousands of items: the e-mail says how many more there are and links
    to the site instead.
    """
    trimmed = {name: getattr(report, name)[:limit] for name in SECTIONS}
    omitted = {name: max(0, len(getattr(report, name)) - limit) for name in SECTIONS}
    return replace(report, **trimmed, omitted=omitted)


def digest_review_queue(*, user: User, at: dt.datetime) -> list[DigestForecast]:
    """A staff member's overdue review queue (due forecasts they are responsible for)."""
    if not (user.is_active and user.is_staff):
        return []
    queue = forecasts_to_review(user=user, at=at).prefetch_related(*_with_details())
    return [_digest_forecast(forecast) for forecast in queue]
