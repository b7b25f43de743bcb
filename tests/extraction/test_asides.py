"""A trailing concessive or attribution aside is not part of the statement (issue 18)."""

import datetime as dt
import time

import pytest

from forecasts.extraction.pipeline import extract
from forecasts.extraction.propositions import drop_aside

PUBLISHED = dt.date(2025, 1, 10)


@pytest.mark.parametrize(
    ("text", "statement"),
    [
        (
            "I think it is unlikely that the tram line will open to passengers before the "
            "end of 2025, whatever the mayor says.",
            "The tram line will open to passengers before the end of 2025.",
        ),
        (
            "The bridge will probably reopen by March 2027, whatever its exact timing.",
            "The bridge will reopen by March 2027.",
        ),
        (
            "Rates will probably fall next year, despite what the minister claims.",
            "Rates will fall next year.",
        ),
        (
            "The euro will probably weaken in 2027, as I have argued before.",
            "The euro will weaken in 2027.",
        ),
    ],
)
def test_the_aside_is_dropped_from_the_statement(text, statement):
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.is_proposed
    assert candidate.statement == statement
    assert candidate.quote.rstrip() == text  # the quote keeps the author's words


def test_a_clause_that_says_what_happens_is_kept():
    (candidate,) = extract(
        "The plant will probably close in 2027, despite the subsidies.", PUBLISHED
    )
    assert candidate.statement == "The plant will close in 2027, despite the subsidies."
    assert drop_aside("Prices will rise, as they did in 2022") == (
        "Prices will rise, as they did in 2022"
    )
    assert drop_aside("no comma here") == "no comma here"


def test_dropping_an_aside_takes_time_in_proportion_to_the_text():
    # Many commas and no aside: only the text after the last comma is read.
    text = "x, " * 200_000 + "whatever"
    began = time.process_time()
    assert drop_aside(text) == "x, " * 199_999 + "x"
    assert drop_aside("x, " * 200_000 + "y") == "x, " * 200_000 + "y"
    assert time.process_time() - began < 0.5
