"""Every domain's models, under the one app label ``forecasts`` (so no table is renamed).

Django loads an app's models from this module; each domain keeps its own in
``forecasts/<domain>/models.py``. Import from the domain, not from here, in new code.
"""

from forecasts.core.counts import (
    ForecastStateCount,
    PublishedScopeCount,
    PublishedTagListing,
    UnresolvedDeadlineCount,
)
from forecasts.core.ledger.models import LedgerEntry, LedgerHead
from forecasts.core.models import (
    EARLIEST_DATE,
    LATEST_DATE,
    Basis,
    DatePrecision,
    DeadlineExtension,
    Estimate,
    Forecast,
    ForecastAmendment,
    Forecaster,
    ForecastQuerySet,
    Outcome,
    Resolution,
    ReviewerAssignment,
    Source,
    Status,
    Tag,
    dates_out_of_range,
    validate_probability,
)
from forecasts.digests.models import (
    Cadence,
    DeliveryStatus,
    DigestDelivery,
    Subscriber,
    SubscriberStatus,
)
from forecasts.reviews.models import ReviewLinkUse, ReviewPrompt, ReviewStep
from forecasts.scores.models import (
    ForecastScore,
    ScopeKind,
    ScoreSnapshot,
    ScoreSum,
    ScoreTally,
)

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "Basis",
    "Cadence",
    "DatePrecision",
    "DeadlineExtension",
    "DeliveryStatus",
    "DigestDelivery",
    "Estimate",
    "Forecast",
    "ForecastAmendment",
    "ForecastQuerySet",
    "ForecastScore",
    "ForecastStateCount",
    "Forecaster",
    "LedgerEntry",
    "LedgerHead",
    "Outcome",
    "PublishedScopeCount",
    "PublishedTagListing",
    "Resolution",
    "ReviewLinkUse",
    "ReviewPrompt",
    "ReviewStep",
    "ReviewerAssignment",
    "ScopeKind",
    "ScoreSnapshot",
    "ScoreSum",
    "ScoreTally",
    "Source",
    "Status",
    "Subscriber",
    "SubscriberStatus",
    "Tag",
    "UnresolvedDeadlineCount",
    "dates_out_of_range",
    "validate_probability",
]
