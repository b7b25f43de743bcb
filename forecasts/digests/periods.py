"""Digest periods: calendar weeks (Monday to Monday) and calendar months in a time zone.

Pure: aware datetimes and a zone name in, aware datetimes out. Boundaries are
local midnights, so a week that contains a daylight-saving change lasts 167 or
169 hours, not 168; arithmetic is done on local dates, then each boundary is
made aware on its own. Boundaries are returned in UTC: Python subtracts and
compares two datetimes of the *same* zone by wall time, which would make every
week 168 hours long.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

WEEKLY = "weekly"
MONTHLY = "monthly"
CADENCES = (WEEKLY, MONTHLY)


@dataclass(frozen=True)
class Period:
    cadence: str
    start: dt.datetime  # UTC
    end: dt.datetime  # UTC, exclusive: the next period's first instant
    first_day: dt.date  # local
    last_day: dt.date  # local, inclusive

    @property
    def unit(self) -> str:
        return "week" if self.cadence == WEEKLY else "month"


def _midnight(day: dt.date, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    # A zone whose clocks jump at midnight has no 00:00 that day; zoneinfo then
    # reads the wall time with the offset in force before the jump, which is the
    # first instant of that day either way once normalised through UTC.
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def _first_day(day: dt.date, cadence: str) -> dt.date:
    if cadence == WEEKLY:
        return day - dt.timedelta(days=day.weekday())
    if cadence == MONTHLY:
        return day.replace(day=1)
    raise ValueError(f"Unknown cadence {cadence!r}; use one of {', '.join(CADENCES)}.")


def _next_first_day(first: dt.date, cadence: str) -> dt.date:
    if cadence == WEEKLY:
        return first + dt.timedelta(days=7)
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_containing(moment: dt.datetime, *, cadence: str, time_zone: str) -> Period:
    """The week or month (in ``time_zone``) that ``moment`` falls in."""
    if moment.tzinfo is None:
        raise ValueError("period_containing needs an aware datetime.")
    zone = zoneinfo.ZoneInfo(time_zone)
    first = _first_day(moment.astimezone(zone).date(), cadence)
    following = _next_first_day(first, cadence)
    return Period(
        cadence=cadence,
        start=_midnight(first, zone),
        end=_midnight(following, zone),
        first_day=first,
        last_day=following - dt.timedelta(days=1),
    )


def period_last_ended(now: dt.datetime, *, cadence: str, time_zone: str) -> Period:
    """The most recent week or month that has ended by ``now``."""
    current = period_containing(now, cadence=cadence, time_zone=time_zone)
    zone = zoneinfo.ZoneInfo(time_zone)
    day_before = current.first_day - dt.timedelta(days=1)
    return period_containing(_midnight(day_before, zone), cadence=cadence, time_zone=time_zone)


def period_after(period: Period, *, time_zone: str) -> Period:
    """The period that follows ``period`` (what falls due next)."""
    return period_containing(period.end, cadence=period.cadence, time_zone=time_zone)
