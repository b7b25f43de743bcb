"""Reads the pages, API and tasks need, each with a bounded number of queries."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from forecasts.models import Estimate, Forecast, Resolution, Status

PUBLIC_STATUSES = [Status.OPEN, Status.DUE, Status.RESOLVED, Status.ANNULLED]


def forecast_status_counts(*, at: dt.datetime) -> dict[str, int]:
    """How many forecasts are in each lifecycle state, drafts included."""
    annotated = Forecast.objects.with_status(at=at).order_by()
    rows = annotated.values("status").annotate(count=Count("pk"))  # type: ignore[misc]
    counts = {status.value: 0 for status in Status}
    counts.update({row["status"]: row["count"] for row in rows})
    return counts


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
            Prefetch("estimates", queryset=Estimate.objects.order_by("made_on", "pk")),
            Prefetch(
                "resolutions",
                queryset=Resolution.objects.order_by("-resolved_at", "-pk"),
            ),
        )
    )
    return get_object_or_404(queryset, slug=slug)
