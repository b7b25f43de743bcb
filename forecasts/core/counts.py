"""How many forecasts are in each state, kept exact by the database as they change.

The headline and the public list's page counts read these few rows instead of counting
the forecasts table. Triggers on ``forecasts_forecast`` (migration
``0015_forecast_current_outcome``, PostgreSQL and SQLite) add and subtract on every
insert, update and delete, so every door keeps them exact: the services, the seed's
import, the developer tools' bulk inserts and deletes of synthetic rows, the admin.
Nothing writes them from Python.

Due and open depend on the day, not on a write: :class:`UnresolvedDeadlineCount` keeps
the unresolved forecasts per deadline day, and due is the sum over the days before
today (as many rows as days with an overdue forecast, never one per forecast).
:class:`PublishedScopeCount` keeps each forecaster's, source's and tag's published
forecasts, which their pages count (a tag's are a share of the whole table).

The states counted are the ones :class:`~forecasts.core.models.ForecastQuerySet` derives:
a draft (``published_at`` empty), unresolved (published, ``current_outcome`` empty),
resolved (YES or NO) or annulled.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q, Sum

from forecasts.core.choices import Outcome
from forecasts.core.models import Forecast


class TalliedState(models.TextChoices):
    DRAFT = "draft", "Draft"
    UNRESOLVED = "unresolved", "Unresolved (open or due)"
    RESOLVED = "resolved", "Resolved"
    ANNULLED = "annulled", "Annulled"


class ForecastStateCount(models.Model):
    """How many forecasts are in ``state`` (a missing row is none)."""

    state = models.CharField(max_length=10, primary_key=True, choices=TalliedState.choices)
    count = models.BigIntegerField()

    class Meta:
        constraints = [
            # A count below zero means a trigger missed a row: fail loudly, never show it.
            models.CheckConstraint(condition=Q(count__gte=0), name="state_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.state}: {self.count}"


class UnresolvedDeadlineCount(models.Model):
    """How many published, unresolved forecasts have their deadline on ``resolve_by``.
    Days with none have no row."""

    resolve_by = models.DateField(primary_key=True)
    count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=0), name="deadline_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.resolve_by}: {self.count}"


class ScopeCountKind(models.TextChoices):
    """The scopes counted: the values of ``scores.models.ScopeKind`` but everything."""

    FORECASTER = "forecaster", "Forecaster"
    SOURCE = "source", "Source"
    TAG = "tag", "Tag"


class PublishedScopeCount(models.Model):
    """How many published forecasts a forecaster, source or tag has (none: no row)."""

    kind = models.CharField(max_length=10, choices=ScopeCountKind.choices)
    scope_id = models.BigIntegerField()
    count = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "scope_id"], name="scope_count_once"),
            models.CheckConstraint(condition=Q(count__gte=0), name="scope_count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.scope_id}: {self.count}"


class PublishedTagListing(models.Model):
    """A published forecast under one of its tags, with its deadline (drafts have none).

    A tag's page lists its forecasts by deadline: one range of the index below gives any
    page of them, however few of all forecasts carry the tag. Walking the forecasts by
    deadline until enough carry the tag read the whole table for a rare one (480 ms at
    100,000 forecasts for a tag with 34). Kept by the database, like the counts: triggers
    on the tag links and on the forecasts (migration ``0016_tag_listing``).
    """

    tag_id = models.BigIntegerField()
    forecast_id = models.BigIntegerField()
    resolve_by = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tag_id", "forecast_id"], name="tag_listing_once"),
        ]
        indexes = [
            models.Index(
                fields=["tag_id", "resolve_by", "forecast_id"], name="tag_listing_by_deadline"
            ),
            # The forecasts' triggers find a forecast's rows by it: without it, every
            # update of a forecast row (each resolution's outcome among them) scanned the
            # whole listing, and a deadline's extension read every row of it.
            models.Index(fields=["forecast_id"], name="tag_listing_by_forecast"),
        ]

    def __str__(self) -> str:
        return f"tag {self.tag_id}: forecast {self.forecast_id} due {self.resolve_by}"


def state_counts() -> dict[str, int]:
    """Every :class:`TalliedState`'s count (one query)."""
    counts = dict.fromkeys(TalliedState.values, 0)
    counts.update(ForecastStateCount.objects.values_list("state", "count"))
    return counts


def overdue_count(*, today: dt.date) -> int:
    """Published, unresolved forecasts whose deadline is before ``today`` (one query)."""
    total = UnresolvedDeadlineCount.objects.filter(resolve_by__lt=today).aggregate(
        total=Sum("count")
    )["total"]
    return int(total or 0)


def published_scope_count(kind: str, scope_id: int) -> int:
    """How many published forecasts the forecaster, source or tag has (one query)."""
    if kind not in ScopeCountKind.values:
        raise ValueError(f"Unknown scope kind {kind!r}; use one of {', '.join(ScopeCountKind)}.")
    found = PublishedScopeCount.objects.filter(kind=kind, scope_id=scope_id)
    return next(iter(found.values_list("count", flat=True)), 0)


Counts = tuple[dict[str, int], dict[dt.date, int], dict[tuple[str, int], int]]


def counts_recount() -> Counts:
    """The counts recomputed from the forecasts themselves (a scan of the table): what
    :class:`ForecastStateCount` and :class:`UnresolvedDeadlineCount` must hold. For
    checking them (``verify_ledger``, the tests), never for a page."""
    published = Q(published_at__isnull=False)
    unresolved = published & Q(current_outcome__isnull=True)
    by_state = {
        TalliedState.DRAFT: Q(published_at__isnull=True),
        TalliedState.UNRESOLVED: unresolved,
        TalliedState.RESOLVED: published & Q(current_outcome__in=[Outcome.YES, Outcome.NO]),
        TalliedState.ANNULLED: published & Q(current_outcome=Outcome.ANNULLED),
    }
    states = Forecast.objects.aggregate(
        **{state.value: models.Count("pk", filter=q) for state, q in by_state.items()}
    )
    days = dict(
        Forecast.objects.filter(unresolved)
        .order_by()
        .values_list("resolve_by")
        .annotate(n=models.Count("pk"))
        .values_list("resolve_by", "n")
    )
    scopes: dict[tuple[str, int], int] = {}
    for kind, member in (
        (ScopeCountKind.FORECASTER, "forecaster_id"),
        (ScopeCountKind.SOURCE, "source_id"),
        (ScopeCountKind.TAG, "tags"),
    ):
        rows = (
            Forecast.objects.filter(published, **{f"{member}__isnull": False})
            .order_by()
            .values_list(member)
        )
        for scope_id, n in rows.annotate(n=models.Count("pk")).values_list(member, "n"):
            scopes[(kind.value, scope_id)] = n
    return states, days, scopes


def counts_stored() -> Counts:
    """The counts as stored, in :func:`counts_recount`'s shape (zero counts left out)."""
    days = dict(
        UnresolvedDeadlineCount.objects.filter(count__gt=0).values_list("resolve_by", "count")
    )
    scopes = {
        (kind, scope_id): n
        for kind, scope_id, n in PublishedScopeCount.objects.filter(count__gt=0).values_list(
            "kind", "scope_id", "count"
        )
    }
    return state_counts(), days, scopes


TagListings = set[tuple[int, int, dt.date]]


def tag_listings_derived() -> TagListings:
    """(tag, forecast, deadline) of every published forecast's tags, from the forecasts
    and their links: what :class:`PublishedTagListing` must hold. For checking it."""
    links = Forecast.tags.through.objects.filter(forecast__published_at__isnull=False)
    return set(links.values_list("tag_id", "forecast_id", "forecast__resolve_by"))


def tag_listings_stored() -> TagListings:
    return set(PublishedTagListing.objects.values_list("tag_id", "forecast_id", "resolve_by"))
