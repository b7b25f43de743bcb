"""Caseless: a case-insensitive pattern searched on lower-cased ASCII text finds what the
case-insensitive search finds; patterns for which that would not hold are refused."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from forecasts.extraction import confidence, deadlines, numbers, propositions
from forecasts.extraction.caseless import Caseless, foldable
from forecasts.extraction.sentences import sentences

CORPUS = Path(__file__).resolve().parents[2] / "forecasts" / "extraction" / "corpus"

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
        # lower-cased, not ASCII
        "\u201cSoon\u201d \u2013 caf\u00e9 VOTE\u2019s \u00c9t\u00e9 2027",
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
        ("\u017foon", "cased letter outside ASCII"),
        (r"\u212aelvin", "cased letter outside ASCII"),
        ("caf\u00e9", "cased letter outside ASCII"),
    ],
)
def test_patterns_that_lower_casing_would_change_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        Caseless(pattern)


def test_escapes_and_group_names_are_not_letters() -> None:
    caseless = Caseless(r"\bsoon\B|\W(?P<When>x)(?P=When)\u2019s")
    assert caseless.found("SOONER")
    assert caseless.found(" XX\u2019S")


def test_finditer_gives_the_case_insensitive_offsets() -> None:
    pattern = Caseless(WORDS)
    for text in ("The SUMMIT, a Vote \u2013 soon", "\u017foon: the Summit", "Next  YEAR"):
        expected = [m.span() for m in re.finditer(WORDS, text, re.IGNORECASE)]
        assert [m.span() for m in pattern.finditer(text)] == expected
        groups = [m.group("event") for m in pattern.finditer(text)]
        assert [g and g.lower() for g in groups] == [
            m.group("event") and m.group("event").lower()
            for m in re.finditer(WORDS, text, re.IGNORECASE)
        ]


def test_only_the_unsafe_characters_fold_differently() -> None:
    """Every character but the four: lower() gives one character of the same kind (word,
    space, digit), an ASCII letter only when it is one, and re ignoring case pairs it with
    an ASCII letter only when lower() gives that letter."""
    every = "".join(chr(point) for point in range(sys.maxunicode + 1))
    odd = {char for char in every if len(char.lower()) != 1}
    lowered = "".join(char if char in odd else char.lower() for char in every)
    for kind in (r"\w", r"\s", r"\d"):
        as_is = {m.start() for m in re.finditer(kind, every)}
        odd.update(every[at] for at in as_is ^ {m.start() for m in re.finditer(kind, lowered)})
    odd.update(every[128 + m.start()] for m in re.finditer("[a-z]", lowered[128:]))
    odd.update(m.group(0) for m in re.finditer("[a-z]", every[128:], re.IGNORECASE))
    assert sorted(odd) == ["\u0130", "\u0131", "\u017f", "\u212a"]
    assert not any(foldable(char) for char in odd)
    assert foldable("\u201cSoon\u201d \u00c9t\u00e9")
    assert foldable("plain")


@pytest.mark.parametrize(
    "text", ["Rates will FALL, If inflation eases", "\u017fo it goes Unless", "nothing", ""]
)
def test_search_gives_the_case_insensitive_span(text: str) -> None:
    pattern = r"(?<![\s,])[\s,]++(?:if|unless)\b"
    found = Caseless(pattern).search(text)
    expected = re.search(pattern, text, re.IGNORECASE)
    assert (found and found.span()) == (expected and expected.span())


def test_needs_skip_only_texts_without_a_match() -> None:
    caseless = Caseless(r"\b(?:could|may)\s+have\b", needs=("have",))
    assert caseless.found("It MAY HAVE rained")
    assert not caseless.found("It may rain")
    assert caseless.found("It \u017fhould, may have")  # not foldable: the pattern decides
    with pytest.raises(ValueError, match="upper-case"):
        Caseless("x", needs=("Have",))


def test_every_declared_need_holds_on_the_corpus() -> None:
    """The words a Caseless ``needs`` are read off its pattern by hand (or by a helper):
    on every sentence and clause of the labelled corpus, each finds what its pattern does."""
    texts = [
        text[start:end]
        for path in sorted(CORPUS.glob("*.txt"))
        for text in [path.read_text(encoding="utf-8")]
        for start, end in sentences(text)
    ]
    texts += [part for text in texts for part in text.split(",")]
    declared = [
        value
        for module in (confidence, deadlines, numbers, propositions)
        for value in vars(module).values()
        if isinstance(value, Caseless) and value.needs
    ]
    assert len(declared) >= 3
    for caseless in declared:
        hits = 0
        for text in texts:
            expected = caseless.pattern.search(text) is not None
            assert caseless.found(text) is expected, (caseless.pattern.pattern, text)
            hits += expected
        assert hits, caseless.pattern.pattern  # the corpus tries each need
