"""Every write goes through a service here; admin, views, tasks and commands call them.

Services take keyword-only, typed arguments, validate with the model's own
rules (``full_clean``, which includes the database constraints' messages) and
run in one transaction, so bad input gets a clear ``ValidationError`` and
nothing is half-written.
"""

from forecasts.services.digests import (
    DigestSendReport,
    digests_send,
    subscriber_confirm,
    subscriber_staff_opt_in,
    subscriber_subscribe,
    subscriber_unsubscribe,
    subscriber_update_preferences,
)
from forecasts.services.extraction import (
    AcceptReport,
    IngestReport,
    article_text_check,
    article_text_decode,
    candidates_accept,
    candidates_reject,
    forecaster_for_source,
    source_extract,
    source_ingest,
)
from forecasts.services.forecasts import (
    estimate_record,
    estimate_record_phrase,
    forecast_create,
    forecast_extend,
    forecast_resolve,
    forecast_resolve_check,
    forecasts_publish,
    source_text_attach,
)
from forecasts.services.reviews import PromptReport, reviews_prompt_due
from forecasts.services.scores import (
    BackfillReport,
    SnapshotReport,
    scores_backfill,
    scores_recompute_request,
    scores_recompute_run,
    scores_snapshot,
)
from forecasts.services.seed import SeedReport, seed_forecasts_load

__all__ = [
    "AcceptReport",
    "BackfillReport",
    "DigestSendReport",
    "IngestReport",
    "PromptReport",
    "SeedReport",
    "SnapshotReport",
    "article_text_check",
    "article_text_decode",
    "candidates_accept",
    "candidates_reject",
    "digests_send",
    "estimate_record",
    "estimate_record_phrase",
    "forecast_create",
    "forecast_extend",
    "forecast_resolve",
    "forecast_resolve_check",
    "forecaster_for_source",
    "forecasts_publish",
    "reviews_prompt_due",
    "scores_backfill",
    "scores_recompute_request",
    "scores_recompute_run",
    "scores_snapshot",
    "seed_forecasts_load",
    "source_extract",
    "source_ingest",
    "source_text_attach",
    "subscriber_confirm",
    "subscriber_staff_opt_in",
    "subscriber_subscribe",
    "subscriber_unsubscribe",
    "subscriber_update_preferences",
]
