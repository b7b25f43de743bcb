"""One proposition per event: restatements and complements of one forecast are merged.

Authors say the same thing twice ("A recession is likely next year. We think a recession
will come next year.") and state both sides of one outcome ("Biden will beat Trump ...
Thus Trump will win", "X will happen ... X will not happen"); editors should see one
candidate for each event, with the author's own probability.

Which candidates are one event
------------------------------
* The same statement anywhere in the article (a pull-quote repeats a sentence; the
  polarity rules have already made "X will not happen" the statement "X will happen"
  with P = 1 - p, so a complement of this kind is the same statement).  The pipeline
  asks :func:`replaces` as it goes.
* In one paragraph (:func:`merge`):

  - a restatement: the same content words once the hedge's own words, the auxiliaries
    and the articles are left out ("... is likely" and "we think ... will");
  - a two-candidate race: "A will beat B" and any "A/B will win / lose / beat ..." that
    names no one else (the surname, the last capitalised word, stands for the name); and
    "A will win" with "B will lose" (a contest has one winner, and a loser is named only
    when there are two sides);
  - a clause that says it restates the one before ("put differently, ...", "in other
    words, ...");
  - a claim and its detail after a colon, when one of the two is a plain modal ("we think
    foldables will remain a niche: it is very likely that they will make up less than
    5 per cent of sales"): the colon introduces what makes the claim checkable.

Which probability wins
----------------------
The candidate kept is the one ranked highest by, in order: the author's own over a
report of someone else's view; proposed (confident enough to show editors) over kept
back; a stated number over a verbal phrase; a hedge over a plain modal ("will");
then the first in the text.  (For the same statement, the pipeline's pull-quote rule
breaks the last tie instead: the fuller quote.)  A clause that says it restates the one
before ("put differently, ...") is never the one kept: the claim is the one it restates.
The kept candidate's statement and probability are its own, never a blend; its reasons
name what was merged into it.

Pure and linear: candidates are matched through dictionaries keyed by paragraph, never
each against every other.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from typing import Protocol, TypeVar

from forecasts.core import phrases

__all__ = ["merge", "rank", "replaces"]


class _Candidate(Protocol):
    """What is read of a candidate (the pipeline's frozen ``Candidate``)."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def sentence_start(self) -> int: ...

    @property
    def statement(self) -> str: ...

    @property
    def phrase(self) -> str: ...

    @property
    def matched(self) -> str: ...

    @property
    def quote(self) -> str: ...

    @property
    def stated_probability(self) -> float | None: ...

    @property
    def probability(self) -> float: ...

    @property
    def reasons(self) -> tuple[str, ...]: ...

    @property
    def is_proposed(self) -> bool: ...


C = TypeVar("C", bound=_Candidate)

REPORTED = "reports someone else's view, not the author's"


def rank(candidate: _Candidate) -> tuple[bool, bool, bool, bool]:
    """Higher is preferred (see the module docstring); ties go to the first in the text."""
    return (
        REPORTED not in candidate.reasons,
        candidate.is_proposed,
        candidate.stated_probability is not None,
        candidate.phrase not in phrases.PLAIN_MODALS,
    )


def replaces(new: _Candidate, old: _Candidate) -> bool:
    """Whether ``new`` should stand for the event instead of ``old``, which has the same
    statement: the higher rank, and on a tie the fuller quote (a pull-quote repeats a
    sentence in part)."""
    if rank(new) != rank(old):
        return rank(new) > rank(old)
    return new.end - new.start > old.end - old.start


_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*+\n")
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?")
_STOP = frozenset(
    re.split(
        r"\s+",
        "will would shall should be is are was were been being the a an of to that this these "
        "those it its there their they them in on at by for with and or as happen happens "
        "still also again so very then now come comes",
    )
)
# The subject ends where a word does, the spaces after it taken whole (tried from inside
# a run of spaces, ``.+?\s+`` costs the square of the run); what follows the loser is
# looked at, not read to the end, for every "will beat".
_BEAT = re.compile(
    r"^(?P<a>.+?)(?<!\s)\s++will\s++(?:(?:narrowly|easily|comfortably|again)\s++)?"
    r"(?:beat|defeat|oust|unseat|overcome|edge\s++out|win\s++against)\s++"
    r"(?P<b>[\w'\u2019.-]++(?:\s++[\w'\u2019.-]++){0,5}?)"
    r"(?=$|\s++(?:in|at|on|by|for|to|and|next|this)\b)",
    re.S,
)
_WIN = re.compile(
    r"^(?P<a>.+?)(?<!\s)\s++will\s++(?:(?:narrowly|easily|comfortably|again)\s++)?"
    r"(?P<v>win|prevail|triumph|lose|be\s++(?:re-?)?elected|be\s++defeated|be\s++beaten)\b",
    re.S,
)
# A clause that says again what the one before said: "...; put differently, I do not
# expect it to fall below that level", "In other words, Halcyon will lose the crown".
_RESTATING = re.compile(
    r"^\W*+(?:in\s++other\s++words|put\s++differently|that\s++is\s++to\s++say|"
    r"to\s++put\s++it\s++another\s++way|put\s++another\s++way)\b",
    re.IGNORECASE,
)
_RACE_VERB = re.compile(
    r"\bwill\s++(?:\w++\s++)?(?:beat|defeat|oust|unseat|overcome|edge|win|prevail|"
    r"triumph|lose|be\s++(?:re-?)?elected|be\s++defeated|be\s++beaten)\b"
)
# Capitalised only because a sentence starts with them.
_NOT_NAMES = frozenset(
    re.split(
        r"\s+", "it they he she we i the a an this that these those there our their his her its"
    )
)
_NAME = re.compile(r"\b[A-Z][\w'\u2019-]*+")


def _content(candidate: _Candidate) -> frozenset[str]:
    words = set(_WORD.findall(candidate.statement.lower()))
    words -= _STOP
    words.difference_update(_WORD.findall(f"{candidate.matched} {candidate.phrase}".lower()))
    return frozenset(
        word[:-1]
        if len(word) > 3 and word[-1] == "s" and not word.endswith(("ss", "us", "is"))
        else word
        for word in words
    )


def _surname(noun_phrase: str) -> str | None:
    names = [n.lower() for n in _NAME.findall(noun_phrase)]
    names = [n for n in names if n not in _NOT_NAMES]
    return names[-1] if names else None


def _race(statement: str) -> tuple[frozenset[str], str, frozenset[str]] | None:
    """The named participants of a race statement, its kind: "beat" (names both sides),
    "win" or "lose", and the content words of what is won or lost."""
    if _RACE_VERB.search(statement) is None:
        return None
    body = statement.rstrip(".")
    beat = _BEAT.match(body)
    if beat is not None:
        a, b = _surname(beat.group("a")), _surname(beat.group("b"))
        if a is not None and b is not None and a != b:
            return frozenset({a, b}), "beat", frozenset()
    win = _WIN.match(body)
    if win is not None:
        a = _surname(win.group("a"))
        if a is not None:
            lose = win.group("v").startswith(("lose", "be defeated", "be beaten"))
            prize = frozenset(_WORD.findall(body[win.end() :].lower())) - _STOP
            return frozenset({a}), "lose" if lose else "win", prize
    return None


class _Groups:
    """Union-find over candidate indices; a group's root is its first member."""

    def __init__(self, size: int) -> None:
        self._parent = list(range(size))

    def find(self, index: int) -> int:
        while self._parent[index] != index:
            self._parent[index] = self._parent[self._parent[index]]
            index = self._parent[index]
        return index

    def join(self, one: int, other: int) -> None:
        a, b = self.find(one), self.find(other)
        if a != b:
            self._parent[max(a, b)] = min(a, b)


def merge(text: str, candidates: list[C]) -> list[C]:
    """``candidates`` (in text order) with each paragraph's restatements, complements and
    colon-joined details of one event merged into the highest ranked of them."""
    if len(candidates) < 2:
        return candidates
    breaks = [m.start() for m in _PARAGRAPH_BREAK.finditer(text)]
    groups = _Groups(len(candidates))
    restated: dict[tuple[int, frozenset[str]], int] = {}
    races: dict[tuple[int, str], int] = {}  # (paragraph, surname) -> a two-sided race
    singles: list[tuple[int, int, frozenset[str]]] = []
    # paragraph -> surname -> the first "will win" (and what is won)
    wins: dict[int, dict[str, tuple[int, frozenset[str]]]] = {}
    loses: list[tuple[int, int, str, frozenset[str]]] = []
    paragraph_before = -1
    restating: set[int] = set()  # says it restates the one before: never the one kept
    for index, candidate in enumerate(candidates):
        paragraph = bisect.bisect_right(breaks, candidate.start)
        if paragraph == paragraph_before and _RESTATING.match(candidate.quote):
            groups.join(index - 1, index)
            restating.add(index)
        paragraph_before = paragraph
        words = _content(candidate)
        if len(words) >= 2:
            first = restated.setdefault((paragraph, words), index)
            groups.join(first, index)
        race = _race(candidate.statement)
        if race is not None:
            names, kind, prize = race
            if kind == "beat":
                for name in names:
                    groups.join(races.setdefault((paragraph, name), index), index)
            else:
                singles.append((index, paragraph, names))
                (name,) = names
                if kind == "win":
                    wins.setdefault(paragraph, {}).setdefault(name, (index, prize))
                else:
                    loses.append((index, paragraph, name, prize))
        if index and _colon_detail(text, candidates[index - 1], candidate):
            groups.join(index - 1, index)
    for index, paragraph, names in singles:
        for name in names:
            if (paragraph, name) in races:
                groups.join(races[(paragraph, name)], index)
    for index, paragraph, name, prize in loses:  # "A will win ... B will lose": one contest
        for other, (winner, won) in wins.get(paragraph, {}).items():
            if other != name and (not won or not prize or won == prize):
                groups.join(winner, index)
                break
    members: dict[int, list[int]] = {}
    for index in range(len(candidates)):
        members.setdefault(groups.find(index), []).append(index)
    kept: list[C] = []
    for root in sorted(members):
        group = members[root]
        best = max(group, key=lambda i: (i not in restating, rank(candidates[i]), -i))
        chosen = candidates[best]
        others = [candidates[i] for i in group if i != best]
        if others:
            note = "; ".join(f"'{o.statement}' ({o.probability:.0%})" for o in others)
            chosen = dataclasses.replace(  # type: ignore[type-var]  # a dataclass C
                chosen, reasons=(*chosen.reasons, f"one event with {note}: merged")
            )
        kept.append(chosen)
    return sorted(kept, key=lambda c: c.start)


def _colon_detail(text: str, first: _Candidate, second: _Candidate) -> bool:
    """Whether ``second`` is the detail after a colon of ``first`` in one sentence, one of
    them a plain modal."""
    if first.sentence_start != second.sentence_start or first.end > second.start:
        return False
    if not text[first.end : second.start].lstrip().startswith(":"):
        return False
    return first.phrase in phrases.PLAIN_MODALS or second.phrase in phrases.PLAIN_MODALS
