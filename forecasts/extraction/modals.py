"""Plain modal forecasts: "X will V", "X should V", "X is set to / on course to / bound to V".

Columnists state most of their forecasts this way, with no hedge at all ("the recession,
when it arrives, should be mild"; "the energy crisis will continue to weigh heavily on
real incomes").  Each modal has a house reading in the lexicon
(:data:`forecasts.core.phrases.PLAIN_MODALS`); the pipeline reads it like any hedge, so
the polarity rules are the same ("will not", "won't", "will fail to" -> P(X) = 1 - p
for the statement X).

"will" is also in most sentences that forecast nothing, so every use found here comes
with the reasons to doubt it, and the confidence step keeps the doubtful ones back:

* reported speech ("the IMF says growth will slow", "markets think rates will fall"):
  kept as a report of someone else's view, not proposed;
* a relative clause ("the company that will build the plant"): describes the noun;
* the author's own plans ("I will publish my scores"): a promise, not a forecast;
* the condition of a conditional, a question, a schedule stated as fact ("the meeting
  will be held on Tuesday") and advice ("the government should cut taxes").

What is not found at all: "would" (hypothetical), the noun ("political will", "the will
to fight"), the name ("Will"), and "Should"/"Will" opening a sentence (an inversion or a
question).  Pure: stdlib and the lexicon only.
"""

from __future__ import annotations

import re

from forecasts.core import phrases
from forecasts.extraction.hedges import Hedge
from forecasts.extraction.propositions import DISCOURSE

__all__ = ["RELATIVE", "modal_condition", "modal_proposition", "plain_modals"]

#: The ``frame`` of a modal hedge inside a relative clause ("the plant that will close").
RELATIVE = "relative"

# Case-sensitive on purpose: "Will" is a name, and a sentence that opens with "Will" or
# "Should" asks a question or states a condition ("Should the Fed cut, ...").
_MODAL = re.compile(
    r"(?<![\w'\u2019])(?:"
    r"(?P<will>will|shall)(?=\s++(?!(?:to|of|and|or|is|was|has|be\s++done)\b)[a-z])"
    r"|(?P<wont>won['\u2019]t|shan['\u2019]t)(?=\s++[a-z])"
    r"|(?P<should>should)(?P<shouldnt>n['\u2019]t)?(?=\s++[a-z])"
    r"|(?:is|are|looks?|seems?|appears?)\s++(?:(?:now|still|also|already|surely|clearly)\s++)?"
    r"(?P<frame>set|on\s++(?:course|track)|bound)\s++to"
    r"(?=\s++(?!(?:the|a|an|his|her|its|their|this|that|these|those|be\s++announced)\b)[a-z])"
    r")"
    r"|(?<=\w)(?P<ll>['\u2019]ll)(?=\s++[a-z])"
)
# "political will", "the will to fight": the word before the noun.
_NOUN_BEFORE = re.compile(
    r"(?<!\w)(?:the|a|political|free|good|ill|popular|his|her|their|its|our|my|own|strong|"
    r"iron|public|at|of|with|against|living)\s++$",
    re.IGNORECASE,
)
# A cheap first look (most sentences hold no modal): one of these words, as substrings
# (as one pattern they cost more), or a contraction's "ll" ("they'll").
_TRIGGER_WORDS = ("will", "won", "shan", "should", "set to", "course to", "track to", "bound to")
_TRIGGER_LL = re.compile(r"ll\b")
_RELATIVE_BEFORE = re.compile(r"(?<!\w)(?:that|which|who|whom)\s++$", re.IGNORECASE)
_REACH = 24  # the longest word _NOUN_BEFORE names, with spaces to spare


def _key(m: re.Match[str]) -> str:
    frame = m.group("frame")
    if frame is None:
        return "should" if m.group("should") else "will"
    return {"set": "set to", "bound": "bound to"}.get(frame, "on course to")


def plain_modals(sentence: str, offset: int) -> list[Hedge]:
    """Every plain modal in ``sentence`` (offsets + ``offset``), as a hedge of kind
    "modal" read as its lexicon entry; those right after a relative pronoun have the
    frame :data:`RELATIVE`."""
    if not any(word in sentence for word in _TRIGGER_WORDS) and (
        "ll" not in sentence or _TRIGGER_LL.search(sentence) is None
    ):
        return []
    found = []
    for m in _MODAL.finditer(sentence):
        reach = max(0, m.start() - _REACH)
        if m.group("will") and _NOUN_BEFORE.search(sentence, reach, m.start()):
            continue
        relative = _RELATIVE_BEFORE.search(sentence, reach, m.start()) is not None
        found.append(
            Hedge(
                offset + m.start(),
                offset + m.end(),
                phrases.LEXICON[_key(m)],
                "modal",
                frame=RELATIVE if relative else "",
            )
        )
    return found


# Connectives a discourse marker list does not hold ("Thus Trump will win").
_CONNECTIVE = re.compile(
    r"^(?:(?:thus|therefore|hence|so|and|but|yet|indeed|now|then|in\s++my\s++view|"
    r"in\s++short|all\s++told|in\s++the\s++end|in\s++other\s++words|put\s++differently|"
    r"that\s++is(?:\s++to\s++say)?|to\s++put\s++it\s++another\s++way)\b,?\s*+){1,3}",
    re.IGNORECASE,
)
# The author's own belief: "we think (that) X will V", "I don't think X will V".
_AUTHOR_FRAME = re.compile(
    r"^(?:we|i)\s++(?:(?:still|also|now|really|firmly)\s++)?"
    r"(?P<neg>(?:do\s++not|don['\u2019]t)\s++)?"
    r"(?:think|believe|reckon|suspect|suppose|guess|bet|predict|forecast|"
    r"(?:am|are)\s++(?:sure|confident|convinced))\s++(?:that\s++)?",
    re.IGNORECASE,
)
# Someone else's view before the modal: "the IMF says (that)", "markets think",
# "analysts expected", "according to the minister, ...".
_REPORT = re.compile(
    r"(?P<verb>\b(?:says|said|thinks|thought|believes|believed|expects|expected|predicts|"
    r"predicted|forecasts|reckons|argues|argued|warns|warned|insists|insisted|claims|claimed|"
    r"suggests|suggested|hopes|hoped|fears|feared|projects|projected|estimates|estimated|"
    r"told|promised|pledged|vowed|announced|reported|signall?ed)\b"
    # The base form only after a plural subject ("markets think"), not "the great hope".
    r"|\b(?:they|many|some|others|most|people|\w+s)\s++"
    r"(?:think|believe|expect|predict|argue|say|fear|hope|reckon|insist|claim|suggest)\b"
    r"|\b(?:seems?|appears?)\s++to\s++(?:think|believe|expect|assume)\b)"
    r"\s++(?:that\s++)?"
    r"|\baccording\s++to\b[^,]{0,80}+,\s*+",
    re.IGNORECASE,
)
_FIRST_PERSON_END = re.compile(
    r"(?<!\w)(?:we|i)(?:\s++(?:still|also|now|really|firmly|do|don['\u2019]t|do\s++not))*$",
    re.IGNORECASE,
)
_SCHEDULE = re.compile(
    r"^(?:be\s++(?:held|hosted|staged|published|released|announced|broadcast|televised|"
    r"unveiled|presented|debated|opened|sworn\s++in)|take\s++place|go\s++on\s++sale|convene|sit|"
    r"meet\s++(?:on|in|at|next))\b",
    re.IGNORECASE,
)
# "should" forecasts ("should be mild", "should drift lower", "should agree there to")
# unless it gives advice: to the reader or to us ("you should", "we should"), with a verb
# of advice ("should resign", "should consider"), or a passive with no time to it ("should
# be banned", but "should be completed by June" forecasts).
_ADVICE_SHOULD = re.compile(
    r"^(?:(?:also|still|now|really|simply|probably)\s++)?"
    r"(?:consider|reconsider|rethink|stop|resign|reject|ban|avoid|worry|remember|think|try|"
    r"act|listen|learn|heed|admit|apologi[sz]e|acknowledge|focus|invest|buy|sell|resist|"
    r"embrace|abandon|scrap|reform|do|know|ask|insist|demand|choose|vote|spend|raise|cut|"
    r"tax|be\s++(?:ashamed|careful|wary|worried|allowed|forced|required|made|held|\w+ed)"
    r"(?!(?:\s++\w++){0,3}?\s++(?:by|before|within|in|next|this|soon)\b))\b",
    re.IGNORECASE,
)
_ADVISED = frozenset({"you", "we", "i", "one", "everyone", "readers", "investors", "savers"})
_VAGUE_TIME = re.compile(
    r"\b(?:for\s++a\s++while|for\s++some\s++time|one\s++day|sooner\s++or\s++later|"
    r"at\s++some\s++point)\b",
    re.IGNORECASE,
)
# "(there will) be no peace treaty this year": the noun phrase, its head last.
_BE_NO = re.compile(
    r"^be\s++(?P<no>no)\s++(?:[\w-]++\s++){0,3}?(?P<noun>[\w-]++)"
    r"(?=$|[,;:]|\s++(?:in|on|at|by|before|this|next|for|of|to|until|during|from|with|after|"
    r"within|and|or|unless|if)\b)",
    re.IGNORECASE,
)
_IDIOM = re.compile(
    r"^(?:(?:only\s++)?time\s++will\s++tell|we\s++will\s++(?:have\s++to\s++)?see"
    r"(?:\s++(?:whether|if|how|what|who|when|about)\b|\W*$))",
    re.IGNORECASE,
)
_WH_START = re.compile(r"^(?:why|how|what|when|where|whether|who|which)\b", re.IGNORECASE)
# An aside between commas before the modal: "Solid-state batteries, the great hope for
# thinner phones, will not ..." -> "Solid-state batteries".
_ASIDE = re.compile(r"(?<=\w),\s*+[^,]{1,120}+,\s*+$")
# A clause joined before the subject: "The alliance meets on 3 December, and its members
# should agree ..." -> "its members".
_JOINED = re.compile(r"^.*(?:,\s*+(?:and|but|so|while|yet)|;)\s++", re.S)
# "The recession, when it arrives, should be mild": the aside is not the subject.
_PARENTHETICAL = re.compile(
    r",\s*+(?:when|once|whenever|if|as|though|although|however|in\s++turn)\b[^,]{0,80}+,?\s*+$",
    re.IGNORECASE,
)
_OWN_PLANS_OK = re.compile(r"^(?:see|have|get|need|face|be|all|likely|probably)\b", re.I)


def modal_proposition(main: str, at: int, matched: str, text: str) -> tuple[str, tuple[str, ...]]:
    """ "X should be mild" -> "X will be mild"; "X won't V" -> "X will not V" (the
    pipeline then reads the negation); "we think X is set to V" -> "X will V".

    ``at`` is where the modal ``matched`` starts in ``main`` (negative when it is in the
    condition before it); ``text`` is its lexicon entry's.  The second item holds the
    reasons to doubt that this is the author's forecast (see the module docstring).
    """
    doubts: list[str] = []
    if not 0 <= at < len(main):
        return main, ("the modal is in the condition, not in the main clause",)
    before, after = main[:at], main[at + len(matched) :].strip().rstrip(".!;:, ")
    if matched.lower().startswith(("won", "shan")) or matched.lower().endswith(("n't", "n’t")):
        after = "not " + after
    no = _BE_NO.match(after)
    if no is not None:  # "there will be no treaty" -> "there will not be a treaty" (polarity)
        plural = no.group("noun").lower().endswith("s")
        after = f"not be {'' if plural else 'a '}{after[no.end('no') :].lstrip()}"
    subject = _CONNECTIVE.sub("", DISCOURSE.sub("", before.strip()))
    author = _AUTHOR_FRAME.match(subject)
    if author is not None:
        subject = subject[author.end() :]
        if author.group("neg"):  # "I don't think X will V": the author's doubt of X
            after = "not " + after.removeprefix("not ")
    else:
        reports = list(_REPORT.finditer(subject))
        report = reports[-1] if reports else None  # the nearest to the modal
        if report is not None and not _FIRST_PERSON_END.search(subject, 0, report.start()):
            doubts.append("reports someone else's view, not the author's")
            subject = subject[report.end() :]
    subject = _PARENTHETICAL.sub("", subject)
    subject = _ASIDE.sub("", subject) if subject.rstrip().endswith(",") else subject
    subject = _JOINED.sub("", subject).strip(" ,")
    if not subject:
        doubts.append("no subject before the modal (a question or a fragment)")
    elif _WH_START.match(subject):
        doubts.append("a question or a headline, not a claim")
    elif _RELATIVE_BEFORE.search(before.rstrip() + " "):
        doubts.append(f"'{text}' in a relative clause describes a noun; it forecasts nothing")
    elif subject.lower() == "i" or (subject.lower() == "we" and not _OWN_PLANS_OK.match(after)):
        doubts.append("the author's own plan or promise, not a forecast")
    if _IDIOM.match(f"{subject} will {after}"):
        doubts.append("an idiom ('time will tell', 'we will see whether'), not a forecast")
    if _SCHEDULE.match(after):
        doubts.append("describes a schedule (an arranged event), not a judgment")
    advice = _ADVICE_SHOULD.match(after.removeprefix("not ")) is not None
    if text == "should" and (advice or subject.lower() in _ADVISED):
        doubts.append("'should' may give advice (what ought to happen), not a forecast")
    if _VAGUE_TIME.search(after):
        doubts.append("names no time it could be checked by ('for a while')")
    if main.rstrip().endswith("?"):
        doubts.append("a question, not a claim")
    statement = f"{subject} will {after}" if subject else main
    return statement, tuple(dict.fromkeys(doubts))


def modal_condition(content: str, at: int, split: tuple[str, str, int]) -> tuple[str, str, int]:
    """``split`` (condition, main clause, where it starts), from
    :func:`~forecasts.extraction.propositions.split_condition`, with a leading condition
    cut at the last comma before the modal at ``at`` when it swallowed the modal's clause
    ("If the summit fails, fighting will resume in the spring, when the ground dries"
    reads the condition up to the last comma)."""
    condition, main, main_at = split
    if not condition or at >= main_at:
        return split
    start = content.find(condition)
    comma = content.rfind(",", 0, at)
    if start < 0 or comma <= start:
        return split
    rest = content[comma + 1 :]
    main = rest.lstrip()
    return content[start:comma], main, comma + 1 + len(rest) - len(main)
