"""Dates a forecast can carry, and the one way to turn a moment into the site's local day."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

# Dates a forecast can sensibly carry. A typo such as 9999-12-31 is a valid date, but
# charts, the "extend by 90 days" default and date arithmetic elsewhere fail on it.
EARLIEST_DATE = dt.date(1800, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


def dates_out_of_range(**dates: dt.date | None) -> dict[str, str]:
    """An error message for each of ``dates`` outside EARLIEST_DATE … LATEST_DATE."""
    return {
        name: f"The date must be from {EARLIEST_DATE} to {LATEST_DATE}."
        for name, value in dates.items()
        if isinstance(value, dt.date) and not EARLIEST_DATE <= value <= LATEST_DATE
    }


def local_date(at: dt.datetime) -> dt.date:
    """The day ``at`` falls on in the site's time zone (``TIME_ZONE``); a naive moment is
    taken as already local. Every "due", "days left" and "days overdue" counts from this."""
    return timezone.localdate(at) if timezone.is_aware(at) else at.date()
