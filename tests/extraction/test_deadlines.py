"""forecasts.extraction.deadlines: dates, relative expressions and the political calendar,
resolved against the publication date."""

import datetime as dt

import pytest

from forecasts.extraction.deadlines import (
    ArticleEvents,
    article_events,
    deadline_find,
    election_day,
)

PUBLISHED = dt.date(2019, 11, 1)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("before the end of President Trump’s first term", dt.date(2021, 1, 20)),
        ("before the elections", dt.date(2020, 11, 3)),
        ("during his reelection campaign", dt.date(2020, 11, 3)),
        ("when voters decide next November", dt.date(2020, 11, 3)),
        ("next November", dt.date(2020, 11, 30)),
        ("in the short term", dt.date(2020, 11, 1)),
        ("in the near term", dt.date(2020, 5, 1)),
        ("by the end of the year", dt.date(2019, 12, 31)),
        ("by the end of next year", dt.date(2020, 12, 31)),
        ("by 3 March 2020", dt.date(2020, 3, 3)),
        ("on March 3, 2020", dt.date(2020, 3, 3)),
        ("before September 2020", dt.date(2020, 8, 31)),
        ("in June", dt.date(2020, 6, 30)),
        ("in the third quarter", dt.date(2020, 9, 30)),
        ("within twelve months", dt.date(2020, 11, 1)),
        ("in 2021", dt.date(2021, 12, 31)),
        ("on Sunday", dt.date(2019, 11, 3)),  # 1 November 2019 was a Friday
        ("before the midterms", dt.date(2022, 11, 8)),
    ],
)
def test_deadlines_resolve_against_the_publication_date(phrase, expected):
    deadline = deadline_find(f"Something will happen {phrase}.", PUBLISHED)
    assert deadline is not None
    assert deadline.date == expected
    assert deadline.note


def test_presidential_elections_are_computed_not_listed():
    assert election_day(2020) == dt.date(2020, 11, 3)
    assert election_day(2024) == dt.date(2024, 11, 5)
    assert election_day(2032) == dt.date(2032, 11, 2)


def test_dates_before_publication_are_not_deadlines():
    assert deadline_find("In February 2019 the summit failed.", PUBLISHED) is None


# --- Spans, seasons, the decade (issue 18) --------------------------------------------------

JANUARY = dt.date(2026, 1, 12)


@pytest.mark.parametrize(
    ("phrase", "published", "expected"),
    [
        # The longer span, from publication; a quarter is three months.
        ("within the next four to six quarters", JANUARY, dt.date(2027, 7, 12)),
        ("in the next two quarters", JANUARY, dt.date(2026, 7, 12)),
        ("over the next 18 months", JANUARY, dt.date(2027, 7, 12)),
        ("the next two or three years", JANUARY, dt.date(2029, 1, 12)),
        ("by the end of next year", JANUARY, dt.date(2027, 12, 31)),
        ("late this year", JANUARY, dt.date(2026, 12, 31)),
        ("through the end of the year", JANUARY, dt.date(2026, 12, 31)),
        # Seasons: the first end on or after publication.
        ("this winter", JANUARY, dt.date(2026, 2, 28)),
        ("this winter", dt.date(2026, 9, 28), dt.date(2027, 2, 28)),
        ("through the winter", dt.date(2027, 12, 5), dt.date(2028, 2, 29)),
        ("this spring", dt.date(2026, 3, 16), dt.date(2026, 5, 31)),
        ("in the spring", dt.date(2026, 9, 28), dt.date(2027, 5, 31)),
        ("by the summer", JANUARY, dt.date(2026, 8, 31)),
        ("before the end of the summer", dt.date(2026, 6, 22), dt.date(2026, 8, 31)),
        ("this autumn", JANUARY, dt.date(2026, 11, 30)),
        ("this fall", JANUARY, dt.date(2026, 11, 30)),
        ("in summer 2027", JANUARY, dt.date(2027, 8, 31)),
        ("next summer", dt.date(2026, 7, 1), dt.date(2027, 8, 31)),  # during this one
        ("next winter", dt.date(2026, 5, 1), dt.date(2027, 2, 28)),
        ("before the end of the decade", JANUARY, dt.date(2029, 12, 31)),
    ],
)
def test_spans_seasons_and_the_decade(phrase, published, expected):
    deadline = deadline_find(f"Something will happen {phrase}.", published)
    assert deadline is not None, phrase
    assert deadline.date == expected
    assert deadline.note


@pytest.mark.parametrize(
    "phrase",
    [
        "since the spring",  # the past
        "last winter",
        "after the summer",  # no end
        "in the summer transfer window",  # the window's own date, not the season's
        "in the fall in prices",  # a noun, not autumn
        "the fall of the government",
        "next summer",  # in May: this summer or the one after? Not guessed
        "in winter 2027",  # which winter?
        "in the next few quarters",  # no number
    ],
)
def test_no_deadline_is_guessed_from_these(phrase):
    assert deadline_find(f"Something will happen {phrase}.", dt.date(2026, 5, 8)) is None


# --- Events the article names with a date ---------------------------------------------------

ARTICLE = (
    "Americans vote in the election on 7 November. The central bank holds its next policy "
    "meeting on 29 July, and the cartel meets on 4 September. Leaders gather at the "
    "15 November summit. Harbour City go into Sunday's cup final as favourites. "
    "The season ends on 17 May."
)
PUBLISHED_2026 = dt.date(2026, 5, 8)  # a Friday


def _at(sentence):
    return ARTICLE.index(sentence) if sentence in ARTICLE else len(ARTICLE)


def test_article_events_reads_each_event_named_with_a_future_date():
    events = article_events(ARTICLE + " The summit of 3 March 2025 was a failure.", PUBLISHED_2026)
    assert events.mentions["election"][0][1] == dt.date(2026, 11, 7)
    assert [date for _, date in events.mentions["meeting"]] == [
        dt.date(2026, 7, 29),
        dt.date(2026, 9, 4),
    ]
    # "the 15 November summit" (date before the noun); March 2025 is past, so not an event.
    assert [date for _, date in events.mentions["summit"]] == [dt.date(2026, 11, 15)]
    assert events.mentions["fixture"][0][1] == dt.date(2026, 5, 10)  # Sunday's final
    assert events.mentions["season"][0][1] == dt.date(2026, 5, 17)
    assert article_events("Nothing is dated here. The summit will be hard.", PUBLISHED_2026) == (
        ArticleEvents()
    )


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("A ceasefire before the summit is unlikely.", dt.date(2026, 11, 15)),
        ("The bank will probably cut at the meeting.", dt.date(2026, 9, 4)),  # the nearest before
        ("City should win the final.", dt.date(2026, 5, 10)),
        ("It is unlikely that the match will be decided by two goals.", dt.date(2026, 5, 10)),
        ("The result should be known by the Friday after the election.", dt.date(2026, 11, 13)),
        ("Delgado will concede on election night.", dt.date(2026, 11, 7)),
        ("A shock before the presidential election is unlikely.", dt.date(2026, 11, 7)),
    ],
)
def test_a_clause_pointing_to_a_dated_event_takes_its_date(clause, expected):
    events = article_events(ARTICLE, PUBLISHED_2026)
    deadline = deadline_find(clause, PUBLISHED_2026, events=events, at=len(ARTICLE))
    assert deadline is not None, clause
    assert deadline.date == expected
    assert "the article dates" in deadline.note


def test_the_nearest_event_named_before_the_clause_is_the_one_meant():
    events = article_events(ARTICLE, PUBLISHED_2026)
    between = ARTICLE.index(", and the cartel") - 20  # the clause is shorter than 20
    deadline = deadline_find(
        "They will cut at the meeting.", PUBLISHED_2026, events=events, at=between
    )
    assert deadline is not None
    assert deadline.date == dt.date(2026, 7, 29)
    # Named only after the clause: the first mention after it.
    deadline = deadline_find("They will cut at the meeting.", PUBLISHED_2026, events=events, at=0)
    assert deadline is not None
    assert deadline.date == dt.date(2026, 7, 29)


def test_an_event_s_vocabulary_takes_the_date_of_the_one_such_event():
    events = article_events(ARTICLE, PUBLISHED_2026)
    for clause, expected in [
        ("Turnout will probably exceed 64%.", dt.date(2026, 11, 7)),
        ("Hale is bound to carry Texas.", dt.date(2026, 11, 7)),
        ("Relegation for them is unlikely.", dt.date(2026, 5, 17)),
        ("Rovers should hold on to fourth place.", dt.date(2026, 5, 17)),
        ("If Reyes is fit, City could win by two clear goals.", dt.date(2026, 5, 10)),
    ]:
        deadline = deadline_find(clause, PUBLISHED_2026, events=events, at=len(ARTICLE))
        assert deadline is not None, clause
        assert deadline.date == expected, clause
    # Its own time wins over the vocabulary; two meetings are two dates: no vocabulary date.
    deadline = deadline_find("Turnout will rise by 2030.", PUBLISHED_2026, events=events)
    assert deadline is not None
    assert deadline.date == dt.date(2030, 12, 31)
    two = article_events(
        "The election on 7 November. The runoff election on 14 November.", PUBLISHED_2026
    )
    assert deadline_find("Turnout will rise.", PUBLISHED_2026, events=two) is None


@pytest.mark.parametrize(
    "clause",
    [
        "Prices will rise after the summit.",  # no end
        "Much has changed since the election.",  # the past
        "The final day will decide it.",  # not the cup final
        "The budget is likely to disappoint.",  # no budget dated in this article
        "Something will happen at the meeting.",  # with no events given
    ],
)
def test_no_event_date_is_guessed(clause):
    events = article_events(ARTICLE, PUBLISHED_2026)
    given = None if "meeting" in clause else events
    deadline = deadline_find(clause, PUBLISHED_2026, events=given, at=len(ARTICLE))
    assert deadline is None or deadline.expression != "", clause
    assert deadline is None, (clause, deadline)
