"""Deadlines: when a clause says its prediction will be settled.

Explicit dates ("3 November 2020"), relative expressions ("within two years", "next
month", "by the end of the year") and the political calendar (:data:`CALENDAR_NOTES`:
elections and the end of a presidential term are computed, not tabulated), each resolved
against the publication date.  Nothing found means no deadline: we never guess.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

__all__ = [
    "CALENDAR_NOTES",
    "DEADLINE_TRIGGER",
    "NUMBER_WORDS",
    "Deadline",
    "deadline_find",
    "election_day",
]


@dataclass(frozen=True, slots=True)
class Deadline:
    date: dt.date
    expression: str
    note: str


#: The documented anchors (computed, not tabulated, so they never run out).
CALENDAR_NOTES = {
    "presidential election": "U.S. presidential election: the Tuesday after the first "
    "Monday in November of a year divisible by 4 (3 U.S.C. § 1).",
    "midterm election": "U.S. midterm elections: the same Tuesday in the other even years.",
    "end of term": "A U.S. presidential term ends at noon on 20 January after the "
    "election (20th Amendment).",
    "short term": "'In the short term': twelve months from publication (house reading).",
    "near term": "'In the near term' / 'soon': six months from publication (house reading).",
    "medium term": "'In the medium term': three years from publication (house reading).",
    "long term": "'In the long term' states no deadline: none is proposed.",
}

_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower())
}
_MONTH_RE = (
    r"(?P<month>January|February|March|April|May|June|July|August|September|October|"
    r"November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
# Number words: counts in relative deadlines ("in two years", "a year") and in odds
# ("one in three", "a hundred to one").
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "eighteen": 18,
    "twenty": 20,
    "fifty": 50,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
}
_NUMBERS = {**NUMBER_WORDS, "a": 1, "an": 1}


def election_day(year: int) -> dt.date:
    """The Tuesday after the first Monday in November."""
    first = dt.date(year, 11, 1)
    first_monday = first + dt.timedelta(days=(0 - first.weekday()) % 7)
    return first_monday + dt.timedelta(days=1)


def _next_election(after: dt.date, *, presidential: bool) -> dt.date:
    year = after.year
    while True:
        matches = year % 4 == 0 if presidential else year % 2 == 0 and year % 4 != 0
        if matches and election_day(year) >= after:
            return election_day(year)
        year += 1


def _end_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _end_of_quarter(year: int, quarter: int) -> dt.date:
    return _end_of_month(year, quarter * 3)


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3}
_ORDINALS["4th"] = 4

_YEAR = r"(?:,?\s+(?P<year>\d{4}))?"
_N = r"(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|eighteen|a|an)"
_DAY_NAME = r"(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY_NAME2 = r"(?P<weekday2>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_BY = r"\b(?:by|before|until|at)\s+the\s+end\s+of\s+"

_DATE_PATTERNS: tuple[tuple[str, str], ...] = (
    # "3 November 2020", "November 3, 2020", "3 Nov"
    ("day_month_year", r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH_RE + _YEAR + r"\b"),
    ("month_day_year", r"\b" + _MONTH_RE + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b" + _YEAR),
    (
        "quarter",
        r"\b(?:(?:the\s+)?(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter"
        r"|Q(?P<q>[1-4]))(?:\s+(?:of\s+)?(?P<year>\d{4}))?",
    ),
    (
        "half",
        r"\b(?P<which>first|second)\s+half\s+of\s+(?:(?P<year>\d{4})|(?P<rel>this|next)\s+year)",
    ),
    ("end_of_year", _BY + r"(?:(?P<rel>the|this|next)\s+year|(?P<year>\d{4}))"),
    ("end_of_month", _BY + _MONTH_RE + r"(?:\s+(?P<year>\d{4}))?"),
    (
        "end_of_term",
        r"\b(?:end\s+of\s+(?:(?:President\s+)?[A-Z][a-z]+(?:['\u2019]s)?\s+)?"
        r"(?:first\s+|second\s+|current\s+|the\s+)?(?:presidential\s+)?term|inauguration)",
    ),
    (
        "month_year",
        r"\b(?P<prep>in|by|before|until|at\s+the|the)\s+" + _MONTH_RE + r"(?:\s+(?P<year>\d{4}))?\b"
        r"(?(year)|(?<=\w)(?!\s+\d))",
    ),
    ("next_month_name", r"\bnext\s+" + _MONTH_RE + r"\b"),
    (
        "year",
        r"\b(?P<prep>in|by|before|until|during|throughout|through|for)\s+(?P<year>(?:19|20)\d{2})\b",
    ),
    ("relative_year", r"\b(?P<rel>this|next|the\s+coming)\s+year\b"),
    ("term", r"\bin\s+the\s+(?P<term>short|near|medium|long)(?:\s|-)term\b"),
    ("soon", r"\b(?:soon|shortly|in\s+the\s+coming\s+months)\b"),
    (
        "within",
        r"\b(?:within|in|over|during)\s++(?:the\s++)?(?:next\s*+|coming\s++)?"
        + _N
        + r"\s++(?P<unit>day|week|month|year)s?\b",
    ),
    ("next_unit", r"\bnext\s+(?P<unit>week|month|season|quarter)\b"),
    ("weekday", r"\b(?:(?:on|this|by|next)\s+" + _DAY_NAME + r"|" + _DAY_NAME2 + r"['\u2019]s)\b"),
    ("weekend", r"\bthis\s+weekend\b"),
    ("tomorrow", r"\b(?:tomorrow|tonight)\b"),
    ("midterms", r"\bmid-?terms?(?:\s+elections?)?\b"),
    (
        "election",
        r"\b(?:(?:the|next|upcoming|coming)\s+(?:(?:U\.S\.|national|presidential|general)\s+)*"
        r"elections?|election\s+day|re-?election|second\s+(?:[A-Z][a-z]+\s+)?term"
        r"|the\s+vote\b|voters\s+decide)",
    ),
)

# Every pattern above contains one of these words (or a digit): a cheap first check.
DEADLINE_TRIGGER = re.compile(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|weekend|tomorrow|tonight|term|inauguration|year|"
    r"quarter|half|soon|shortly|coming|day|week|month|season|mid-?terms?|elections?|"
    r"re-?election|vote|voters)",
    re.IGNORECASE,
)
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _DATE_PATTERNS)


def _resolve(name: str, m: re.Match[str], published: dt.date) -> tuple[dt.date, str] | None:
    groups = m.groupdict()
    year_text = groups.get("year")
    year = int(year_text) if year_text else None
    if name in {"day_month_year", "month_day_year"}:
        month, day = _MONTHS[groups["month"].lower().rstrip(".")], int(groups["day"])
        if not 1 <= day <= calendar.monthrange(year or 2000, month)[1]:
            return None
        if year is None:
            year = published.year + (dt.date(published.year, month, 1) < published.replace(day=1))
            note = "day and month stated, year taken as the next such date after publication"
        else:
            note = "explicit date"
        return dt.date(year, month, day), note
    if name == "quarter":
        quarter = int(groups["q"]) if groups.get("q") else _ORDINALS[groups["ord"].lower()]
        if year is None:
            year = published.year + (quarter * 3 < published.month)
        return _end_of_quarter(year, quarter), "end of the quarter"
    if name == "half":
        if year is None:
            year = published.year + (groups["rel"] == "next")
        month = 6 if groups["which"] == "first" else 12
        return _end_of_month(year, month), "end of that half-year"
    if name == "end_of_year":
        if year is None:
            year = published.year + (groups["rel"] == "next")
        return dt.date(year, 12, 31), "end of the year"
    if name == "end_of_month":
        month = _MONTHS[groups["month"].lower().rstrip(".")]
        if year is None:
            year = published.year + (month < published.month)
        return _end_of_month(year, month), "end of that month"
    if name == "end_of_term":
        election = _next_election(published, presidential=True)
        if published.month == 1 and published.day < 20 and published.year % 4 == 1:
            return dt.date(published.year, 1, 20), CALENDAR_NOTES["end of term"]
        return dt.date(election.year + 1, 1, 20), CALENDAR_NOTES["end of term"]
    if name in {"month_year", "next_month_name"}:
        month = _MONTHS[groups["month"].lower().rstrip(".")]
        if year is None:
            year = published.year + (month <= published.month)
        if groups.get("prep") == "before":
            return dt.date(year, month, 1) - dt.timedelta(days=1), "the day before that month"
        return _end_of_month(year, month), "end of the month named"
    if name == "year":
        assert year is not None
        if groups["prep"] == "for":
            return None
        return dt.date(year, 12, 31), "end of the year named"
    if name == "relative_year":
        rel = groups["rel"]
        return dt.date(published.year + (rel != "this"), 12, 31), f"end of {rel} year"
    if name == "term":
        term = groups["term"]
        months = {"short": 12, "near": 6, "medium": 36}.get(term)
        if months is None:
            return None
        return published + relativedelta(months=months), CALENDAR_NOTES[f"{term} term"]
    if name == "soon":
        return published + relativedelta(months=6), CALENDAR_NOTES["near term"]
    if name == "within":
        n_text = groups["n"].lower()
        n = int(n_text) if n_text.isdigit() else _NUMBERS[n_text]
        unit = groups["unit"]
        delta = {
            "day": relativedelta(days=n),
            "week": relativedelta(weeks=n),
            "month": relativedelta(months=n),
            "year": relativedelta(years=n),
        }[unit]
        return published + delta, f"{n} {unit}(s) from publication"
    if name == "next_unit":
        unit = groups["unit"]
        if unit == "week":
            return published + relativedelta(weeks=1, weekday=6), "end of next week (Sunday)"
        if unit == "month":
            nxt = published + relativedelta(months=1)
            return _end_of_month(nxt.year, nxt.month), "end of next month"
        if unit == "quarter":
            quarter = (published.month - 1) // 3 + 2
            year = published.year + (quarter > 4)
            return _end_of_quarter(year, (quarter - 1) % 4 + 1), "end of next quarter"
        return None  # "next season": sport-specific, no calendar here
    if name == "weekday":
        weekday = _WEEKDAYS[(groups["weekday"] or groups["weekday2"]).lower()]
        days = (weekday - published.weekday()) % 7 or 7
        return published + dt.timedelta(days=days), "the next such weekday after publication"
    if name == "weekend":
        days = (6 - published.weekday()) % 7 or 7
        return published + dt.timedelta(days=days), "the Sunday after publication"
    if name == "tomorrow":
        return published + dt.timedelta(days=1), "the day after publication"
    if name == "midterms":
        return _next_election(published, presidential=False), CALENDAR_NOTES["midterm election"]
    if name == "election":
        return (
            _next_election(published, presidential=True),
            CALENDAR_NOTES["presidential election"],
        )
    return None


def deadline_find(text: str, published: dt.date) -> Deadline | None:
    """The deadline stated in ``text`` (a clause), resolved against ``published``.

    Earlier-written expressions win over later ones; among expressions at the same place,
    the more explicit (the order of the rules).  Dates before publication are ignored
    here (they describe the past); None when nothing is found.
    """
    if DEADLINE_TRIGGER.search(text) is None:
        return None  # most clauses name no time at all: skip the twenty patterns
    found: list[tuple[int, int, Deadline]] = []
    for rank, (name, pattern) in enumerate(_COMPILED):
        for m in pattern.finditer(text):
            resolved = _resolve(name, m, published)
            if resolved is None or resolved[0] < published:
                continue
            found.append((m.start(), rank, Deadline(resolved[0], m.group(0), resolved[1])))
    if not found:
        return None
    found.sort(key=lambda item: (item[0], item[1]))
    return found[0][2]
