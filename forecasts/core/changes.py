"""What the record tells the rest of the app when it changes.

Core sits at the bottom: it never imports the domains that react to its
changes. It announces them instead, after the transaction commits:

* :func:`public_pages_changed` bumps the public data version that every cached
  page is stamped with (:mod:`forecasts.web.caching`), so the next request
  renders afresh. The version lives in the shared cache (Redis, or files under
  var/), so a change made by the Celery worker invalidates what the web server
  cached.
* :data:`resolution_committed` is sent once a resolution or correction has
  committed; the scores domain listens (:mod:`forecasts.scores.receivers`).
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.dispatch import Signal

VERSION_KEY = "public-pages:version"

#: Sent (no arguments) on commit of a resolution or a correction.
resolution_committed = Signal()


def public_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return int(version)


def public_pages_changed() -> None:
    """Called on commit by services whose writes show on public pages."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value invalidates
        cache.set(VERSION_KEY, public_version() + 1, timeout=None)


def resolution_recorded() -> None:
    """Call inside the transaction that records a resolution: the listeners hear of it
    once it has committed (and never when it rolls back)."""
    transaction.on_commit(lambda: resolution_committed.send(sender=None))
