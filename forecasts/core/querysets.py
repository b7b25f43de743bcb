"""Lifecycle states, derived from the data as of a moment: never stored."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Exists, OuterRef, Subquery, Value

from forecasts.core.choices import Outcome, Status
from forecasts.core.dates import local_date

if TYPE_CHECKING:
    from forecasts.core.models import Estimate, Forecast, Resolution  # noqa: F401 (base class)


class ForecastQuerySet(models.QuerySet["Forecast"]):
    """Lifecycle states, derived from the data as of a moment ``at``."""

    # The related models are reached through the forecast's own fields: the models module
    # builds the manager from this class, so it cannot be imported here.
    def _related(self, name: str) -> Any:
        return self.model._meta.get_field(name).related_model

    def _current_resolutions(self) -> models.QuerySet[Resolution]:
        # order_by(): the default ordering would join forecasts into every subquery.
        resolutions = self._related("resolutions").objects
        return resolutions.filter(forecast=OuterRef("pk"), is_current=True).order_by()  # type: ignore[no-any-return]

    def drafts(self) -> ForecastQuerySet:
        return self.filter(published_at__isnull=True)

    def candidates(self) -> ForecastQuerySet:
        """Drafts still waiting for an editor: not rejected."""
        return self.drafts().filter(rejected_at__isnull=True)

    def published(self) -> ForecastQuerySet:
        return self.filter(published_at__isnull=False)

    def unresolved(self) -> ForecastQuerySet:
        return self.published().filter(~Exists(self._current_resolutions()))

    def resolved(self) -> ForecastQuerySet:
        """Resolved YES or NO (annulled forecasts are not resolved: they are never scored)."""
        decided = self._current_resolutions().filter(outcome__in=[Outcome.YES, Outcome.NO])
        return self.published().filter(Exists(decided))

    def annulled(self) -> ForecastQuerySet:
        annulled = self._current_resolutions().filter(outcome=Outcome.ANNULLED)
        return self.published().filter(Exists(annulled))

    def open(self, *, at: dt.datetime) -> ForecastQuerySet:
        return self.unresolved().filter(resolve_by__gte=local_date(at))

    def due(self, *, at: dt.datetime) -> ForecastQuerySet:
        """Published, unresolved, and the deadline day has passed."""
        return self.unresolved().filter(resolve_by__lt=local_date(at))

    def with_status(self, *, at: dt.datetime) -> ForecastQuerySet:
        """Annotate ``status``, ``outcome``, ``probability`` (the estimate standing now) and
        ``published_probability`` (the first estimate, which the headline score uses)."""
        current = self._current_resolutions()
        estimates: models.QuerySet[Estimate] = self._related("estimates").objects.filter(
            forecast=OuterRef("pk")
        )
        latest = estimates.order_by("-made_on", "-pk")
        first = estimates.order_by("made_on", "pk")
        return self.annotate(
            outcome=Subquery(current.values("outcome")[:1]),
            probability=Subquery(latest.values("probability")[:1]),
            published_probability=Subquery(first.values("probability")[:1]),
        ).annotate(
            status=models.Case(
                models.When(published_at__isnull=True, then=Value(Status.DRAFT)),
                models.When(outcome=Outcome.ANNULLED, then=Value(Status.ANNULLED)),
                models.When(outcome__isnull=False, then=Value(Status.RESOLVED)),
                models.When(resolve_by__lt=local_date(at), then=Value(Status.DUE)),
                default=Value(Status.OPEN),
                output_field=models.CharField(),
            )
        )

    def with_state(self, state: str, *, at: dt.datetime) -> ForecastQuerySet:
        """Filter by a :class:`Status` value; raises ``ValueError`` for an unknown one."""
        filters = {
            Status.DRAFT: lambda: self.drafts(),
            Status.OPEN: lambda: self.open(at=at),
            Status.DUE: lambda: self.due(at=at),
            Status.RESOLVED: lambda: self.resolved(),
            Status.ANNULLED: lambda: self.annulled(),
        }
        if state not in filters:
            raise ValueError(f"Unknown status {state!r}; use one of {', '.join(Status.values)}.")
        return filters[Status(state)]()
