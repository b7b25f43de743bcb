"""forecasts.extraction.deadlines: dates, relative expressions and the political calendar,
resolved against the publication date."""

import datetime as dt

import pytest

from forecasts.extraction.deadlines import deadline_find, election_day

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
