"""Caseless: a case-insensitive pattern searched on lower-cased ASCII text finds what the
case-insensitive search finds; patterns for which that would not hold are refused."""

from __future__ import annotations

import re

import pytest

from forecasts.extraction.caseless import Caseless

WORDS = r"\b(?:soon|next\s+year|kelvin|(?P<event>summit|vote))\b|\d"


@pytest.mark.parametrize(
    "text",
    [
        "It will happen SOON.",
        "Next Year, perhaps",
        "nextyear is one word",
        "The Summit's date",
        "voters decide",
        "a 2027 deadline",
        "nothing here",
        "\u017foon, with a long s",  # re pairs it with "s": the general path
        "the \u212aelvin scale",  # Kelvin sign, paired with "k"
        "\u0130t is not soon\u201d",  # dotted capital I: lower() gives two characters
        "",
    ],
)
def test_found_is_the_case_insensitive_search(text: str) -> None:
    caseless = Caseless(WORDS)
    assert caseless.found(text) is (re.search(WORDS, text, re.IGNORECASE) is not None)
    for pos in range(len(text) + 1):
        expected = re.compile(WORDS, re.IGNORECASE).search(text, pos, len(text) - 1)
        assert caseless.found(text, pos, len(text) - 1) is (expected is not None)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"\b[A-Z]\w+", "upper-case 'A'"),
        (r"the\s+Summit", "upper-case 'S'"),
        (r"a(?-i:b)", "case-sensitive part"),
        ("\u017foon", "folds to an ASCII letter"),
        (r"\u212aelvin", "folds to an ASCII letter"),
    ],
)
def test_patterns_that_lower_casing_would_change_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        Caseless(pattern)


def test_escapes_and_group_names_are_not_letters() -> None:
    caseless = Caseless(r"\bsoon\B|\W(?P<When>x)(?P=When)\u2019s")
    assert caseless.found("SOONER")
    assert caseless.found(" XX\u2019S")
