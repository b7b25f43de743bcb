"""forecasts.extraction.sentences: sentence offsets into the original text."""

import itertools
import re

from forecasts.extraction.sentences import _last_token, sentences


def test_sentence_offsets_index_the_original_text():
    text = (
        "Title line\n\n  • A bullet point here\nMr. Smith went to the U.S. and stayed. It rained."
    )
    spans = [text[start:end] for start, end in sentences(text)]
    assert spans == [
        "Title line",
        "A bullet point here",
        "Mr. Smith went to the U.S. and stayed.",
        "It rained.",
    ]


def test_us_abbreviation_ends_a_sentence_only_before_an_opener():
    text = "Talks with the U.S. The DPRK refused. Then U.S. officials left."
    assert [text[s:e] for s, e in sentences(text)] == [
        "Talks with the U.S.",
        "The DPRK refused.",
        "Then U.S. officials left.",
    ]


def test_last_token_is_the_run_of_non_spaces_the_pattern_found():
    """_last_token replaced a pattern searched from ``reach`` to ``end``: on every short
    text of letters, spaces, no-break spaces and full stops, at every reach and end, it
    gives what the pattern gave."""
    pattern = re.compile(r"(?<!\S)(\S++)$")
    for length in range(6):
        for chars in itertools.product("a \u00a0.", repeat=length):
            text = "".join(chars)
            for end in range(len(text) + 1):
                for reach in range(end + 1):
                    found = pattern.search(text, reach, end)
                    assert _last_token(text, reach, end) == (found.group(1) if found else "")
