"""Confidence: how sure we are that a hedged clause is the author's forecast of a future event.

Reports of others' views ("analysts expect"), descriptions of the past or the present and
modals of capability inside relative clauses ("missiles that could reach Japan") score
low, with the reasons, so editors see why.  A number the author states is the strongest
evidence there is; one someone else states ("pollsters give him a 60% chance", "markets
are pricing in ...") is a report like any other.
"""

from __future__ import annotations

import datetime as dt
import re

from forecasts.core import phrases
from forecasts.extraction.caseless import Caseless
from forecasts.extraction.deadlines import Deadline
from forecasts.extraction.hedges import MODALS

__all__ = ["FUTURE", "confidence_score"]

# The patterns read for every candidate are Caseless (lower-cased ASCII, no case folding).
_REPORTED = Caseless(
    r"\b(?:(?:many|some|others|critics|analysts|observers|experts|officials|investors|"
    r"fans|pundits|economists|commentators|skeptics|sceptics|supporters|insiders|"
    r"bookmakers|traders|markets?)\s+(?:had\s+)?(?:assumed|assume|believe[sd]?|think|thought|"
    r"argue[sd]?|say|said|claim(?:ed)?|expect(?:ed)?|fear(?:ed)?|suggest(?:ed)?|"
    r"speculate[sd]?|predict(?:ed)?|reckon(?:ed)?|insist(?:ed)?|hope[sd]?)"
    r"|according\s+to|there\s+(?:is|was)\s+(?:some\s+|much\s+|growing\s+)?speculation"
    r"|\b(?:said|says|told|declared|insisted|claimed|predicted|argued|warned)\b"
    r"|\b(?:administration|government|company|club|coach|ceo|management|board|ministry|"
    r"central\s+bank|he|she|they)\s+(?:believes|believed|expects|expected|predicts|"
    r"predicted|hopes|hoped|thinks|thought|claims|claimed))"
)

# A quotation runs to the next quotation mark: from every opening mark to the end of the
# clause, an unclosed one each would scan the rest again.
_QUOTED = re.compile(r"[\u201c\"][^\u201c\u201d\"]{12,}+[\u201d\"]")

_PAST_MODAL = Caseless(
    r"\b(?:could|may|might|would|should|must)\s+(?:not\s+)?have\s+\w+", needs=("have",)
)

_PAST_FRAME = re.compile(
    r"\b(?:\w+ed|was|were|had|thought|knew|felt|saw|said)\s++(?:\w++\s++){0,3}that\b",
    re.IGNORECASE,
)

_PRESENT_STATE = Caseless(
    r"\b(?:is|are|was|were)\s+(?:probably|perhaps|possibly|maybe|likely|certainly|almost\s+"
    r"certainly)\s+(?:not\s+)?(?:a|an|the|just|due|because|no|only|what|why|how)\b"
    r"|\b(?:is|was)\s+(?:perhaps|probably|possibly)\s+the\s+case\b"
    r"|\b(?:may|might|could)\s+(?:well\s+)?be\s+(?:to|that|the|a|an|because|due|why|what)\b"
    r"|\b(?:may|might|could)\s+(?:well\s+)?(?:have|explain|reflect|mean|indicate|suggest)\b"
)

# Who states the number: "pollsters give him a 60% chance", "markets are pricing in an 80%
# chance", "the futures market implies ...".  The author's own: "we put", "I give",
# "our model gives".
_NUMBER_SOURCE_VERB = re.compile(
    r"\b(?:give[sn]?|gave|giving|put|puts|putting|place[sd]?|placing|assign(?:s|ed|ing)?|"
    r"see[sn]?|saw|price[sd]?|pricing|impl(?:y|ies|ied)|estimate[sd]?|reckons?|"
    r"rate[sd]?|peg(?:s|ged)?|sets?|forecasts?|show(?:s|ed)?|suggest(?:s|ed)?|"
    r"calculate[sd]?|assess(?:es|ed)?)\b",
    re.IGNORECASE,
)

_FIRST_PERSON = re.compile(r"\b(?:we|i|our|my|us|me)\b", re.IGNORECASE)

_NUMBER_SOURCE_NOUN = re.compile(
    r"\b(?:markets?|futures|polls?|pollsters?|betting|bookmakers?|bookies|traders|"
    r"investors|consensus)(?:['\u2019]s?|-implied|\s+implied)?\s+(?:[\w-]+\s+)?"
    r"(?:odds|chances?|probability|likelihood)\b|\b(?:market|poll)-implied\b",
    re.IGNORECASE,
)

_PAST_NUMBER = re.compile(
    r"\b(?:was|were|had|gave|priced|(?<!-)implied|estimated|assigned|saw)\b", re.IGNORECASE
)


def _reported_number(through_hedge: str, hedge_offset: int) -> bool:
    """Whether someone other than the author states the number (text up to its end)."""
    if _NUMBER_SOURCE_NOUN.search(through_hedge):
        return True
    # The verb nearest the number ("put" opens the "we put the odds of X at N" frame).
    verbs = [v for v in _NUMBER_SOURCE_VERB.finditer(through_hedge) if v.start() <= hedge_offset]
    if not verbs:
        return False  # "there is a 70% chance": the author's
    return _FIRST_PERSON.search(through_hedge[: verbs[-1].start()]) is None


_REPORT = "reports someone else's view, not the author's"
# A report after the forecast: "Trump will win, say the bookmakers", "..., the minister
# said", "..., according to the IMF" (but "..., as we said" is the author's, and
# "..., whatever the board said" no report of the forecast).
_REPORTED_AFTER = re.compile(
    r",\s*+(?:(?!(?:whatever|what|whoever|as|which|than|despite|although|though|even)\b)"
    r"(?P<who>(?:[\w.'\u2019-]++\s++){0,4}?)(?:say|says|said|argues|argued|claims|"
    r"claimed|predicts|predicted|warns|warned|believes|believed|thinks|thought|reckons|"
    r"insists|insisted)\b(?!\s++that\b)|according\s++to\b)",
    re.IGNORECASE,
)
# A lexicon phrase that names a chance ("a roughly even chance") is stated by whoever
# gives it, as a number is ("the futures market implies a roughly even chance").
_CHANCE = re.compile(r"\b(?:chance|odds)\b")

_RELATIVE_MODAL = Caseless(r"\b(?:that|which|who|where)\s+(?:could|may|might)\b")

# A future-tense cue; the expectation reading (numbers.py) asks the same question.
_FUTURE = Caseless(
    r"\b(?:will|won['\u2019]t|shall|going\s+to|next|upcoming|coming|future|soon|eventually|"
    r"remain|scenario|outlook|forecast|expect(?:s|ed)?|by\s+the\s+end|before\s+the|"
    r"(?:short|near|medium)(?:\s|-)term|new)\b"
    r"|\b(?:likely|unlikely|expected|poised|set|due|bound|able)\s+(?:\w+\s+)?to\b"
)
FUTURE = _FUTURE.pattern


def _past_dates(text: str, published: dt.date) -> bool:
    """Whether the clause names a year before publication ("In February 2019, ...")."""
    return any(int(y) < published.year for y in re.findall(r"\b((?:19|20)\d{2})\b", text))


def confidence_score(
    *,
    clause: str,
    hedge: phrases.Phrase,
    hedge_offset: int,
    hedge_end: int,
    stated: bool,
    deadline: Deadline | None,
    conditional: bool,
    published: dt.date,
    author_judges: bool,
    doubts: tuple[str, ...] = (),
) -> tuple[float, tuple[str, ...]]:
    """(confidence, reasons) for one hedged clause; ``doubts`` are reasons found while
    reading its proposition.  The offsets are into ``clause``."""
    reasons: list[str] = []
    modal = hedge.text in MODALS
    plain = hedge.text in phrases.PLAIN_MODALS
    if stated:
        score = 0.7  # +0.1 below when nothing speaks against it: the author's own number
    elif plain:
        score = 0.6
        reasons.append(
            f"plain '{hedge.text}': the author states no probability "
            f"(house reading {hedge.probability:.0%})"
        )
    elif modal:
        score = 0.5
        reasons.append(f"modal '{hedge.text}' (possibility, weak evidence)")
    elif hedge.weak:
        score = 0.6
        reasons.append(f"'{hedge.text}' is comparative, superlative or vague (weaker evidence)")
    else:
        score = 0.7
    before = clause[:hedge_offset]
    # The tense cue counts only without a deadline, or for a hedge that is no modal, number
    # or plain modal (below): for the rest it is not looked for.
    future = (deadline is None or not (modal or stated or plain)) and _FUTURE.found(clause)
    penalties: list[str] = list(doubts)
    after = _REPORTED_AFTER.search(clause, hedge_end)
    if not author_judges and (
        (after is not None and not _FIRST_PERSON.search(after.group("who") or ""))
        or _REPORTED.found(before)
        or _QUOTED.search(clause)
        or (
            (stated or _CHANCE.search(hedge.text))
            and _reported_number(clause[:hedge_end], hedge_offset)
        )
    ):
        penalties.append(_REPORT)
    if stated and _PAST_NUMBER.search(clause, 0, hedge_end):
        penalties.append("the number is stated in the past tense (describes the past)")
    elif _PAST_MODAL.found(clause):
        penalties.append("describes the past (modal + 'have')")
    elif modal and _PAST_FRAME.search(before):
        penalties.append("the modal sits in a that-clause under a past-tense verb (past)")
    elif deadline is None and not future and _past_dates(clause, published):
        penalties.append("names only dates before publication (describes the past)")
    if _PRESENT_STATE.found(clause):
        penalties.append("judges the present or the past, not a future event")
    if modal and _RELATIVE_MODAL.found(clause):
        penalties.append("possibility inside a relative clause (capability, not a forecast)")
    if penalties:
        score -= 0.45
        reasons.extend(dict.fromkeys(penalties))
    elif stated:
        score += 0.1
    # A stated chance is about an open outcome, as a modal is: no tense cue needed; a
    # plain modal is the future tense.
    if future or modal or stated or plain:
        score += 0.1
    else:
        reasons.append("no future-tense cue")
    if deadline is not None:
        score += 0.1
    else:
        reasons.append("no deadline in the text")
    if conditional:
        score -= 0.05
        reasons.append("conditional")
    return round(min(0.98, max(0.02, score)), 2), tuple(reasons)
