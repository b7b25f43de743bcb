"""Every write to the record, one module per topic: forecasts and their terms, estimates,
resolutions and extensions, sources and their text, forecasters, tags, reviewer assignments.

Services take keyword-only, typed arguments, validate with the model's own rules
(``full_clean``, which includes the database constraints' messages) and run in
one transaction, so bad input gets a clear ``ValidationError`` and nothing is
half-written. The admin, the review pages, the e-mailed links, commands and
tasks all call these; none of them writes the rows itself.

Import from here (``from forecasts.core import services``) or from the topic module.
"""

from forecasts.core.services.estimates import estimate_record, estimate_record_phrase
from forecasts.core.services.forecasts import forecast_create, forecasts_publish
from forecasts.core.services.resolutions import (
    forecast_extend,
    forecast_resolve,
    forecast_resolve_check,
)
from forecasts.core.services.sources import source_text_attach

__all__ = [
    "estimate_record",
    "estimate_record_phrase",
    "forecast_create",
    "forecast_extend",
    "forecast_resolve",
    "forecast_resolve_check",
    "forecasts_publish",
    "source_text_attach",
]
