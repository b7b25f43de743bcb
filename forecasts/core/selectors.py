"""Reads of the record the pages, API, feeds and tasks need: drafts never appear in the
public ones, and none of them carries a user. Each runs a fixed number of queries,
whatever the amount of data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.shortcuts import get_object_or_404

from forecasts.core.counts import TalliedState, overdue_count, state_counts
from forecasts.core.dates import local_date
from forecasts.core.models import (
    DeadlineExtension,
    Estimate,
    Forecast,
    Forecaster,
    ForecastQuerySet,
    Resolution,
    Source,
    Status,
)
from forecasts.core.permissions import is_group_reviewer

FEED_ITEMS = 50
# The scorecard's short lists.
RECENT = 10

PUBLIC_STATUSES = [Status.OPEN, Status.DUE, Status.RESOLVED, Status.ANNULLED]


def estimates_in_order(lookup: str = "estimates") -> Prefetch[str, QuerySet[Estimate], str]:
    """Prefetch a forecast's estimates oldest first (the first is the published one, the
    last the one standing); ``lookup`` reaches them from another model
    (``"forecast__estimates"``)."""
    return Prefetch(lookup, queryset=Estimate.objects.order_by("made_on", "pk"))


def forecast_status_counts(*, at: dt.datetime) -> dict[str, int]:
    """How many forecasts are in each lifecycle state, drafts included (two queries).

    Read from the counts the database keeps (:mod:`forecasts.core.counts`): the states,
    and the unresolved forecasts per deadline day for due and open, which change with
    the day rather than with a write.
    """
    states = state_counts()
    due = overdue_count(today=local_date(at))
    return {
        Status.DRAFT.value: states[TalliedState.DRAFT],
        Status.ANNULLED.value: states[TalliedState.ANNULLED],
        Status.RESOLVED.value: states[TalliedState.RESOLVED],
        Status.DUE.value: due,
        Status.OPEN.value: states[TalliedState.UNRESOLVED] - due,
    }


def forecast_public_count(*, at: dt.datetime, status: str | None = None) -> int:
    """How many forecasts :func:`forecast_public_list` lists, from the stored counts: one
    query (two for open), whatever the number of forecasts."""
    if status is not None and status not in PUBLIC_STATUSES:
        raise ValueError(f"Unknown status {status!r}; use one of {', '.join(PUBLIC_STATUSES)}.")
    if status == Status.DUE:
        return overdue_count(today=local_date(at))
    states = state_counts()
    if status == Status.OPEN:
        return states[TalliedState.UNRESOLVED] - overdue_count(today=local_date(at))
    if status is not None:
        return states[status]  # resolved and annulled are stored states as they are
    return sum(count for state, count in states.items() if state != TalliedState.DRAFT)


def forecast_public_list(*, at: dt.datetime, status: str | None = None) -> QuerySet[Forecast]:
    """Published forecasts with status, outcome and standing probability annotated.

    ``status`` must be one of :data:`PUBLIC_STATUSES` (``ValueError`` otherwise).
    """
    forecasts = Forecast.objects.published()
    if status:
        if status not in PUBLIC_STATUSES:
            raise ValueError(f"Unknown status {status!r}; use one of {', '.join(PUBLIC_STATUSES)}.")
        forecasts = forecasts.with_state(status, at=at)
    return (
        forecasts.with_status(at=at)
        .select_related("source", "forecaster")
        .prefetch_related("tags")
        .order_by("resolve_by", "pk")
    )


def forecast_public_detail(*, slug: str, at: dt.datetime) -> Forecast:
    """One published forecast with everything its page shows; drafts are 404."""
    queryset = (
        Forecast.objects.published()
        .with_status(at=at)
        .select_related("source", "forecaster")
        .prefetch_related(
            "tags",
            estimates_in_order(),
            Prefetch(
                "resolutions",
                queryset=Resolution.objects.order_by("-resolved_at", "-pk"),
            ),
            Prefetch("extensions", queryset=DeadlineExtension.objects.order_by("extended_at")),
        )
    )
    return get_object_or_404(queryset, slug=slug)


def with_row_details(
    forecasts: QuerySet[Forecast],
    *,
    first_estimate: tuple[str, ...] = ("basis", "phrase", "negated"),
) -> QuerySet[Forecast]:
    """Annotate ``published_<field>`` of the first estimate for each of ``first_estimate``,
    and ``known_on`` and ``evidence_url`` of the current resolution."""
    first = Estimate.objects.filter(forecast=OuterRef("pk")).order_by("made_on", "pk")
    # There is at most one current resolution; the model's default ordering would join
    # the forecasts table into every row's subquery only to sort that one row.
    current = Resolution.objects.filter(forecast=OuterRef("pk"), is_current=True).order_by()
    return forecasts.annotate(
        **{f"published_{name}": Subquery(first.values(name)[:1]) for name in first_estimate},
        known_on=Subquery(current.values("known_on")[:1]),
        evidence_url=Subquery(current.values("evidence_url")[:1]),
    )


def forecaster_public_list() -> QuerySet[Forecaster]:
    """Forecasters with at least one published forecast, with ``forecast_count`` annotated."""
    return (
        Forecaster.objects.annotate(
            forecast_count=Count("forecasts", filter=Q(forecasts__published_at__isnull=False))
        )
        .filter(forecast_count__gt=0)
        .order_by("name", "pk")
    )


def source_public_list() -> QuerySet[Source]:
    """Sources with at least one published forecast, with ``forecast_count`` annotated.

    The full text is deferred: the list says whether it is stored, not what it is.
    """
    return (
        Source.objects.defer("text")
        .annotate(
            forecast_count=Count("forecasts", filter=Q(forecasts__published_at__isnull=False)),
            has_text=~Q(text=""),
        )
        .filter(forecast_count__gt=0)
        .order_by("-published_on", "title", "pk")
    )


def feed_new_forecasts(*, at: dt.datetime) -> list[Forecast]:
    """The latest published forecasts, newest first, annotated like the list (two queries)."""
    forecasts = with_row_details(forecast_public_list(at=at), first_estimate=("phrase",))
    return list(forecasts.order_by("-published_at", "-pk")[:FEED_ITEMS])


def coming_due(*, at: dt.datetime, limit: int = RECENT) -> list[tuple[Forecast, int]]:
    """Open forecasts nearest their deadline, with the days left."""
    today = local_date(at)
    forecasts = _by_deadline(Forecast.objects.open(at=at), limit=limit)
    return [(forecast, (forecast.resolve_by - today).days) for forecast in forecasts]


def awaiting_verdict(*, at: dt.datetime, limit: int = RECENT) -> list[tuple[Forecast, int]]:
    """Forecasts past their deadline with no verdict yet, longest overdue first, with the
    days since the deadline: in public, so none can quietly rot unresolved."""
    today = local_date(at)
    forecasts = _by_deadline(Forecast.objects.due(at=at), limit=limit)
    return [(forecast, (today - forecast.resolve_by).days) for forecast in forecasts]


def _by_deadline(forecasts: ForecastQuerySet, *, limit: int) -> list[Forecast]:
    """The first ``limit`` by deadline, with what a line of the scorecard's lists shows:
    the statement, its link, the deadline and the standing probability (nothing else is
    read or joined: these lists are on the page every change uncaches)."""
    return list(
        forecasts.only("pk", "slug", "statement", "resolve_by")
        .with_probability()
        .order_by("resolve_by", "pk")[:limit]
    )


def recently_resolved(*, limit: int = RECENT) -> list[Resolution]:
    """Current resolutions of published forecasts, corrections included, newest first: the
    scorecard's list and the resolutions feed.

    Each row has its forecast (with forecaster and source) and the resolution it
    superseded, if any, in the same query.
    """
    return list(
        Resolution.objects.filter(is_current=True, forecast__published_at__isnull=False)
        .select_related("forecast__forecaster", "forecast__source", "supersedes")
        .defer("forecast__source__text")  # an article's whole text, never shown in a list
        .order_by("-resolved_at", "-pk")[:limit]
    )


def latest_outcomes(*, limit: int = RECENT) -> list[Resolution]:
    """Current resolutions of published forecasts, the latest outcome known first (the
    scorecard's "Recently resolved", which shows the day each became known: ordered by
    when it was recorded, a fresh install's seed read out of date order).

    Each row has its forecast and ``given_probability``, the forecast's first estimate,
    the probability it was published with, in the same query.
    """
    first = Estimate.objects.filter(forecast=OuterRef("forecast_id")).order_by("made_on", "pk")
    return list(
        Resolution.objects.filter(is_current=True, forecast__published_at__isnull=False)
        .select_related("forecast")
        .defer("forecast__quote")
        .annotate(given_probability=Subquery(first.values("probability")[:1]))
        .order_by("-known_on", "-resolved_at", "-pk")[:limit]
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


def forecasts_to_review(*, user: User, at: dt.datetime) -> QuerySet[Forecast]:
    """Due forecasts this user is responsible for, most overdue first.

    Assigned ones; for members of the Reviewers group also every unassigned one;
    for superusers every due forecast.
    """

    due = Forecast.objects.due(at=at)
    if not user.is_superuser:
        mine = Q(reviewerassignment__reviewer=user)
        if is_group_reviewer(user):
            mine |= Q(reviewerassignment__isnull=True)
        due = due.filter(mine).distinct()
    return (
        due.with_status(at=at).select_related("source", "forecaster").order_by("resolve_by", "pk")
    )
