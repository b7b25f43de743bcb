"""The scores domain's reactions to the record's events (connected in ``ForecastsConfig``)."""

from typing import Any

from django.dispatch import receiver

from forecasts.core.changes import scored_record_changed
from forecasts.scores.live import scores_refresh


@receiver(scored_record_changed, dispatch_uid="scores-refresh-in-transaction")
def refresh_live_scores(sender: Any, *, forecast_ids: list[int], **kwargs: Any) -> None:
    """A resolution, correction, annulment, amendment, tag change or publication: score
    those forecasts afresh in the same transaction."""
    scores_refresh(forecast_ids=forecast_ids)
