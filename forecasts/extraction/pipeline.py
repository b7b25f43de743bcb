"""Article text -> candidate forecasts.  Pure (stdlib, dateutil and ``phrases``), deterministic.

This module puts the steps together; each step is a module of its own, and imports point
from here down (sentences, deadlines, hedges, gate <- propositions <- confidence <-
numbers <- pipeline).  Per sentence:

1. Split the text into sentences (paragraph breaks and bullets end a sentence too), with
   character offsets into the original text (:mod:`~forecasts.extraction.sentences`).
   Sentences over :data:`MAX_SENTENCE_CHARS` are skipped and counted, not read.
2. Find hedges: lexicon phrases (:func:`forecasts.core.phrases.phrases_in`); stated
   probabilities ("a 70% chance that X", "X has a one-in-three chance of V-ing", "we put
   the odds of X at 30%", "the probability that X is 0.7"), whose number is the reading;
   and the author's own expectations ("we expect X to V", "I don't expect that X will V",
   "our expectation is that X"), read as the lexicon's "expected"
   (:mod:`~forecasts.extraction.numbers`); and plain modals ("X will V", "X should V",
   "X is set to V"), read by their house readings (:mod:`~forecasts.extraction.modals`),
   which come with the reasons to doubt each use ("the IMF says growth will", "the plant
   that will close", "I will publish") so the confidence step keeps those back.  A
   sentence with two hedges in separate clauses ("X could happen, but it is expected
   that Y") gives two candidates (:mod:`~forecasts.extraction.hedges`); an anaphoric
   tail ("..., but this scenario is less probable") qualifies the clause before it
   instead.
3. Resolve polarity so the probability is FOR the proposition in ``statement``: the hedge
   qualifies what follows it ("it is unlikely that X", "what is unlikely is that X", "X is
   unlikely to V", "X may V"); a negative predicate ("will remain out of reach", "will not",
   "fail to") makes the hedge qualify NOT X, so P(X) = 1 - p (``negated``).  Negation of the
   hedge itself ("not likely", "not unlikely") is the lexicon's job
   (:mod:`~forecasts.extraction.propositions`).
4. Conditionals ("If Y, X may ...", "X may ... if Y") keep Y as ``condition``
   (:mod:`~forecasts.extraction.propositions`).
5. Find a deadline (:func:`~forecasts.extraction.deadlines.deadline_find`): explicit dates,
   relative expressions and the political calendar
   (:data:`~forecasts.extraction.deadlines.CALENDAR_NOTES`), and the events the article
   dates elsewhere ("before the summit"), read once per article
   (:func:`~forecasts.extraction.deadlines.article_events`).  No deadline -> ``deadline``
   is None and ``deadline_note`` says so; we never guess.
6. Score confidence (:mod:`~forecasts.extraction.confidence`).  Reports of others' views,
   descriptions of the past or present and modals of capability inside relative clauses
   ("missiles that could reach Japan") are kept with a low confidence and the reasons, so
   editors see why; only candidates at or above :data:`PROPOSE_AT` count as proposed.  A
   number the author states is the strongest evidence there is; one someone else states
   ("pollsters give him a 60% chance", "markets are pricing in ...") is a report like any
   other.
7. Gate the statement of a candidate that would be proposed
   (:func:`~forecasts.extraction.gate.statement_check`): one that is not
   a well-formed, hedge-free declarative clause ("There will be in a typical year.", "A
   recession in 2027 is unlikely.", a question) is kept back, its confidence capped at
   :data:`KEPT_BACK_CONFIDENCE` and the gate's reason among its reasons.  Step 3 rewrites
   the hedge-as-predicate it can ("A recession in 2027 is unlikely." -> "There will be a
   recession in 2027.") and takes the claim of the sentence before when a clause only
   judges it ("Its operator says it will ... I think that is very unlikely.").
8. Merge what states one event twice in a paragraph, keeping the author's own
   probability (:mod:`~forecasts.extraction.events`).

Time grows in proportion to the text: no two quantified parts of a pattern can match the
same characters (a run of spaces is taken whole, from where it starts), a pattern tried
from many starts repeats a bounded number of times, what is looked for before a match is
looked for a bounded distance back, and no step compares every hedge with every other
(``tests/extraction/test_extraction_time.py``).

No Django here: the service layer (:mod:`forecasts.extraction.ingest`) stores candidates
as draft forecasts.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass

from forecasts.core import phrases
from forecasts.extraction.confidence import confidence_score
from forecasts.extraction.deadlines import ArticleEvents, article_events, deadline_find
from forecasts.extraction.events import merge, replaces
from forecasts.extraction.gate import statement_check
from forecasts.extraction.hedges import CLAUSE_BREAK, Hedge, NonOverlapping, clause_spans, primary
from forecasts.extraction.modals import modal_condition, modal_proposition, plain_modals
from forecasts.extraction.numbers import (
    expectation_proposition,
    expectations,
    stated_numbers,
    stated_proposition,
)
from forecasts.extraction.propositions import (
    clean_condition,
    drop_aside,
    hedged_proposition,
    judged_claim,
    modal_to_will,
    rewrite_negative,
    sentence_case,
    split_condition,
    strip_reporting,
)
from forecasts.extraction.sentences import sentences

__all__ = [
    "KEPT_BACK_CONFIDENCE",
    "MAX_SENTENCE_CHARS",
    "PROPOSE_AT",
    "Candidate",
    "Extraction",
    "extract",
    "proposed",
    "run",
]

#: Candidates at or above this confidence are proposed to editors; the rest are kept
#: (with their reasons) only for inspection.
PROPOSE_AT = 0.5

#: A candidate whose statement fails the gate (:mod:`~forecasts.extraction.gate`) is kept
#: back: its confidence is capped here, below :data:`PROPOSE_AT`, whatever the reading's,
#: and the gate's reason joins its reasons.  A malformed statement is not worth an
#: editor's time as a draft, however sure the reading.
KEPT_BACK_CONFIDENCE = 0.4

#: Sentences longer than this are skipped before any pattern reads them (``run`` counts
#: them). The longest sentence of the quality corpus and the seed article has 328
#: characters; one of over 1,000 is a table, a list run together or pasted junk, and what
#: the patterns cost grows with the length of the sentence they read.
MAX_SENTENCE_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Candidate:
    """One proposed forecast.  ``probability``/``low``/``high`` are FOR ``statement``."""

    start: int  # the quoted span (clause or sentence) in the text
    end: int
    sentence_start: int
    sentence_end: int
    quote: str
    statement: str
    phrase: str  # the lexicon entry's text (for estimate_record_phrase); "" for a number
    matched: str  # the words as written in the text
    # The probability the text states ("a 30% chance that X" -> 0.30), for the proposition
    # the words qualified; None for a verbal phrase.  ``probability`` is FOR ``statement``,
    # so it is 1 - stated_probability when ``negated``.
    stated_probability: float | None
    probability: float
    low: float
    high: float
    negated: bool
    weak: bool
    conditional: bool
    condition: str
    deadline: dt.date | None
    deadline_expression: str
    deadline_note: str
    confidence: float
    reasons: tuple[str, ...]
    # Why the statement was kept back (the gate's reason), or "" when it passed.
    kept_back: str = ""

    @property
    def is_proposed(self) -> bool:
        return self.confidence >= PROPOSE_AT


_ANAPHORIC = re.compile(
    r"^(?:(?:at\s+the\s+moment|for\s+now|for\s+the\s+moment|however|still),?\s+)*"
    r"(?:this|that|which|it|such\s+an?\s+\w+)(?:\s+(?:scenario|outcome|prospect|scenario))?"
    r"\s+(?:is|seems|looks|appears|remains|would\s+be)\b",
    re.IGNORECASE,
)


def _hedges(text: str, start: int, end: int) -> list[Hedge]:
    """Every hedge in the sentence, in text order: where the lexicon, the stated numbers and
    the expectations meet (so here, above all three)."""
    sentence = text[start:end]
    lexicon = [Hedge(start + s, start + e, phrase) for s, e, phrase in phrases.phrases_in(sentence)]
    # The numbers first, then the expectations outside them (neither kind overlaps itself).
    found = NonOverlapping(stated_numbers(sentence, start))
    for hedge in expectations(sentence, start):
        found.add(hedge)
    modals = plain_modals(sentence, start)
    if not found.hedges and not modals:
        return lexicon
    # A lexicon word inside a stated number ("80% likely", "put the odds of an unlikely
    # upset at 10%") is part of it, not a hedge of its own; so is a modal.
    for hedge in (*lexicon, *modals):
        found.add(hedge)
    return found.hedges


@dataclass(frozen=True, slots=True)
class Extraction:
    """What a text yields: its candidates (proposed or not) in text order, and how many of
    its sentences were skipped as longer than :data:`MAX_SENTENCE_CHARS`."""

    candidates: list[Candidate]
    sentences_skipped: int


def extract(text: str, published: dt.date) -> list[Candidate]:
    """Every candidate in ``text`` (proposed or not), in text order."""
    return run(text, published).candidates


def run(text: str, published: dt.date) -> Extraction:
    """Every candidate in ``text``, and how many sentences were too long to read."""
    candidates: list[Candidate] = []
    statements = _Statements()
    seen: dict[str, int] = {}
    skipped = 0
    last = (0, 0)  # the sentence before, which "that is unlikely" may judge
    events = article_events(text, published)  # "the summit on 15 November", for "before the summit"
    for s_start, s_end in sentences(text):
        before, last = last, (s_start, s_end)
        if s_end - s_start > MAX_SENTENCE_CHARS:
            skipped += 1
            continue
        hedges = _hedges(text, s_start, s_end)
        if not hedges:
            continue
        clauses = clause_spans(text, s_start, s_end, hedges)
        groups: list[tuple[int, int, list[Hedge], bool]] = []
        at = 0  # hedges and clauses are both in text order
        for c_start, c_end in clauses:
            while at < len(hedges) and hedges[at].start < c_start:
                at += 1  # in the words that cut the clauses apart
            first = at
            while at < len(hedges) and hedges[at].start < c_end:
                at += 1
            inside = hedges[first:at]
            if not inside:
                continue
            anaphoric = (
                bool(groups)
                and _ANAPHORIC.match(text[c_start:c_end]) is not None
                and len(text[inside[-1].end : c_end].split()) <= 3
            )
            if anaphoric:
                # "..., but this scenario is less probable": the tail judges the clause before.
                prev_start, _, prev_hedges, _ = groups[-1]
                groups[-1] = (prev_start, c_end, prev_hedges + inside, True)
            else:
                groups.append((c_start, c_end, inside, False))
        for g_start, g_end, group_hedges, author_judges in groups:
            candidate = _candidate(
                text, s_start, s_end, g_start, g_end, group_hedges, author_judges, published,
                events, previous=text[before[0] : before[1]],
            )  # fmt: skip
            key = phrases.normalize(candidate.statement)
            if key in seen:
                # Pull-quotes repeat a sentence: keep the fuller one.
                # (events.replaces: the author's own number first, then the fuller quote.)
                if replaces(candidate, candidates[seen[key]]):
                    candidates[seen[key]] = candidate
                continue
            duplicate = statements.extended(key)
            if duplicate is not None:
                if replaces(candidate, candidates[duplicate]):
                    candidates[duplicate] = candidate
                continue
            seen[key] = len(candidates)
            statements.add(key, len(candidates))
            candidates.append(candidate)
    # One candidate per event in a paragraph (:mod:`~forecasts.extraction.events`).
    return Extraction(merge(text, sorted(candidates, key=lambda c: c.start)), skipped)


class _Statements:
    """The normalised statements of the candidates taken so far, in order, so that one
    extending or extended by a new statement (a pull-quote) is found without comparing the
    new one with every other: an article of many forecasts took the square of their number.
    """

    def __init__(self) -> None:
        self._stems: list[str] = []  # sorted
        self._first: dict[str, int] = {}  # stem -> index of the first candidate with it

    def add(self, key: str, index: int) -> None:
        stem = key.rstrip(".")
        if stem not in self._first:
            bisect.insort(self._stems, stem)
            self._first[stem] = index

    def extended(self, key: str) -> int | None:
        """The first candidate whose statement extends, or is extended by, ``key``."""
        stem = key.rstrip(".")
        if len(stem) <= 30:
            return None
        found = []
        # Those that extend it follow it in order, together.
        at = bisect.bisect_left(self._stems, stem)
        while at < len(self._stems) and self._stems[at].startswith(stem):
            found.append(self._first[self._stems[at]])
            at += 1
        # Those it extends come before it; between one of them and it, every stem starts
        # with that one, so each step back skips to below the prefix the two share.
        end = bisect.bisect_left(self._stems, stem)
        while end > 0:
            other = self._stems[end - 1]
            if stem.startswith(other):
                found.append(self._first[other])
                bound = other[:-1]
            else:
                bound = _shared_prefix(other, stem)
            end = bisect.bisect_right(self._stems, bound, 0, end - 1)
        return min(found, default=None)


def _shared_prefix(one: str, other: str) -> str:
    length = 0
    for a, b in zip(one, other, strict=False):
        if a != b:
            break
        length += 1
    return one[:length]


def proposed(text: str, published: dt.date) -> list[Candidate]:
    """The candidates worth an editor's time, strongest first."""
    found = [c for c in extract(text, published) if c.is_proposed]
    return sorted(found, key=lambda c: (-c.confidence, c.start))


def _candidate(
    text: str,
    s_start: int,
    s_end: int,
    g_start: int,
    g_end: int,
    hedges: list[Hedge],
    author_judges: bool,
    published: dt.date,
    events: ArticleEvents,
    *,
    previous: str,
) -> Candidate:
    hedge = primary(hedges)
    clause = text[g_start:g_end]
    # The clause qualified by the hedge: for an anaphoric tail, the clause before it.
    content_end = g_end
    if author_judges:
        tail = CLAUSE_BREAK.search(clause)
        content_end = g_start + tail.start() if tail else g_end
    content = text[g_start:content_end]
    condition, main, main_at = split_condition(content)
    conditional = bool(condition)
    matched = text[hedge.start : hedge.end]
    doubts: tuple[str, ...] = ()  # reasons the frame was not read as a forecast
    claim = None  # the sentence before's claim, when this one only judges it
    if author_judges or hedge.start >= content_end:
        subject = strip_reporting(main)
        proposition = modal_to_will(subject)
    elif hedge.kind == "number":
        found = stated_proposition(main, matched, hedge.frame)
        if found is None:
            doubts = ("the clause does not say what the number is the probability of",)
        proposition = main if found is None else found
    elif hedge.kind == "modal":
        split = modal_condition(content, hedge.start - g_start, (condition, main, main_at))
        condition, main, main_at = split
        at = hedge.start - g_start - main_at
        proposition, doubts = modal_proposition(main, at, matched, hedge.phrase.text)
    elif hedge.kind == "expectation":
        proposition, doubt = expectation_proposition(main, matched)
        doubts = () if doubt is None else (doubt,)
    else:
        claim = judged_claim(main, matched, previous)
        proposition = hedged_proposition(main, matched) if claim is None else claim
    proposition, negated = rewrite_negative(proposition)
    reading = phrases.estimate(hedge.phrase, negated=negated)
    # The judged claim's time, then the main clause's: "If the bank cuts in March, rates
    # will fall by the summer."
    deadline = (
        (deadline_find(claim, published, events=events, at=g_start) if claim else None)
        or deadline_find(main, published, events=events, at=g_start)
        or (deadline_find(condition, published, events=events, at=g_start) if condition else None)
    )
    if deadline is None and content_end < g_end:
        deadline = deadline_find(text[content_end:g_end], published, events=events, at=content_end)
    confidence, reasons = confidence_score(
        clause=clause,
        hedge=hedge.phrase,
        hedge_offset=hedge.start - g_start,
        hedge_end=hedge.end - g_start,
        stated=hedge.stated is not None,
        deadline=deadline,
        conditional=conditional,
        published=published,
        author_judges=author_judges,
        doubts=doubts,
    )
    if negated:
        reasons = (*reasons, "negative predicate: the hedge qualifies the opposite (P = 1 − p)")
    statement = sentence_case(drop_aside(proposition.rstrip(".!?;: ")))
    # Only a candidate that would be proposed is checked: the rest are kept back already.
    kept_back = (statement_check(statement) or "") if confidence >= PROPOSE_AT else ""
    if kept_back:
        confidence = min(confidence, KEPT_BACK_CONFIDENCE)
        reasons = (*reasons, f"statement kept back: {kept_back}")
    return Candidate(
        start=g_start,
        end=g_end,
        sentence_start=s_start,
        sentence_end=s_end,
        quote=clause,
        statement=statement,
        phrase=hedge.phrase.text,
        matched=matched,
        stated_probability=hedge.stated,
        probability=reading.probability,
        low=reading.low,
        high=reading.high,
        negated=negated,
        weak=hedge.phrase.weak,
        conditional=conditional,
        condition=clean_condition(condition) if conditional else "",
        deadline=deadline.date if deadline else None,
        deadline_expression=deadline.expression if deadline else "",
        deadline_note=(
            f"'{deadline.expression}': {deadline.note}"
            if deadline
            else "No deadline in the text: an editor must set one."
        ),
        confidence=confidence,
        reasons=reasons,
        kept_back=kept_back,
    )
