"""Hedges: the words that make a sentence a forecast, and the clause each one governs.

A hedge is a lexicon phrase ("unlikely"), a stated probability ("a 70% chance"), the
author's own expectation ("we expect") or a plain modal ("will", "should"); finding the
middle two is :mod:`forecasts.extraction.numbers`, the last
:mod:`forecasts.extraction.modals`.  A sentence with hedges in separate clauses is cut
into one clause per hedge, and of several hedges in one clause the most specific speaks.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass

from forecasts.core import phrases

__all__ = ["CLAUSE_BREAK", "MODALS", "Hedge", "NonOverlapping", "clause_spans", "primary"]

# Modal hedges: often capability or possibility rather than a forecast.
MODALS = frozenset({"could", "may", "might", "perhaps", "possibly", "maybe", "might happen"})

# A run of spaces before a dash is tried once, from where it starts (and taken whole).
CLAUSE_BREAK = re.compile(
    r",\s++but\s+|;\s+|:\s+|(?<!\s)\s++[\u2013\u2014-]\s+|,\s++(?:while|whereas|and)\s+"
)


@dataclass(frozen=True, slots=True)
class Hedge:
    start: int  # offsets in the text
    end: int
    phrase: phrases.Phrase
    # "phrase": a lexicon phrase.  "modal": a plain modal ("will"), read as its lexicon
    # entry; ``frame`` is "relative" inside a relative clause.  "expectation": "we
    # expect", read as the lexicon's "expected".  "number": a stated probability
    # (``stated``), matched by the stated-number frame named ``frame``
    # (:mod:`forecasts.extraction.numbers`); its ``phrase`` is the number's own reading,
    # with no text, so that the polarity rules apply to it unchanged.
    kind: str = "phrase"
    stated: float | None = None
    frame: str = ""


class NonOverlapping:
    """Hedges no two of which overlap, kept in text order, so that whether another overlaps
    one of them is a look at its two neighbours (compared with every one, a sentence of
    numbers took the square of their count)."""

    def __init__(self, hedges: list[Hedge] | None = None) -> None:
        self.hedges: list[Hedge] = []
        for hedge in hedges or ():
            self.add(hedge)

    def overlaps(self, hedge: Hedge) -> bool:
        at = bisect.bisect_left(self.hedges, hedge.start, key=_start)
        return (at > 0 and hedge.start < self.hedges[at - 1].end) or (
            at < len(self.hedges) and self.hedges[at].start < hedge.end
        )

    def add(self, hedge: Hedge) -> None:
        """Keep ``hedge`` unless it overlaps one already kept."""
        if not self.overlaps(hedge):
            bisect.insort(self.hedges, hedge, key=_start)


def _start(hedge: Hedge) -> int:
    return hedge.start


def clause_spans(text: str, start: int, end: int, hedges: list[Hedge]) -> list[tuple[int, int]]:
    """Split a sentence at clause breaks only between hedges (one hedge per clause)."""
    if len(hedges) < 2:
        return [(start, end)]
    cuts: list[tuple[int, int]] = []
    for first, second in itertools.pairwise(hedges):
        for m in CLAUSE_BREAK.finditer(text, first.end, second.start):
            cuts.append((m.start(), m.end()))
            break
    spans: list[tuple[int, int]] = []
    cursor = start
    for cut_start, cut_end in cuts:
        spans.append((cursor, cut_start))
        cursor = cut_end
    spans.append((cursor, end))
    return spans


def primary(hedges: list[Hedge]) -> Hedge:
    """The most specific hedge: a stated number, then a non-modal, non-weak phrase, then
    weak, then modal, then a plain modal ("will", "should"), then a plain modal in a
    relative clause ("the plant that will close" is not what "X will V" forecasts)."""

    def rank(hedge: Hedge) -> tuple[int, int]:
        if hedge.stated is not None:
            return (-1, hedge.start)
        if hedge.kind == "modal":
            return (4 if hedge.frame else 3, hedge.start)
        modal = hedge.phrase.text in MODALS
        return (2 if modal else 1 if hedge.phrase.weak else 0, hedge.start)

    return min(hedges, key=rank)
