"""Deadlines: when a clause says its prediction will be settled.

Explicit dates ("3 November 2020"), relative expressions ("within two years", "next
month", "by the end of the year") and the political calendar (:data:`CALENDAR_NOTES`:
elections and the end of a presidential term are computed, not tabulated), each resolved
against the publication date.  Spans ("the next four to six quarters": the longer one,
from publication), seasons ("this winter": the end of February) and the decade's end
too.  An article gives context a clause lacks: :func:`article_events` reads once the
events it names with a date ("the summit on 15 November", "the central bank meets on 29
January"), and a clause that points to one ("before the summit", "at the meeting", "the
Friday after the election") takes its date; a clause with none of its own that uses an
event's vocabulary ("turnout", "carry Texas"; "relegation", "fourth place") takes the
date of the one such event the article names, never of one of several.  Nothing found
means no deadline: we never guess.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta

from forecasts.extraction.caseless import Caseless

__all__ = [
    "CALENDAR_NOTES",
    "DEADLINE_TRIGGER",
    "NUMBER_WORDS",
    "ArticleEvents",
    "Deadline",
    "article_events",
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
    "span": "'The next N quarters/months/years' (or 'four to six'): the longer span from "
    "publication, a quarter being three months.",
    "season": "Seasons end on the last day of February (winter), 31 May (spring), 31 August "
    "(summer) and 30 November (autumn): the first such end on or after publication; 'next' "
    "skips the season under way and is not read in the three months before it (ambiguous).",
    "decade": "'The end of the decade': 31 December of the year ending in 9.",
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
_BY = r"\b(?:by|before|until|till|through|at)\s+the\s+end\s+of\s+"

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
    (
        "span",
        r"\b(?:the\s++)?(?:next|coming)\s++"
        + _N
        + r"(?:\s*+(?:to|or|-|\u2013)\s*+"
        + _N.replace("<n>", "<m>")
        + r")?\s++(?P<unit>day|week|month|quarter|year)s?\b",
    ),
    (
        "season",
        r"\b(?P<det>this|next|last|the|in|by|until|till|through|throughout|over|during|before"
        r"|since|after)\s++(?:the\s++)?(?:coming\s++)?(?P<season>winter|spring|summer|autumn"
        r"|fall)(?:['\u2019]s)?(?:\s++(?P<year>(?:19|20)\d{2}))?\b"
        r"(?!\s++(?:of|in|transfer|window|holidays?|break|recess|term|Olympics|Games)\b)",
    ),
    ("decade", r"\b(?:end\s+of\s+the\s+decade|decade['\u2019]s\s+end)\b"),
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
_TRIGGER = Caseless(
    r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|weekend|tomorrow|tonight|term|inauguration|year|"
    r"quarter|half|soon|shortly|coming|day|week|month|season|mid-?terms?|elections?|"
    r"re-?election|vote|voters|winter|spring|summer|autumn|fall|decade)"
)
DEADLINE_TRIGGER = _TRIGGER.pattern
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in _DATE_PATTERNS)

# What each pattern cannot match without: a digit (``"0"``), a month (``"Month"``: every
# month name, as the patterns spell it, starts with one of the twelve abbreviations) and
# any one of the words (looked for, lower-cased, anywhere in the lower-cased clause).  A
# clause that passes the trigger usually has words for two or three patterns, not twenty:
# checking these first spares the other patterns' scans and changes no result, since each
# is a necessary condition of its pattern.
_DIGIT = re.compile(r"\d")
_MONTH_START = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
_NEEDS: dict[str, tuple[str, ...]] = {
    "day_month_year": ("0", "Month"),
    "month_day_year": ("0", "Month"),
    "quarter": ("quarter", "q1", "q2", "q3", "q4"),
    "half": ("half",),
    "end_of_year": ("end",),
    "end_of_month": ("end", "Month"),
    "end_of_term": ("end", "inauguration"),
    "month_year": ("Month",),
    "next_month_name": ("next", "Month"),
    "year": ("0",),
    "relative_year": ("year",),
    "span": ("next", "coming"),
    "season": ("winter", "spring", "summer", "autumn", "fall"),
    "decade": ("decade",),
    "term": ("term",),
    "soon": ("soon", "shortly", "coming"),
    "within": ("day", "week", "month", "year"),
    "next_unit": ("next",),
    "weekday": ("day",),
    "weekend": ("weekend",),
    "tomorrow": ("tomorrow", "tonight"),
    "midterms": ("mid",),
    "election": ("election", "term", "vote"),
}
# For each pattern: (needs a digit, needs a month, any of these words; () for none).
_PREFILTER = tuple(
    (
        "0" in _NEEDS[name],
        "Month" in _NEEDS[name],
        tuple(word for word in _NEEDS[name] if word not in ("0", "Month")),
    )
    for name, _ in _DATE_PATTERNS
)
_PREFILTER_WORDS = tuple(sorted({word for _, _, words in _PREFILTER for word in words}))


@functools.lru_cache(maxsize=1024)
def _rules(present: frozenset[str], digit: bool, month: bool) -> tuple[tuple[int, str], ...]:
    """(rank, name) of each pattern a clause may match, in rank order, given the prefilter
    words it holds and whether it holds a digit and a month: clauses hold few such words,
    so a handful of combinations stand for most clauses, and the test of every pattern's
    needs for every clause (most of deadline_find's time) is made once for each."""
    return tuple(
        (rank, name)
        for rank, ((needs_digit, needs_month, words), (name, _)) in enumerate(
            zip(_PREFILTER, _COMPILED, strict=True)
        )
        if not (
            (needs_digit and not digit)
            or (needs_month and not month)
            or (words and present.isdisjoint(words))
        )
    )


#: An event the article dates ranks just before the political calendar's guess (the
#: patterns' ranks are doubled to leave it room).
_EVENT_RANK = 2 * [name for name, _ in _DATE_PATTERNS].index("election") - 1


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
    if name == "span":
        counts = [groups["n"], groups.get("m")]
        n = max(int(c) if c.isdigit() else _NUMBERS[c.lower()] for c in counts if c)
        unit = groups["unit"]
        months = {"month": n, "quarter": 3 * n, "year": 12 * n}.get(unit)
        delta = (
            relativedelta(months=months)
            if months
            else relativedelta(days=n if unit == "day" else 7 * n)
        )
        return published + delta, CALENDAR_NOTES["span"]
    if name == "season":
        return _season(groups, published)
    if name == "decade":
        return dt.date(published.year // 10 * 10 + 9, 12, 31), CALENDAR_NOTES["decade"]
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


_SEASON_END = {"winter": (2, 0), "spring": (5, 31), "summer": (8, 31), "autumn": (11, 30)}
_SEASON_START = {"winter": (12, -1), "spring": (3, 0), "summer": (6, 0), "autumn": (9, 0)}


def _season_end(season: str, year: int) -> dt.date:
    month, day = _SEASON_END[season]
    return _end_of_month(year, month) if day == 0 else dt.date(year, month, day)


def _season_start(season: str, end_year: int) -> dt.date:
    month, shift = _SEASON_START[season]
    return dt.date(end_year + shift, month, 1)


def _season(groups: dict[str, str | None], published: dt.date) -> tuple[dt.date, str] | None:
    det = (groups["det"] or "").lower()
    season = (groups["season"] or "").lower()
    if season == "fall":
        if det not in {"this", "next", "last", "in", "by", "until", "through", "during"}:
            return None  # "the fall of the wall", "a fall in prices"
        season = "autumn"
    if det in {"last", "since", "after"}:
        return None  # the past, or no end at all
    if groups.get("year"):
        if season == "winter":
            return None  # "winter 2026": which winter is ambiguous
        return _season_end(season, int(groups["year"] or 0)), CALENDAR_NOTES["season"]
    year = (
        published.year if _season_end(season, published.year) >= published else published.year + 1
    )
    if det == "next":
        start = _season_start(season, year)
        if published >= start:
            year += 1  # the season under way is "this" one
        elif (start - published).days <= 92:
            return None  # in May, "next summer" may be this one or the one after
    return _season_end(season, year), CALENDAR_NOTES["season"]


# --- Events an article names with a date, and clauses that point to them -------------------

_EVENT_NOUNS = (
    r"(?P<event>elections?|polling\s+day|vote|referendum|mayoralty|presidency|summit|meeting|"
    r"conference|final|match|game|fixture|derby|budget|debate|hearing|convention|window|season)"
)
#: An event noun ends its noun phrase: "the final on", "the final," but not "the final day".
_NOUN_END = (
    r"(?=['\u2019]s\b|\s*+[.,;:!?)\u2014]|\s*+$|\s++(?:on|in|at|is|was|will|would|could|may|"
    r"might|should|has|had|and|or|but|against|between|itself|next|this|which|when|where|to|as|"
    r"of|after|before|by|for|ends|opens|closes|begins|starts|takes)\b)"
)
_EVENT_VERBS = r"(?P<verb>meets|will\s+meet|is\s+due\s+to\s+meet|go(?:es)?\s+to\s+the\s+polls)"
# Read over the whole article: Caseless (the matches' groups are lower-cased, see _kind).
_MENTION = Caseless(r"\b(?:" + _EVENT_NOUNS + _NOUN_END + r"|" + _EVENT_VERBS + r")")
_MONTH_PLAIN = _MONTH_RE.replace("(?P<month>", "(?:")
_MONTH_NO_DOT = _MONTH_PLAIN.removesuffix(r"\.?")  # "May." ends a sentence
_DAY_MONTH = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH_PLAIN + r"(?:,?\s+\d{4})?"
    r"|" + _MONTH_PLAIN + r"\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4})?)"
)
_DAY_MONTH_BEFORE = re.compile(
    r"\b(?:\d{1,2}\s+" + _MONTH_NO_DOT + r"|" + _MONTH_NO_DOT + r"\s+\d{1,2})"
    r"\s++(?:[\w-]+\s++){0,2}$"
)
_ON_WEEKDAY = re.compile(r"^\s*+(?:on|this|next)\s+" + _DAY_NAME + r"\b")
_WEEKDAY_BEFORE = re.compile(_DAY_NAME + r"['\u2019]s\s++(?:[\w-]+\s++){0,2}$")
_DATE_HINT = re.compile(r"\d|day\b")  # every date below has a digit or a weekday
_SINCE = re.compile(r"\bsince\s+$", re.I)
_SENTENCE_END = re.compile(r"[.!?;\n]")
#: How far after an event noun its date may be ("the summit, in Vienna, on 15 November").
_MENTION_REACH = 60
_REFERENCE = re.compile(
    r"\b(?:(?P<night>election\s+(?:night|day))\b|(?:(?P<weekday>Monday|Tuesday|Wednesday|"
    r"Thursday|Friday|Saturday|Sunday|day)\s+after\s+the\s+|(?P<prep>after|since)?\s*+\b"
    r"(?:the|this|that|its|their|next|upcoming|coming)\s++(?:(?!the\b)[A-Za-z-]+\s++){0,2}?)"
    + _EVENT_NOUNS
    + _NOUN_END
    + r")",
    re.I,
)


def _leading_word(noun: str) -> str:
    r"""The letters every match of one event noun starts with: "polling" for
    "polling\s+day", "election" for "elections?"."""
    word = re.match(r"[a-z]*", noun).group(0)  # type: ignore[union-attr]
    return word[:-1] if noun[len(word) : len(word) + 1] in ("?", "*", "{") else word


_EVENT_WORD = Caseless(
    r"\b" + _EVENT_NOUNS,
    needs=tuple(
        _leading_word(noun)
        for noun in _EVENT_NOUNS.removeprefix("(?P<event>").removesuffix(")").split("|")
    ),
)
_VOCABULARY = {
    "election": re.compile(
        r"\b(?:(?i:turnout|ballots?|electoral\s+college|tipping-point|swing\s+states?|presidency"
        r"|landslide|recount|concede|top[\s-]two)|White\s+House|(?:their|its|a|the)\s+majority|"
        r"Measure\s+[A-Z0-9]|(?:carry|carries|win|wins|lose|loses|flip)\s+(?:[A-Z][a-z]+|the\s+"
        r"(?:[a-z]+\s+)?(?:states?|seats?|race|wards?|districts?|count(?:y|ies))))\b"
    ),
    "fixture": re.compile(
        r"\b(?i:win\s+by|goals?|clean\s+sheet|kick-off|extra\s+time|penalt(?:y|ies))\b"
    ),
    "season": re.compile(
        r"\b(?:[Rr]elegat\w*|[Pp]romot(?:ed|ion)|(?:top|bottom)\s+(?:two|three|four|five|six|half)|"
        r"(?:first|second|third|fourth|fifth|sixth)\s+place|the\s+title|Champions\b)"
    ),
}
_VOCABULARY_NOTE = (
    "the clause names no time but speaks of the {kind}, and the article names one {kind}, "
    "dated {date}"
)


def _kind(event: str) -> str:
    event = event.lower()
    if event.startswith(("election", "polling", "vote", "go", "mayoralty", "presidency")):
        return "election"
    if event in {"final", "match", "game", "fixture", "derby"}:
        return "fixture"
    if event.startswith(("meet", "will", "is")):
        return "meeting"
    return event


@dataclass(frozen=True, slots=True)
class ArticleEvents:
    """The events an article names with a date on or after publication, by kind, in text
    order: ``{"summit": [(offset, date), ...]}``."""

    mentions: dict[str, list[tuple[int, dt.date]]] = field(default_factory=dict)

    def date_of(self, kind: str, at: int) -> dt.date | None:
        """The date of the nearest ``kind`` named before ``at``, or else the first after."""
        found = self.mentions.get(kind)
        if not found:
            return None
        index = bisect.bisect_left(found, (at, dt.date.min))
        return found[index - 1][1] if index else found[0][1]

    def only_date(self, kind: str) -> dt.date | None:
        """The date of ``kind`` if the article names exactly one such date."""
        dates = {date for _, date in self.mentions.get(kind, ())}
        return dates.pop() if len(dates) == 1 else None


def _mention_date(text: str, m: re.Match[str], published: dt.date) -> dt.date | None:
    """The date given with an event noun: after it in the same sentence, or just before it
    ("the 7 November election")."""
    window = text[m.end() : m.end() + _MENTION_REACH]
    if _DATE_HINT.search(text, max(0, m.start() - 30), m.end() + _MENTION_REACH) is None:
        return None  # most mentions have no date near them: skip the date patterns
    stop = _SENTENCE_END.search(window)
    after = _DAY_MONTH.search(window, 0, stop.start() if stop else len(window))
    before = _DAY_MONTH_BEFORE.search(text[max(0, m.start() - 30) : m.start()])
    weekday = _ON_WEEKDAY.match(window) or _WEEKDAY_BEFORE.search(
        text[max(0, m.start() - 30) : m.start()]
    )
    if weekday is not None and after is None and before is None:
        days = (_WEEKDAYS[weekday.group("weekday").lower()] - published.weekday()) % 7 or 7
        return published + dt.timedelta(days=days)
    for found in (after, before):
        if found is None:
            continue
        resolved = None
        for name, pattern in _COMPILED[:2]:
            date_match = pattern.search(found.group(0))
            if date_match is not None:
                resolved = _resolve(name, date_match, published)
                break
        if resolved is not None and resolved[0] >= published:
            return resolved[0]
    return None


def article_events(text: str, published: dt.date) -> ArticleEvents:
    """Every event ``text`` names with a future date (one pass; each look is bounded)."""
    mentions: dict[str, list[tuple[int, dt.date]]] = {}
    for m in _MENTION.finditer(text):
        date = _mention_date(text, m, published)
        if date is not None:
            mentions.setdefault(_kind(m.group("event") or m.group("verb")), []).append(
                (m.start(), date)
            )
    return ArticleEvents(mentions)


def _references(text: str, events: ArticleEvents, at: int) -> list[tuple[int, Deadline]]:
    found: list[tuple[int, Deadline]] = []
    if not _EVENT_WORD.found(text):
        return found  # most clauses name no event: skip the pattern
    for m in _REFERENCE.finditer(text):
        if m.group("prep"):
            continue  # "after the summit" has no end; "since the election" is past
        kind = "election" if m.group("night") else _kind(m.group("event"))
        date = events.date_of(kind, at + m.start())
        if date is None:
            continue
        note = f"the {kind} the article dates {date.isoformat()}"
        weekday = m.group("weekday")
        if weekday:
            if weekday.lower() == "day":
                date += dt.timedelta(days=1)
            else:
                days = (_WEEKDAYS[weekday.lower()] - date.weekday()) % 7 or 7
                date += dt.timedelta(days=days)
            note = f"the {weekday} after {note}"
        found.append((m.start(), Deadline(date, m.group(0).strip(), note)))
    return found


def _vocabulary(text: str, events: ArticleEvents) -> Deadline | None:
    for kind, pattern in _VOCABULARY.items():
        m = pattern.search(text)
        if m is None:
            continue
        date = events.only_date(kind)
        if date is not None:
            return Deadline(date, m.group(0), _VOCABULARY_NOTE.format(kind=kind, date=date))
    return None


def deadline_find(
    text: str, published: dt.date, *, events: ArticleEvents | None = None, at: int = 0
) -> Deadline | None:
    """The deadline stated in ``text`` (a clause), resolved against ``published``.

    Earlier-written expressions win over later ones; among expressions at the same place,
    the more explicit (the order of the rules; an event the article dates comes before the
    political calendar).  With ``events`` (the article's, see :func:`article_events`) and
    ``at`` (where ``text`` starts in the article), a pointer to a dated event counts, and,
    failing everything else, an event's vocabulary.  Dates before publication are ignored
    here (they describe the past); None when nothing is found.
    """
    found: list[tuple[int, int, Deadline]] = []
    if _TRIGGER.found(text):
        # Most clauses name no time at all: the trigger skips the twenty patterns; of the
        # rest, most name words for only a few of them (_PREFILTER).
        lowered = text.lower()
        present = frozenset(word for word in _PREFILTER_WORDS if word in lowered)
        digit = _DIGIT.search(text) is not None
        month = _MONTH_START.search(text) is not None
        for rank, name in _rules(present, digit, month):
            for m in _COMPILED[rank][1].finditer(text):
                if _SINCE.search(text, max(0, m.start() - 7), m.start()):
                    continue  # "since the election": when something began, in the past
                resolved = _resolve(name, m, published)
                if resolved is None or resolved[0] < published:
                    continue
                found.append((m.start(), 2 * rank, Deadline(resolved[0], m.group(0), resolved[1])))
    if events is not None and events.mentions:
        found.extend((start, _EVENT_RANK, d) for start, d in _references(text, events, at))
        if not found:
            return _vocabulary(text, events)
    if not found:
        return None
    found.sort(key=lambda item: (item[0], item[1]))
    return found[0][2]
