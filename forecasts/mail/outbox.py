"""Claiming, sending and marking e-mails exactly once (shared by reviews and digests)."""

import math


def seconds_until_stale(stale_minutes: float) -> int:
    """Seconds until a run's claims (made at its start) are stale, plus a margin: when a
    task that left messages deferred should run again to take them over."""
    stale = stale_minutes * 60
    return math.ceil(stale + min(60, stale / 2))
