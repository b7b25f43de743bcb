"""What the record tells the rest of the app when it changes.

Core sits at the bottom: it never imports the domains that react to its
changes. It announces them instead, after the transaction commits:

* :func:`public_pages_changed` bumps the public data version that every cached
  page is stamped with (:mod:`forecasts.web.caching`), so the next request
  renders afresh. The version lives in the shared cache (Redis, or files under
  var/), so a change made by the Celery worker invalidates what the web server
  cached.
* :data:`scored_record_changed` is sent *inside* the transaction that changed
  what published forecasts are scored on (a resolution, correction or
  annulment; the forecaster, source or tags of a published forecast; a
  publication). The scores domain listens (:mod:`forecasts.scores.receivers`)
  and updates its live scores in that same transaction, so what commits and
  what the pages show never disagree; if the update fails, so does the change.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import caches
from django.db import transaction
from django.dispatch import Signal

VERSION_KEY = "public-pages:version"

#: Sent with ``forecast_ids``, inside the transaction that changed them.
scored_record_changed = Signal()


def public_version() -> int:
    # In the "state" cache, which page entries cannot evict (settings.CACHES).
    state = caches["state"]
    version = state.get(VERSION_KEY)
    if version is None:
        state.add(VERSION_KEY, 1, timeout=None)
        version = state.get(VERSION_KEY, 1)
    return int(version)


def public_pages_changed() -> None:
    """Called on commit by services whose writes show on public pages."""
    state = caches["state"]
    try:
        state.incr(VERSION_KEY)
    except ValueError:  # not set yet: any new value invalidates
        state.set(VERSION_KEY, public_version() + 1, timeout=None)


def scored_inputs_changed(forecast_ids: Iterable[int]) -> None:
    """Call inside the transaction that changed these forecasts' resolution, forecaster,
    source, tags or publication: the listeners update what they derive from them before
    it commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("scored_inputs_changed is called inside the changing transaction")
    scored_record_changed.send(sender=None, forecast_ids=list(forecast_ids))
