"""Hedges: the words that make a sentence a forecast, and the clause each one governs.

A hedge is a lexicon phrase ("unlikely"), a stated probability ("a 70% chance") or the
author's own expectation ("we expect"); finding the last two is
:mod:`forecasts.extraction.numbers`.  A sentence with hedges in separate clauses is cut
into one clause per hedge, and of several hedges in one clause the most specific speaks.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from forecasts.core import phrases

__all__ = ["CLAUSE_BREAK", "MODALS", "Hedge", "clause_spans", "overlaps", "primary"]

# Modal hedges: often capability or possibility rather than a forecast.
MODALS = frozenset({"could", "may", "might", "perhaps", "possibly", "maybe", "might happen"})

CLAUSE_BREAK = re.compile(
    r",\s+but\s+|;\s+|:\s+|\s+[\u2013\u2014-]\s+|,\s+(?:while|whereas|and)\s+"
)


@dataclass(frozen=True, slots=True)
class Hedge:
    start: int  # offsets in the text
    end: int
    phrase: phrases.Phrase
    # "phrase": a lexicon phrase.  "expectation": "we expect", read as the lexicon's
    # "expected".  "number": a stated probability (``stated``), matched by the
    # stated-number frame named ``frame`` (:mod:`forecasts.extraction.numbers`); its
    # ``phrase`` is the number's own reading, with no text, so that the polarity rules
    # apply to it unchanged.
    kind: str = "phrase"
    stated: float | None = None
    frame: str = ""


def overlaps(hedge: Hedge, others: list[Hedge]) -> bool:
    return any(hedge.start < other.end and other.start < hedge.end for other in others)


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
    weak, then modal."""

    def rank(hedge: Hedge) -> tuple[int, int]:
        if hedge.stated is not None:
            return (-1, hedge.start)
        modal = hedge.phrase.text in MODALS
        return (2 if modal else 1 if hedge.phrase.weak else 0, hedge.start)

    return min(hedges, key=rank)
