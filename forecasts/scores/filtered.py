"""The scores of the forecasts a scorecard filter keeps (a tag, a period in which the
outcomes became known, or both): the headline, the calibration, the phrase table and
the accuracy over time, beside the filtered leaderboards.

Everything comes from what the live scores store; no forecast is rescored. The sums
(counts, Brier, log loss, time-averaged Brier) are the stored monthly sums
(:func:`forecasts.scores.sums.period_sums`); the accuracy over time is those months
added up; calibration and phrases need how many forecasts were published at each
probability and phrase: a tag on its own is its tag scope's stored tally, a period is
the stored score rows of the forecasts known in it, counted by the database. A fixed
number of queries, whatever the amount of data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from forecasts.scores.additive import ALL_TIME, ANY_TAG, EMPTY_TALLY, Sums, Tally, month_of
from forecasts.scores.boards import BoardFilters
from forecasts.scores.models import ForecastScore, ScopeKind, ScoreSnapshot, ScoreSum, ScoreTally
from forecasts.scores.sums import period_sums, snapshot_from_sums

EVERYTHING = (ScopeKind.ALL.value, 0)


@dataclass(frozen=True)
class FilteredScores:
    """Unsaved snapshots of the forecasts the filters keep."""

    overall: ScoreSnapshot  # with calibration, the Murphy decomposition and phrases
    # Accuracy over time: at the end of each month with an outcome, the forecasts the
    # filters keep whose outcome was known by then (as the record stands now).
    history: list[ScoreSnapshot]
    scored: list[ScoreSnapshot]  # every scope of the kinds asked for: the boards


def filtered_scores(
    filters: BoardFilters, *, today: dt.date, kinds: Sequence[str] = ()
) -> FilteredScores:
    """The scores of the forecasts ``filters`` keep, and the board snapshots of ``kinds``
    (forecasters, sources, tags) over the same forecasts. Four queries, or five with a
    period that ends inside a month."""
    as_of = filters.known_until or today
    tag_id = filters.tag.pk if filters.tag else None
    sums = period_sums(
        tag_id=tag_id,
        known_from=filters.known_from,
        known_until=filters.known_until,
        today=today,
        kinds=[EVERYTHING[0], *kinds],
    )
    now = timezone.now()
    total = sums.get(EVERYTHING, Sums())
    overall = snapshot_from_sums(*EVERYTHING, as_of, total, filtered_tally(filters), now)
    scored = [
        snapshot_from_sums(kind, scope_id, as_of, scope_sums, EMPTY_TALLY, now)
        for (kind, scope_id), scope_sums in sorted(sums.items())
        if kind in kinds
    ]
    history = _monthly_history(filters, total, today=today, computed_at=now)
    return FilteredScores(overall=overall, history=history, scored=scored)


def filtered_tally(filters: BoardFilters) -> Tally:
    """How many of the forecasts the filters keep were published at each probability and
    phrase, and how many of them happened. One query."""
    if filters.known_from is None and filters.known_until is None:
        kind, scope_id = (ScopeKind.TAG.value, filters.tag.pk) if filters.tag else EVERYTHING
        rows = ScoreTally.objects.filter(scope_kind=kind, scope_id=scope_id, resolved_count__gt=0)
        return Tally.of(
            rows.order_by().values_list("probability", "phrase", "resolved_count", "yes_count")
        )
    known = ForecastScore.objects.all()
    if filters.known_from is not None:
        known = known.filter(known_on__gte=filters.known_from)
    if filters.known_until is not None:
        known = known.filter(known_on__lte=filters.known_until)
    if filters.tag is not None:
        known = known.filter(forecast__tags=filters.tag.pk)
    counted = (
        known.order_by()
        .values_list("probability", "phrase")
        .annotate(n=Count("pk"), yes=Count("pk", filter=Q(happened=True)))
    )
    return Tally.of(counted)


def _monthly_history(
    filters: BoardFilters, total: Sums, *, today: dt.date, computed_at: dt.datetime
) -> list[ScoreSnapshot]:
    """At the end of each month with an outcome the filters keep, the scores of those
    known by then: the period's total less the months after it, so every point, the first
    month's part included, is exact (a period ends at a month's end or today). One query."""
    if total.count <= 0:
        return []
    end = min(filters.known_until or today, today)
    months = ScoreSum.objects.filter(
        scope_kind=EVERYTHING[0],
        scope_id=EVERYTHING[1],
        tag_id=filters.tag.pk if filters.tag else ANY_TAG,
        month__gt=ALL_TIME,
        month__lte=month_of(end),
        resolved_count__gt=0,
    )
    if filters.known_from is not None:
        months = months.filter(month__gte=month_of(filters.known_from))
    rows = list(
        months.order_by("-month").values_list(
            "month", "resolved_count", "yes_count", "brier_sum", "log_loss_sum", "time_averaged_sum"
        )
    )
    history = []
    standing = total
    for month, *values in rows:  # newest first: take each month off after its point
        day = min(_month_end(month), end)
        history.append(snapshot_from_sums(*EVERYTHING, day, standing, EMPTY_TALLY, computed_at))
        standing = standing - Sums(*(int(value) for value in values))
    history.reverse()
    return [snapshot for snapshot in history if snapshot.resolved_count > 0]


def _month_end(month: int) -> dt.date:
    year, number = divmod(month, 100)
    first_of_next = dt.date(year + number // 12, number % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)
