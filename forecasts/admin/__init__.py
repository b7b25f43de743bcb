"""The admin: one module per domain, all registered on :class:`site.TrackerAdminSite`.

Django's autodiscovery imports this package; importing the modules registers them.
"""

from forecasts.admin import core, digests, forecasts, reviews, scores, users

__all__ = ["core", "digests", "forecasts", "reviews", "scores", "users"]
