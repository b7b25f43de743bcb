"""The scores domain's reactions to the record's events (connected in ``ForecastsConfig``)."""

from typing import Any

from django.dispatch import receiver

from forecasts.core.changes import resolution_committed
from forecasts.scores.services import scores_recompute_request


@receiver(resolution_committed, dispatch_uid="scores-recompute-on-resolution")
def recompute_after_resolution(sender: Any, **kwargs: Any) -> None:
    """A resolution or correction changes scores: queue one (coalesced) recompute."""
    scores_recompute_request()
