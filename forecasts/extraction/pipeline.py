"""Article text -> candidate forecasts.  Pure (stdlib, dateutil and ``phrases``), deterministic.

The pipeline, per sentence:

1. Split the text into sentences (paragraph breaks and bullets end a sentence too), with
   character offsets into the original text.
2. Find hedges: lexicon phrases (:func:`forecasts.phrases.phrases_in`); stated
   probabilities ("a 70% chance that X", "X has a one-in-three chance of V-ing", "we put
   the odds of X at 30%", "the probability that X is 0.7"), whose number is the reading;
   and the author's own expectations ("we expect X to V", "I don't expect that X will V",
   "our expectation is that X"), read as the lexicon's "expected".  Plain "will" and
   "should" are deliberately not hedges: they would flood editors with candidates.
   A sentence with two hedges in separate clauses ("X could happen, but it is expected
   that Y") gives two candidates; an anaphoric tail ("..., but this scenario is less
   probable") qualifies the clause before it instead.
3. Resolve polarity so the probability is FOR the proposition in ``statement``: the hedge
   qualifies what follows it ("it is unlikely that X", "what is unlikely is that X", "X is
   unlikely to V", "X may V"); a negative predicate ("will remain out of reach", "will not",
   "fail to") makes the hedge qualify NOT X, so P(X) = 1 - p (``negated``).  Negation of the
   hedge itself ("not likely", "not unlikely") is the lexicon's job.
4. Conditionals ("If Y, X may ...", "X may ... if Y") keep Y as ``condition``.
5. Find a deadline (:func:`deadline_find`): explicit dates, relative expressions and the
   political calendar (:data:`CALENDAR_NOTES`).  No deadline -> ``deadline`` is None and
   ``deadline_note`` says so; we never guess.
6. Score confidence.  Reports of others' views, descriptions of the past or present and
   modals of capability inside relative clauses ("missiles that could reach Japan") are
   kept with a low confidence and the reasons, so editors see why; only candidates at or
   above :data:`PROPOSE_AT` count as proposed.  A number the author states is the
   strongest evidence there is; one someone else states ("pollsters give him a 60%
   chance", "markets are pricing in ...") is a report like any other.

No Django here: the service layer stores candidates as draft forecasts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from forecasts.core import phrases
from forecasts.extraction.confidence import FUTURE, confidence_score
from forecasts.extraction.deadlines import (
    DEADLINE_TRIGGER,
    NUMBER_WORDS,
    deadline_find,
)
from forecasts.extraction.hedges import CLAUSE_BREAK, Hedge, clause_spans, overlaps, primary
from forecasts.extraction.propositions import (
    DISCOURSE,
    clean_condition,
    hedged_proposition,
    modal_to_will,
    of_complement,
    rewrite_negative,
    sentence_case,
    split_condition,
    strip_reporting,
    subject_form,
)
from forecasts.extraction.sentences import sentences

__all__ = [
    "PROPOSE_AT",
    "Candidate",
    "extract",
    "proposed",
]

#: Candidates at or above this confidence are proposed to editors; the rest are kept
#: (with their reasons) only for inspection.
PROPOSE_AT = 0.5


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

    @property
    def is_proposed(self) -> bool:
        return self.confidence >= PROPOSE_AT


# --------------------------------------------------------------------------------------
# Clauses, polarity, statements
# --------------------------------------------------------------------------------------

_ANAPHORIC = re.compile(
    r"^(?:(?:at\s+the\s+moment|for\s+now|for\s+the\s+moment|however|still),?\s+)*"
    r"(?:this|that|which|it|such\s+an?\s+\w+)(?:\s+(?:scenario|outcome|prospect|scenario))?"
    r"\s+(?:is|seems|looks|appears|remains|would\s+be)\b",
    re.IGNORECASE,
)


def _hedges(text: str, start: int, end: int) -> list[Hedge]:
    sentence = text[start:end]
    lexicon = [Hedge(start + s, start + e, phrase) for s, e, phrase in phrases.phrases_in(sentence)]
    found = _stated_numbers(sentence, start)
    found += [h for h in _expectations(sentence, start) if not overlaps(h, found)]
    if not found:
        return lexicon
    # A lexicon word inside a stated number ("80% likely", "put the odds of an unlikely
    # upset at 10%") is part of it, not a hedge of its own.
    found += [h for h in lexicon if not overlaps(h, found)]
    return sorted(found, key=lambda h: h.start)


# --------------------------------------------------------------------------------------
# Stated numbers ("a 70% chance that X") and first-person expectations ("we expect X to V")
# --------------------------------------------------------------------------------------

_COUNT_WORDS = NUMBER_WORDS
_COUNT = r"(?:\d{1,7}|(?:a\s+)?(?:" + "|".join(_COUNT_WORDS) + r"))"
# Each value form once per pattern (Python forbids repeating a group name): a percentage,
# "N in M", "50-50", and (only where a probability noun names it) a bare fraction "0.7".
# A range ("40-60%") is no single number: its second half is not read either.
_PERCENT = (
    r"(?<![\w.,\-\u2013])(?P<pct>\d{1,3}(?:\.\d+)?)(?:\s?%|[\s-]?per[\s-]?cent\b|[\s-]?percent\b)"
)
_IN = rf"(?<![\w.,])(?P<n>{_COUNT})[\s-]+in[\s-]+(?P<m>{_COUNT})(?![\w%]|[.,]\d)"
_EVEN = r"(?P<even>\b(?:50[-/]50|fifty[-\s]fifty)\b)"
_FRACTION = r"(?<![\w.,])(?P<frac>0?\.\d+|[01])(?![\w%]|[.,]\d|[\s-]?per)"
_VALUE = rf"(?:{_PERCENT}|{_IN}|{_EVEN})"
_VALUE_OR_FRACTION = rf"(?:{_PERCENT}|{_IN}|{_EVEN}|{_FRACTION})"
_APPROX = (
    r"(?:(?:about|around|roughly|approximately|nearly|almost|perhaps|maybe|some|only|just|"
    r"close\s+to|just\s+(?:under|over))\s+)?"
)
_KIND = r"(?:chances?|probability|likelihood|odds|risk|possibility)"
_COMPLEMENT = r"(?:of\s+(?P<g>[^;:]+?)|that\s+(?P<x>[^;:]+?))"

#: Where a stated probability sits.  Odds "N to M" are not read: "3 to 1" is odds against
#: in betting and odds on elsewhere, and the text rarely says which.
_STATED_FRAMES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        # "a 70% chance (that X | of X-ing)", "a one-in-three chance", "70 per cent odds";
        # "X is 80% likely to V", "I am 90 per cent certain that X" (frame "percent_likely").
        # The article and "about" before the number are added by _stated_numbers.
        (
            "chance",
            rf"{_VALUE}[\s-]*(?:{_KIND}(?![\w-])|(?P<likely>likely|certain|sure)\b)",
        ),
        # "a probability of 0.7 that X", "with a probability of 70%"
        (
            "chance_of_value",
            rf"\b(?:a|an)\s+(?:\w+\s+)?{_KIND}\s+of\s+{_APPROX}{_VALUE_OR_FRACTION}"
            r"(?=\s*(?:that\b|,|[.;:!?)]|$))",
        ),
        # "we put the odds of X at 30%", "I put the probability that X at 0.6"
        (
            "put_at",
            r"\b(?:put|puts|putting|place[sd]?|placing|set|sets|setting|peg(?:s|ged|ging)?|"
            r"estimate[sd]?|reckon(?:s|ed)?|assess(?:es|ed)?)\s+"
            rf"(?:the|its|their|our|my|his|her|this)\s+(?:[\w-]+\s+)?{_KIND}\s+{_COMPLEMENT}"
            rf"\s+at\s+{_APPROX}{_VALUE_OR_FRACTION}",
        ),
        # "the probability that X is 0.7", "the odds of X are one in four"
        (
            "is_value",
            rf"\b(?:the|our|my|its|their)\s+(?:[\w-]+\s+)?{_KIND}\s+{_COMPLEMENT}\s+"
            r"(?:is|are|stands\s+at|sits\s+at)\s+(?:now\s+)?"
            rf"{_APPROX}{_VALUE_OR_FRACTION}",
        ),
    )
)
# What may stand before the number in a "chance" frame: "a roughly (70% chance)".
_LEAD = re.compile(rf"(?:\b(?:a|an)\s+)?{_APPROX}$", re.IGNORECASE)
# Cheap first checks (most sentences state no number, and years are not probabilities):
# some value form, and some word a frame needs.
_STATED_TRIGGER = re.compile(
    r"%|per[\s-]?cent|\bin[\s-]+(?:a\s+)?(?:\d|" + "|".join(_COUNT_WORDS) + r")|50|fifty"
    r"|(?<![\w.,])(?:0?\.\d|[01](?![\w.,]))",
    re.IGNORECASE,
)
_KIND_WORDS = re.compile("chance|probab|likel|odds|risk|possib|certain|sure")  # on lower case


def _stated_value(m: re.Match[str]) -> float | None:
    """The probability a frame states, or None when it is no probability (over 100 %)."""
    groups = m.groupdict()
    if groups.get("pct"):
        value = float(groups["pct"]) / 100
    elif groups.get("n") and groups.get("m"):
        n, of = _count(groups["n"]), _count(groups["m"])
        value = n / of if of else 2.0
    elif groups.get("even"):
        value = 0.5
    elif groups.get("frac"):
        value = float(groups["frac"])
    else:
        return None
    return round(value, 4) if 0.0 <= value <= 1.0 else None


def _count(text: str) -> int:
    word = text.lower().removeprefix("a ").strip()
    return int(word) if word.isdigit() else _COUNT_WORDS[word]


def _stated_reading(value: float) -> phrases.Phrase:
    return phrases.Phrase(
        text="",
        probability=value,
        low=value,
        high=value,
        scale="Stated",
        citation="the number stated in the text",
    )


def _stated_numbers(sentence: str, offset: int) -> list[Hedge]:
    """Stated probabilities in ``sentence`` (offsets + ``offset``); the longest match wins
    where frames overlap."""
    if not _KIND_WORDS.search(sentence.lower()) or not _STATED_TRIGGER.search(sentence):
        return []
    found: list[tuple[int, int, str, float]] = []
    for name, pattern in _STATED_FRAMES:
        for m in pattern.finditer(sentence):
            value = _stated_value(m)
            if value is None:
                continue
            start, frame = m.start(), name
            if name == "chance":  # "a roughly 70% chance", "about 80% likely"
                lead = _LEAD.search(sentence, 0, start)
                start = lead.start() if lead else start
                frame = "percent_likely" if m.group("likely") else "chance"
            found.append((start, m.end(), frame, value))
    found.sort(key=lambda f: (f[0] - f[1], f[0]))
    chosen: list[Hedge] = []
    for start, end, frame, value in found:
        hedge = Hedge(offset + start, offset + end, _stated_reading(value), "number", value, frame)
        if not overlaps(hedge, chosen):
            chosen.append(hedge)
    return chosen


_EXPECTATION = re.compile(
    r"\b(?:(?:we|i)(?:['\u2019]d)?\s+(?:(?:still|now|also|fully|firmly|broadly|would|"
    r"continue\s+to)\s+)*(?P<neg>(?:do\s+not|would\s+not|don['\u2019]t|wouldn['\u2019]t|"
    r"no\s+longer)\s+)?(?:(?:still|now|really|fully)\s+)*(?:expect|anticipate)(?![\w'\u2019])"
    r"|(?:our|my)\s+(?:(?:central|main|base|firm|own|working)\s+)?expectation\s+is\b)",
    re.IGNORECASE,
)


def _expectations(sentence: str, offset: int) -> list[Hedge]:
    """The author's own expectations ("we expect", "I don't expect", "our expectation is").

    Third-person ones ("analysts expect") are reports of others' views and are not read.
    """
    if "xpect" not in sentence and "nticipat" not in sentence:
        return []
    return [
        Hedge(
            offset + m.start(),
            offset + m.end(),
            phrases.LEXICON["not expected" if m.group("neg") else "expected"],
            "expectation",
        )
        for m in _EXPECTATION.finditer(sentence)
    ]


_FINITE = re.compile(
    r"\b(?:will|would|won['\u2019]t|shall|is|are|was|were|can|could|may|might|has|have)\b"
    r"|['\u2019]ll\b",
    re.IGNORECASE,
)
_FUTURE_VERB = re.compile(
    r"\b(?:will|would|won['\u2019]t|shall|(?:is|are)\s+going\s+to)\b|['\u2019]ll\b", re.IGNORECASE
)


_NO_EVENT = "expects no future event the clause names ('I expect you know', 'we expect better')"


def _expectation_proposition(main: str, matched: str) -> tuple[str, str | None]:
    """ "We expect X to V" -> "X will V"; "I expect (that) X will V" -> "X will V".

    The second item is a reason to doubt the reading, when the expected thing is no
    future event.
    """
    body = DISCOURSE.sub("", main.strip().rstrip(".!?;:, "))
    at = body.find(matched)
    if at < 0:
        return hedged_proposition(main, matched), None
    rest = body[at + len(matched) :]
    m = re.match(r"\s+to\s+(?P<see>see\s+)?(?P<v>.+)$", rest, re.S)
    if m is not None:  # "we expect to raise prices", "we expect to see a cut in June"
        if m.group("see"):
            return f"there will be {m.group('v')}", None
        return f"{'I' if matched.lower().startswith('i') else 'we'} will {m.group('v')}", None
    m = re.match(r"\s+(?!that\b)(?P<s>.+?)\s+to\s+(?P<v>.+)$", rest, re.S)
    if m is not None and _FINITE.search(m.group("s")) is None:
        return f"{subject_form(m.group('s'))} will {m.group('v')}", None
    m = re.match(r",?\s+that\s+(?P<x>.+)$", rest, re.S)
    clause = m.group("x") if m is not None else rest.strip()
    if m is not None or _FINITE.search(clause) is not None:  # "I expect (that) X will V"
        return clause, None if FUTURE.search(clause) else _NO_EVENT
    # "we expect two cuts this year"
    dated = FUTURE.search(clause) or DEADLINE_TRIGGER.search(clause)
    return f"there will be {clause}", None if dated else _NO_EVENT


_HAS_SUBJECT = re.compile(
    r"(?:^|,\s+|\b(?:that|think|believe|reckon)\s+)(?P<s>(?!(?:who|which|that)\b)[^,]+?),?\s+"
    r"(?:(?:still|now|only|also)\s+)?"
    r"(?:has|have|had|stands?|stood)\s+(?:(?:only|just|still|now|perhaps|maybe|about|roughly|"
    r"at\s+(?:best|most|least))\s+)*$",
    re.IGNORECASE,
)
_GIVEN_TO = re.compile(
    r"\b(?:give[sn]?|gave|giving|assign(?:s|ed|ing)?)\s+(?P<s>(?:[\w'\u2019.-]+\s+){0,4}?"
    r"[\w'\u2019.-]+)\s+$",
    re.IGNORECASE,
)


def _subject(before: str) -> str | None:
    """Whose chance it is: "X has a 30% chance", "we give X a 30% chance"."""
    m = _HAS_SUBJECT.search(before)
    if m is not None:
        return m.group("s")
    m = _GIVEN_TO.search(before)
    if m is not None:
        return subject_form(m.group("s"))
    return None


def _stated_proposition(main: str, matched: str, frame: str) -> str | None:
    """What the stated number is the probability of, or None when the clause does not say
    (the number refers back to an earlier sentence, say)."""
    body = DISCOURSE.sub("", main.strip().rstrip(".!?;:, "))
    at = body.find(matched)
    if at < 0:
        return None
    before, after = body[:at], body[at + len(matched) :]
    if frame in {"put_at", "is_value"}:  # "we put the odds of X at 30% (before June)"
        m = dict(_STATED_FRAMES)[frame].search(matched)
        if m is None:
            return None
        if m.group("x"):
            return m.group("x") + after
        return of_complement(m.group("g") + after, None)
    that = re.match(r",?\s+that\s+(?P<x>.+)$", after, re.S)
    if that is not None:
        return that.group("x")
    if frame == "chance":
        of = re.match(r"\s+of\s+(?P<g>.+)$", after, re.S)
        if of is not None:
            return of_complement(of.group("g"), _subject(before))
        to = re.match(r"\s+to\s+(?P<v>.+)$", after, re.S)
        subject = _subject(before)
        if to is not None and subject is not None:
            return f"{subject} will {to.group('v')}"
        clause = after.strip()  # "a 70% chance the Fed will cut"
        if _FUTURE_VERB.search(clause) is not None:
            return clause
    if frame == "chance_of_value":
        with_ = re.search(r"^(?P<x>.+?)\s+with\s+$", before, re.S)
        if with_ is not None:  # "the bill will pass with a probability of 70%"
            return with_.group("x")
    if frame == "percent_likely":
        copula = re.match(r"^(?P<s>.+?)\s+(?:is|are|seems?|looks?|appears?)\s+$", before, re.S)
        to = re.match(r"\s+to\s+(?P<v>.+)$", after, re.S)
        if copula is not None and to is not None:
            return f"{copula.group('s')} will {to.group('v')}"
    return None


# --------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------


def extract(text: str, published: dt.date) -> list[Candidate]:
    """Every candidate in ``text`` (proposed or not), in text order."""
    candidates: list[Candidate] = []
    keys: list[str] = []  # normalised statements, parallel to candidates
    seen: dict[str, int] = {}
    for s_start, s_end in sentences(text):
        hedges = _hedges(text, s_start, s_end)
        if not hedges:
            continue
        clauses = clause_spans(text, s_start, s_end, hedges)
        groups: list[tuple[int, int, list[Hedge], bool]] = []
        for c_start, c_end in clauses:
            inside = [h for h in hedges if c_start <= h.start < c_end]
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
                text, s_start, s_end, g_start, g_end, group_hedges, author_judges, published
            )
            key = phrases.normalize(candidate.statement)
            if key in seen:
                # Pull-quotes repeat a sentence: keep the fuller one.
                previous = candidates[seen[key]]
                if len(candidate.quote) > len(previous.quote):
                    candidates[seen[key]] = candidate
                continue
            duplicate = _prefix_duplicate(keys, key)
            if duplicate is not None:
                if len(candidate.quote) > len(candidates[duplicate].quote):
                    candidates[duplicate] = candidate
                continue
            seen[key] = len(candidates)
            candidates.append(candidate)
            keys.append(key)
    return sorted(candidates, key=lambda c: c.start)


def _prefix_duplicate(keys: list[str], key: str) -> int | None:
    """A candidate whose statement extends (or is extended by) this one: a pull-quote."""
    stem = key.rstrip(".")
    if len(stem) <= 30:
        return None
    for index, other in enumerate(keys):
        other_key = other.rstrip(".")
        if other_key.startswith(stem) or stem.startswith(other_key):
            return index
    return None


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
) -> Candidate:
    hedge = primary(hedges)
    clause = text[g_start:g_end]
    # The clause qualified by the hedge: for an anaphoric tail, the clause before it.
    content_end = g_end
    if author_judges:
        tail = CLAUSE_BREAK.search(clause)
        content_end = g_start + tail.start() if tail else g_end
    content = text[g_start:content_end]
    condition, main, _ = split_condition(content)
    conditional = bool(condition)
    matched = text[hedge.start : hedge.end]
    doubts: tuple[str, ...] = ()  # reasons the frame was not read as a forecast
    if author_judges or hedge.start >= content_end:
        subject = strip_reporting(main)
        proposition = modal_to_will(subject)
    elif hedge.kind == "number":
        found = _stated_proposition(main, matched, hedge.frame)
        if found is None:
            doubts = ("the clause does not say what the number is the probability of",)
        proposition = main if found is None else found
    elif hedge.kind == "expectation":
        proposition, doubt = _expectation_proposition(main, matched)
        doubts = () if doubt is None else (doubt,)
    else:
        proposition = hedged_proposition(main, matched)
    proposition, negated = rewrite_negative(proposition)
    reading = phrases.estimate(hedge.phrase, negated=negated)
    deadline = deadline_find(content, published) or (
        deadline_find(condition, published) if condition else None
    )
    if deadline is None and content_end < g_end:
        deadline = deadline_find(text[content_end:g_end], published)
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
    return Candidate(
        start=g_start,
        end=g_end,
        sentence_start=s_start,
        sentence_end=s_end,
        quote=clause,
        statement=sentence_case(proposition),
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
    )
