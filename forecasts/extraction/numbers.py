"""Stated numbers and the author's own expectations: the hedges that are not lexicon words.

A stated probability ("a 70% chance that X", "X has a one-in-three chance of V-ing", "we
put the odds of X at 30%", "the probability that X is 0.7") is read as that number; the
author's own expectation ("we expect X to V", "I don't expect that X will V", "our
expectation is that X") as the lexicon's "expected".  Each comes with what it is the
probability of, when the clause says.  Odds ("3 to 1") and third-person expectations
("analysts expect") are not read.
"""

from __future__ import annotations

import re

from forecasts.core import phrases
from forecasts.extraction.caseless import Caseless
from forecasts.extraction.confidence import FUTURE
from forecasts.extraction.deadlines import DEADLINE_TRIGGER, NUMBER_WORDS
from forecasts.extraction.hedges import Hedge, NonOverlapping
from forecasts.extraction.propositions import (
    DISCOURSE,
    hedged_proposition,
    of_complement,
    subject_form,
)

__all__ = ["expectation_proposition", "expectations", "stated_numbers", "stated_proposition"]

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
    r"close\s+to|just\s+(?:under|over))\s++)?"
)
_KIND = r"(?:chances?|probability|likelihood|odds|risk|possibility)"
# What the odds are of: up to 200 characters, ending where a word does (the frame's next
# word follows after spaces taken whole). Unbounded, each "the odds of" would rescan the
# rest of the sentence, and ``.+?\s+`` costs the square of a run of spaces.
_COMPLEMENT = r"(?:of\s++(?P<g>[^;:]{1,200}?)|that\s++(?P<x>[^;:]{1,200}?))(?<!\s)"

#: Where a stated probability sits.  Odds "N to M" are not read: "3 to 1" is odds against
#: in betting and odds on elsewhere, and the text rarely says which.
_STATED_FRAMES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        # "a 70% chance (that X | of X-ing)", "a one-in-three chance", "70 per cent odds";
        # "X is 80% likely to V", "I am 90 per cent certain that X" (frame "percent_likely").
        # The article and "about" before the number are added by stated_numbers.
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
            r"estimate[sd]?|reckon(?:s|ed)?|assess(?:es|ed)?)\s++"
            rf"(?:the|its|their|our|my|his|her|this)\s++(?:[\w-]++\s++)?{_KIND}\s++{_COMPLEMENT}"
            rf"\s++at\s++{_APPROX}{_VALUE_OR_FRACTION}",
        ),
        # "the probability that X is 0.7", "the odds of X are one in four"
        (
            "is_value",
            rf"\b(?:the|our|my|its|their)\s++(?:[\w-]++\s++)?{_KIND}\s++{_COMPLEMENT}\s++"
            r"(?:is|are|stands\s+at|sits\s+at)\s++(?:now\s++)?"
            rf"{_APPROX}{_VALUE_OR_FRACTION}",
        ),
    )
)
# What may stand before the number in a "chance" frame: "a roughly (70% chance)". It is
# looked for in the _LEAD_REACH characters before the number (the longest, "an
# approximately ", has 17), not in the whole sentence again for every number.
_LEAD = re.compile(rf"(?:\b(?:a|an)\s++)?{_APPROX}$", re.IGNORECASE)
_LEAD_REACH = 64
# Cheap first checks (most sentences state no number, and years are not probabilities):
# some value form, and some word a frame needs.
_STATED_TRIGGER = Caseless(
    r"%|per[\s-]?cent|\bin[\s-]+(?:a\s+)?(?:\d|" + "|".join(_COUNT_WORDS) + r")|50|fifty"
    r"|(?<![\w.,])(?:0?\.\d|[01](?![\w.,]))"
)
# Looked for (as substrings) in the lower-cased sentence: cheaper than one pattern of them.
_KIND_WORDS = ("chance", "probab", "likel", "odds", "risk", "possib", "certain", "sure")


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


def stated_numbers(sentence: str, offset: int) -> list[Hedge]:
    """Stated probabilities in ``sentence`` (offsets + ``offset``); the longest match wins
    where frames overlap."""
    lowered = sentence.lower()
    if not any(word in lowered for word in _KIND_WORDS) or not _STATED_TRIGGER.found(sentence):
        return []
    found: list[tuple[int, int, str, float]] = []
    for name, pattern in _STATED_FRAMES:
        for m in pattern.finditer(sentence):
            value = _stated_value(m)
            if value is None:
                continue
            start, frame = m.start(), name
            if name == "chance":  # "a roughly 70% chance", "about 80% likely"
                lead = _LEAD.search(sentence, max(0, start - _LEAD_REACH), start)
                start = lead.start() if lead else start
                frame = "percent_likely" if m.group("likely") else "chance"
            found.append((start, m.end(), frame, value))
    found.sort(key=lambda f: (f[0] - f[1], f[0]))
    chosen = NonOverlapping()
    for start, end, frame, value in found:
        reading = _stated_reading(value)
        chosen.add(Hedge(offset + start, offset + end, reading, "number", value, frame))
    return chosen.hedges


# The adverbs before the negation and after it share words ("we still still expect"): the
# first run is taken whole ("would" there only when no "not" follows, which is the
# negation's), so no word is tried in both.
_EXPECTATION = re.compile(
    r"\b(?:(?:we|i)(?:['\u2019]d)?\s++(?:(?:still|now|also|fully|firmly|broadly|"
    r"would(?!\s+not\b)|continue\s+to)\s++)*+(?P<neg>(?:do\s+not|would\s+not|"
    r"don['\u2019]t|wouldn['\u2019]t|no\s+longer)\s++)?(?:(?:still|now|really|fully)\s++)*+"
    r"(?:expect|anticipate)(?![\w'\u2019])"
    r"|(?:our|my)\s+(?:(?:central|main|base|firm|own|working)\s+)?expectation\s+is\b)",
    re.IGNORECASE,
)


def expectations(sentence: str, offset: int) -> list[Hedge]:
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


def expectation_proposition(main: str, matched: str) -> tuple[str, str | None]:
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
    m = re.match(r"\s++(?!that\b)(?P<s>.+?)(?<!\s)\s++to\s+(?P<v>.+)$", rest, re.S)
    if m is not None and _FINITE.search(m.group("s")) is None:
        return f"{subject_form(m.group('s'))} will {m.group('v')}", None
    m = re.match(r",?\s+that\s+(?P<x>.+)$", rest, re.S)
    clause = m.group("x") if m is not None else rest.strip()
    if m is not None or _FINITE.search(clause) is not None:  # "I expect (that) X will V"
        return clause, None if FUTURE.search(clause) else _NO_EVENT
    # "we expect two cuts this year"
    dated = FUTURE.search(clause) or DEADLINE_TRIGGER.search(clause)
    return f"there will be {clause}", None if dated else _NO_EVENT


# "X has (only) a 30% chance": the verb, at the end of the text before the number, tried
# only where a word ends. The subject X runs back from it to the clause's start, a comma,
# or "that", "think" ...; it is found in two steps because a pattern holding both, looked
# for anywhere, would run X from every possible start to the end of the text.
_HAS_TAIL = re.compile(
    r"(?<![\s,])(?:\s*+,)?\s++(?:(?:still|now|only|also)\s++)?"
    r"(?:has|have|had|stands?|stood)\s++(?:(?:only|just|still|now|perhaps|maybe|about|roughly|"
    r"at\s++(?:best|most|least))\s++)*+$",
    re.IGNORECASE,
)
_SUBJECT_START = re.compile(
    r"(?:^(?!,)|,\s++|\b(?:that|think|believe|reckon)\s++)(?!(?:who|which|that)\b)", re.IGNORECASE
)
_GIVEN_TO = re.compile(
    r"\b(?:give[sn]?|gave|giving|assign(?:s|ed|ing)?)\s++(?P<s>(?:[\w'\u2019.-]++\s++){0,4}?"
    r"[\w'\u2019.-]++)\s++$",
    re.IGNORECASE,
)


def _has_subject(before: str) -> str | None:
    """X in "X has (only)" at the end of ``before``."""
    tail = _HAS_TAIL.search(before)
    if tail is None or tail.start() == 0:
        return None
    # X holds no comma: it starts at the last one, or after it.
    start = _SUBJECT_START.search(before, max(0, before.rfind(",", 0, tail.start())), tail.start())
    return None if start is None else before[start.end() : tail.start()]


def _subject(before: str) -> str | None:
    """Whose chance it is: "X has a 30% chance", "we give X a 30% chance"."""
    subject = _has_subject(before)
    if subject is not None:
        return subject
    m = _GIVEN_TO.search(before)
    if m is not None:
        return subject_form(m.group("s"))
    return None


def stated_proposition(main: str, matched: str, frame: str) -> str | None:
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
        with_ = re.search(r"^(?P<x>.+?)(?<!\s)\s++with\s++$", before, re.S)
        if with_ is not None:  # "the bill will pass with a probability of 70%"
            return with_.group("x")
    if frame == "percent_likely":
        copula = re.match(
            r"^(?P<s>.+?)(?<!\s)\s++(?:is|are|seems?|looks?|appears?)\s++$", before, re.S
        )
        to = re.match(r"\s+to\s+(?P<v>.+)$", after, re.S)
        if copula is not None and to is not None:
            return f"{copula.group('s')} will {to.group('v')}"
    return None
