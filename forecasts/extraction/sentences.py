"""Sentences: where each sentence of an article starts and ends, as offsets into the text.

Paragraph breaks and bullets end a sentence too; abbreviations ("Mr.", "Jan.") do not, and
"U.S." ends one only when a typical sentence opener follows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["sentences"]

_ABBREVIATIONS = frozenset(
    re.split(
        r"\s+",
        "mr mrs ms dr st jr sr vs etc inc ltd co corp gen sen rep gov prof no fig approx "
        "jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e a.m p.m",
    )
)
# "U.S." ends a sentence only when a typical sentence opener follows it.
_COUNTRY_ABBREVIATIONS = frozenset({"u.s", "u.k", "u.n", "e.u", "u.s.a"})
_OPENERS = frozenset(
    re.split(
        r"\s+",
        "the a an it this that these those they he she we i but and in on at for if while "
        "however meanwhile yet so there its their his her our",
    )
)
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)]*(?=\s)|\n\s*\n|\n")
_LEADING = re.compile(r"[\s\u2022\u25cf\u25aa\-*\u2013\u2014]+")
# The abbreviations are short: the token before a full stop is looked for this far back,
# not from the sentence's start again at every full stop.
_TOKEN_REACH = 32
_FIRST_WORD = re.compile(r"\s*[\"'\u201c\u2018(]*([A-Za-z]+)")


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence, leading bullets and whitespace excluded."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[match.start()] == ".":
            reach = max(start, match.start() - _TOKEN_REACH)
            word = _last_token(text, reach, match.start()).lower().lstrip("(\"'\u201c")
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            if word in _COUNTRY_ABBREVIATIONS:
                following = _FIRST_WORD.match(text, end)
                if (
                    following is None
                    or not following.group(1)[0].isupper()
                    or following.group(1).lower() not in _OPENERS
                ):
                    continue
        yield from _trimmed(text, start, end)
        start = end
    yield from _trimmed(text, start, len(text))


def _last_token(text: str, reach: int, end: int) -> str:
    """The run of non-space characters that ends at ``end``, if it starts at or after
    ``reach`` (after a space or at the text's start); "" otherwise.  (A pattern tried from
    every start in the reach cost more than the rest of the sentence split.)"""
    if end <= reach or text[end - 1].isspace():
        return ""
    window = text[max(0, reach - 1) : end]
    token = window.rsplit(None, 1)[-1]
    if len(token) == len(window) and reach > 0:
        return ""  # the run goes on before the reach
    return token


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    lead = _LEADING.match(text, start, end)
    if lead is not None:
        start = lead.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end
