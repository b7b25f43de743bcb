"""Every write to the record, one module per topic: forecasts and their terms, estimates,
resolutions and extensions, sources and their text, forecasters, tags, reviewer assignments.

Services take keyword-only, typed arguments, validate with the model's own rules
(``full_clean``, which includes the database constraints' messages) and run in
one transaction, so bad input gets a clear ``ValidationError`` and nothing is
half-written. The admin, the review pages, the e-mailed links, commands and
tasks all call these; none of them writes the rows itself. Each refusing
``*_delete`` has a ``*_delete_check`` the admin asks before offering to delete.

Import from here (``from forecasts.core import services``) or from the topic module.
"""

from forecasts.core.services.estimates import (
    EstimateFields,
    estimate_delete,
    estimate_delete_check,
    estimate_record,
    estimate_record_phrase,
)
from forecasts.core.services.forecasters import (
    forecaster_delete,
    forecaster_delete_check,
    forecaster_save,
)
from forecasts.core.services.forecasts import (
    forecast_amend,
    forecast_create,
    forecast_delete,
    forecast_delete_check,
    forecast_publish,
    forecast_update,
    forecasts_publish,
    forecasts_reject,
)
from forecasts.core.services.resolutions import (
    forecast_extend,
    forecast_resolve,
    forecast_resolve_check,
)
from forecasts.core.services.reviewers import (
    reviewer_assign,
    reviewer_unassign,
    reviewers_group_join,
)
from forecasts.core.services.sources import (
    source_delete,
    source_delete_check,
    source_save,
    source_text_attach,
)
from forecasts.core.services.tags import tag_delete, tag_delete_check, tag_save

__all__ = [
    "EstimateFields",
    "estimate_delete",
    "estimate_delete_check",
    "estimate_record",
    "estimate_record_phrase",
    "forecast_amend",
    "forecast_create",
    "forecast_delete",
    "forecast_delete_check",
    "forecast_extend",
    "forecast_publish",
    "forecast_resolve",
    "forecast_resolve_check",
    "forecast_update",
    "forecaster_delete",
    "forecaster_delete_check",
    "forecaster_save",
    "forecasts_publish",
    "forecasts_reject",
    "reviewer_assign",
    "reviewer_unassign",
    "reviewers_group_join",
    "source_delete",
    "source_delete_check",
    "source_save",
    "source_text_attach",
    "tag_delete",
    "tag_delete_check",
    "tag_save",
]
