"""Propositions: what a hedged clause predicts, phrased so that YES means it happened.

The hedge's frame is removed ("it is unlikely that X", "X is unlikely to V", "X may V"
-> "X will V"); a leading or trailing condition ("If Y, X may ...") is kept apart; a
negative main predicate ("will remain out of reach", "will not", "fail to") is rewritten
to its positive form, and the caller then reads the hedge as qualifying NOT X; gerunds
and infinitives are turned into future statements ("of winning" -> "will win").
Best effort, and pure: editors check every statement.
"""

from __future__ import annotations

import re

from forecasts.core import phrases
from forecasts.extraction.caseless import Caseless
from forecasts.extraction.gate import CLAUSE_WORDS, DETERMINERS, FINITE_AUXILIARIES

__all__ = [
    "DISCOURSE",
    "clean_condition",
    "drop_aside",
    "hedged_proposition",
    "judged_claim",
    "modal_to_will",
    "of_complement",
    "rewrite_negative",
    "sentence_case",
    "split_condition",
    "strip_reporting",
    "subject_form",
]

DISCOURSE = re.compile(
    r"^(?:(?:regardless|however|alternatively|still|meanwhile|moreover|besides|yet|so|"
    r"and|but|then|instead|overall|in\s+short|in\s+any\s+case|at\s+this\s+point|"
    r"at\s+the\s+moment|for\s+now|on\s+balance|in\s+our\s+view|for\s+his\s+part|"
    r"for\s+their\s+part)\b,?\s*)+",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------

_IF_START = re.compile(
    r"^(?:if|unless|should|provided\s+that|as\s+long\s+as|in\s+case|assuming)\b",
    re.IGNORECASE,
)

# A run of spaces and commas is tried once, from where it starts (and taken whole).
_IF_TRAILING = Caseless(r"(?<![\s,])[\s,]++(?:if|unless|provided\s+that|as\s+long\s+as)\s+")
_THEN = re.compile(r"(?:,|(?<!\s))\s++then\s+")


def split_condition(clause: str) -> tuple[str, str, int]:
    """(condition, main clause, offset of the main clause in ``clause``)."""
    lead = DISCOURSE.match(clause)
    offset = lead.end() if lead else 0
    body = clause[offset:]
    if _IF_START.match(body):
        comma = body.rfind(",")
        then = _THEN.search(body)
        if then is not None:
            return body[: then.start()], body[then.end() :], offset + then.end()
        if comma > 0:
            condition, main = body[:comma], body[comma + 1 :]
            return condition, main.lstrip(), offset + comma + 1 + (len(main) - len(main.lstrip()))
    trailing = _IF_TRAILING.search(body)
    if trailing is not None:
        return body[trailing.end() :], body[: trailing.start()], offset
    return "", body, offset


def clean_condition(condition: str) -> str:
    condition = re.sub(r"^(?:if|unless|should|provided\s+that|as\s+long\s+as|assuming)\s+",
                       "", condition.strip(), flags=re.I)  # fmt: skip
    condition = condition.rstrip(" ,.;")
    return condition[:1].upper() + condition[1:] + "." if condition else ""


# --------------------------------------------------------------------------------------
# The hedge's frame
# --------------------------------------------------------------------------------------

_FRAMES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.I | re.S)
    for pattern in (
        # "what is unlikely is that X", "the most likely scenario is that X"
        r"^.*?\bis\s+that\s+(?P<x>.+)$",
        # "it is unlikely that X", "it seems likely that X"
        r"\b(?:it|that|this)\s++(?:is|seems|looks|appears|remains)\s++\w++(?:\s++\w++)?"
        r"\s++that\s+(?P<x>.+)$",
        # "there is a real possibility that X": up to eight words between, each taken whole
        # with the spaces before it (no two parts can match the same characters).
        r"\bthere\s++(?:is|are)(?:\s++\w++){0,8}?"
        r"\s++(?:chance|possibility|speculation|odds|risk)\s++that\s+(?P<x>.+)$",
        r"\b(?:we|i)\s+(?:believe|doubt|expect)\s+(?:that\s+)?(?P<x>.+)$",
    )
)

_THAT_AFTER_HEDGE = re.compile(r"\s++(?:\w++\s++){0,2}?that\s+(?P<x>.+)$", re.I | re.S)

# In the frames that follow a subject (``s``), the subject ends where a word does and the
# spaces after it are taken whole: tried from inside a run of spaces, ``.+?\s+`` costs
# the square of the run.
_TO_FRAME = re.compile(
    r"^(?P<s>.+?)(?<!\s)\s++(?:(?:still|also|now)\s++)?"
    r"(?:is|are|isn['\u2019]t|aren['\u2019]t|seems?|looks?|appears?)\s++"
    r"(?:(?:also|still|now|not|very|highly|more|less|most)\s++)*"
    r"(?P<h>(?:the\s++)?(?:(?!to\b)\w++\s++){0,2}(?!to\b)\w++)\s++to\s+(?P<v>.+)$",
    re.I | re.S,
)

# "Steve Beigen, who is thought to be the next deputy secretary": a name of up to seven
# capitalised words, each starting where a word does (unbounded, every capitalised word
# of a long run would rescan the run).
_WHO_FRAME = re.compile(
    r"(?<![\w.\u2019'])(?P<s>(?:[A-Z][\w.\u2019']*+\s++){0,6}[A-Z][\w.\u2019']*+),\s++who\s++"
    r"(?:is|are)\s++(?:(?:also|still|now|widely|generally)\s++)?"
    r"(?P<h>(?:(?!to\b)\w++\s++){0,2}(?!to\b)\w++)\s++to\s+(?P<v>.+)$",
    re.S,
)

# "Mr. Trump still appears poised for a second term"
_POISED_FRAME = re.compile(
    r"^(?P<s>.+?)(?<!\s)\s++(?:(?:still|also|now)\s++)?(?:appears?|seems?|looks?|is|are)"
    r"\s++poised\s++(?:(?P<for>for)|to)\s+(?P<v>.+)$",
    re.I | re.S,
)
# The frames above need these words ("who" as written): the frames, tried from every
# start of the subject, are looked for only in a clause that has them.
_POISED = Caseless(r"poised")

_MODAL_FRAME = re.compile(
    r"^(?P<s>.+?)(?<!\s)\s++(?:may|might|could|will\s+probably|will\s+likely|probably\s+will|"
    r"likely\s+will|will\s+almost\s+certainly|will\s+certainly|will\s+possibly|"
    r"will\s+perhaps)\s++(?:(?:also|still|well|even)\s++)?(?:not\s++)?(?P<v>.+)$",
    re.I | re.S,
)


def hedged_proposition(main: str, hedge_text: str) -> str:
    """The proposition the hedge qualifies, with the hedge frame removed (best effort)."""
    body = main.strip().rstrip(".!?;:, ")
    body = DISCOURSE.sub("", body)
    at = body.lower().find(hedge_text.lower())
    if at >= 0:
        # "it is unlikely that X", "what is unlikely is that X", "the chances are slight that X"
        m = _THAT_AFTER_HEDGE.match(body, at + len(hedge_text))
        if m is not None:
            return m.group("x")
    for frame in _FRAMES:
        m = frame.search(body)
        if m is not None and _contains(body[: m.start("x")], hedge_text):
            return m.group("x")
    m = _POISED_FRAME.match(body) if _POISED.found(body) else None
    if m is not None:
        verb = "will secure" if m.group("for") else "will"
        return f"{m.group('s')} {verb} {m.group('v')}"
    m = _WHO_FRAME.search(body) if "who" in body else None
    if m is not None and phrases.normalize(hedge_text).startswith(phrases.normalize(m.group("h"))):
        return f"{m.group('s')} will {m.group('v')}"
    m = _TO_FRAME.match(body)
    if m is not None and (
        _contains(m.group("h"), hedge_text) or _contains(hedge_text, m.group("h"))
    ):
        return f"{m.group('s')} will {m.group('v')}"
    if at >= 0:
        predicate = _predicate_proposition(body, at, hedge_text)
        if predicate is not None:
            return predicate
    m = _MODAL_FRAME.match(body)
    if m is not None:
        return f"{m.group('s')} will {m.group('v')}"
    return body


# --------------------------------------------------------------------------------------
# The hedge as the predicate: "A recession in 2027 is unlikely."
# --------------------------------------------------------------------------------------

# The copula (and what may stand between it and the hedge) right before a predicate hedge,
# looked for in the few words before the hedge only.
_COPULA_BEFORE = re.compile(
    r"(?<!\S)(?:is|are|seems?|looks?|appears?|remains?)\s++"
    r"(?:(?:also|still|now|increasingly|quite|rather|fairly|a|an)\s++)*+$",
    re.I,
)
_COPULA_REACH = 48

# What may follow a predicate hedge: a comparison ("than it seemed"), then the end or a
# justification or comment the statement leaves out (": the city has held one in forty
# years", ", because ...", ", but it would require ...").
_AFTER_PREDICATE = re.compile(
    r"(?:\s++than\b[^,;:]*+)?(?P<when>\s++(?:before|by|within|until|at\s++some\s++point|"
    r"in\s++the\s++(?:next|coming)|this|next)\b[^,;:]*+)?"
    r"(?:\s*+$|\s*+[,;:\u2013\u2014(]|\s++(?:-|because|since|as|given|with|but|although|"
    r"though|so|not\s++least)\b)",
    re.I,
)
# Where the clause holding a predicate hedge starts, after an earlier one ("..., but a jump
# to 9% is very unlikely"): the last such break before the hedge.
_CLAUSE_START = re.compile(r"[:;]\s*+|,\s*+(?:and|but|while|though|although)\s++", re.I)
# A capitalised first word names an event, not a person, when it ends like one
# ("Relegation for them is unlikely").
_EVENT_NOUN = re.compile(r"(?:tion|sion|ment|ance|ence|ure|ing|cy|ity|al|ade|ault)$", re.I)
_ORDINAL = re.compile(
    r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|finally|lastly|above\s+all)\s*+,\s*+", re.I
)
_OPINION = re.compile(r"^(?:i|we)\s++(?:think|believe|reckon|suspect|find)\s++", re.I)
# Words an indefinite noun phrase (an event that may or may not happen) starts with.
_INDEFINITE = frozenset({"a", "an", "another", "any", "some", "no", "further", "more", "fewer",
                         "new", "renewed", "fresh", "two", "three", "several"})  # fmt: skip
_FATE = re.compile(r"^the\s++(?:fate|future)\s++of\s++(?P<x>.+)$", re.I | re.S)
_ANAPHORS = frozenset({"that", "this", "which"})


def _predicate_proposition(body: str, at: int, hedge_text: str) -> str | None:
    """ "S is HEDGE" (the hedge is the predicate, nothing but a comment after it): the
    statement that S happens, where S is an event, i.e. an indefinite noun phrase ("A
    recession in 2027 is unlikely" -> "there will be a recession in 2027"), or "the fate of
    X" judged uncertain ("X will go ahead", sound at even odds, either way round).  None
    for any other subject: a definite one ("The deal is likely") says nothing about what
    will happen to it, and the gate keeps such a statement back."""
    after = _AFTER_PREDICATE.match(body, at + len(hedge_text))
    if after is None:
        return None
    when = (after.group("when") or "").rstrip()
    breaks = list(_CLAUSE_START.finditer(body, 0, at))
    head = body[breaks[-1].end() if breaks else 0 : at]
    at = len(head)
    hedge_key = phrases.normalize(hedge_text)
    if hedge_key.startswith(("seems ", "looks ", "appears ")):
        subject = head.rstrip()
    else:
        copula = _COPULA_BEFORE.search(head, max(0, at - _COPULA_REACH))
        if copula is None:
            return None
        subject = head[: copula.start()].rstrip()
    subject = _OPINION.sub("", _ORDINAL.sub("", subject))
    if subject.endswith(",") and "," in subject[:-1]:
        subject = subject[: subject.index(",")]  # "recession, whatever its timing,"
    subject = subject.strip(" ,")
    words = subject.split()
    if not words or words[0].lower() in _ANAPHORS:
        return None  # "that is unlikely" judges an earlier sentence: judged_claim
    if words[0].lower() == "that" and len(words) > 1:
        subject = " ".join(words[1:])  # "I think that a deal is likely"
        words = words[1:]
    # The subject is a noun phrase: no finite verb before a relative clause starts.
    head_words = []
    for word in words:
        if word.lower() in CLAUSE_WORDS:
            break
        head_words.append(word.lower().strip(",;:"))
    if any(w in FINITE_AUXILIARIES for w in head_words):
        return None
    first = words[0].lower()
    bare = first not in DETERMINERS and first not in _SUBJECT_WORDS
    if first in _INDEFINITE or (
        bare and (words[0][:1].islower() or _EVENT_NOUN.search(words[0]) is not None)
    ):
        return f"there will be {subject[:1].lower()}{subject[1:]}{when}"  # "A recount" -> "a"
    fate = _FATE.match(subject)
    if fate is not None and hedge_key.endswith("uncertain"):
        return f"{fate.group('x')} will go ahead{when}"
    return None


_SUBJECT_WORDS = frozenset({"it", "they", "he", "she", "we", "i", "you", "there", "one"})

# "I think that is very unlikely" right after the claim it judges.
_JUDGES_PREVIOUS = re.compile(
    r"^(?:(?:i|we)\s++(?:think|believe|reckon|suspect|find)\s++)?(?:that|this)\s++"
    r"(?:is|seems|looks|appears|sounds)\s++(?:(?:also|still|quite|rather)\s++)*+",
    re.I,
)
# "Its operator says (that) X", "The minister promised X": the claim is X.
_REPORTED_CLAIM = re.compile(
    r"^(?:[\w'\u2019.-]++\s++){1,5}?(?:says|said|claims|claimed|insists|insisted|argues|"
    r"argued|predicts|predicted|promises|promised|expects|expected|believes|believed|"
    r"maintains|maintained)\s++(?:that\s++)?",
    re.I,
)
_WOULD = re.compile(r"^(?P<s>.+?)(?<!\s)\s++would\s++", re.I | re.S)


def judged_claim(main: str, hedge_text: str, previous: str) -> str | None:
    """The claim of the sentence before, when ``main`` only judges it ("Its operator says
    it will produce its first power by 2026. I think that is very unlikely.") -> "it will
    produce its first power by 2026"; None when ``main`` says something of its own."""
    body = DISCOURSE.sub("", main.strip())
    frame = _JUDGES_PREVIOUS.match(body)
    if frame is None or not phrases.normalize(body[frame.end() :]).startswith(
        phrases.normalize(hedge_text)
    ):
        return None
    claim = DISCOURSE.sub("", previous.strip()).rstrip(".!;: ")
    reported = _REPORTED_CLAIM.match(claim)
    if reported is not None:
        claim = claim[reported.end() :]
        would = _WOULD.match(claim)
        if would is not None:  # "said it would" reports "it will"
            claim = f"{would.group('s')} will {claim[would.end() :]}"
    claim = modal_to_will(claim)
    return claim or None


def _contains(haystack: str, needle: str) -> bool:
    return phrases.normalize(needle) in phrases.normalize(haystack)


# A trailing aside that concedes or attributes ("..., whatever the mayor says", "...,
# despite what the minister claims", "..., as I have argued before") says how the author
# holds the forecast, not what is forecast: it does not belong in the statement.
_ASIDE = re.compile(
    r",\s*+(?:whatever|whoever|no\s++matter\s++(?:what|who|how)|regardless\s++of\s++what"
    r"|despite\s++what|in\s++spite\s++of\s++what"
    r"|as\s++(?:I|we)\s++(?:have\s++|had\s++|'ve\s++)?(?:argued|said|written|noted|"
    r"suggested|warned|predicted))\b[^,]*+$",
    re.IGNORECASE,
)


def drop_aside(text: str) -> str:
    """``text`` without a trailing concessive or attribution aside after its last comma.

    Only the part after the last comma is read, so the time is linear in the text."""
    comma = text.rfind(",")
    if comma < 0:
        return text
    aside = _ASIDE.match(text, comma)
    return text[:comma] if aside is not None else text


def sentence_case(text: str) -> str:
    text = " ".join(text.split()).rstrip(".!?;:, ")
    if not text:
        return text
    return text[:1].upper() + text[1:] + "."


# --------------------------------------------------------------------------------------
# An anaphoric tail ("..., but this is unlikely") judges the clause before it
# --------------------------------------------------------------------------------------

_REPORTING_PREFIX = re.compile(
    r"^(?:there\s+(?:is|was)\s+(?:some\s+|much\s+|growing\s+)?speculation\s+that\s+|"
    r"(?:many|some|others|critics|analysts)\s+\w+\s+(?:that\s+)?)",
    re.IGNORECASE,
)


def strip_reporting(text: str) -> str:
    body = DISCOURSE.sub("", text.strip())
    return _REPORTING_PREFIX.sub("", body)


def modal_to_will(text: str) -> str:
    m = _MODAL_FRAME.match(text.strip().rstrip(",.;"))
    if m is None:
        return text.strip().rstrip(",.;")
    return f"{m.group('s')} will {m.group('v')}"


# --------------------------------------------------------------------------------------
# Negative predicates
# --------------------------------------------------------------------------------------

# A negative predicate: the hedge then qualifies NOT X.  Each rule rewrites the
# predicate to its positive form for the statement.
_NEGATIVE_PREDICATES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(will|would|to)\s+(?:remain|stay)\s+(?:out\s+of\s+reach|elusive)", re.I),
     r"\1 be reached"),
    (re.compile(r"\b(will|would|to|may|might|could)\s+fail\s+to\s+", re.I), r"\1 "),
    (re.compile(r"\b(will|would|can|could|may|might|shall)\s+not\s+", re.I), r"\1 "),
    (re.compile(r"\bwon['\u2019]t\s+", re.I), "will "),
    (re.compile(r"\bwouldn['\u2019]t\s+", re.I), "would "),
    (re.compile(r"\b(will|would|to)\s+never\s+", re.I), r"\1 "),
    (re.compile(r"\bnot\s+to\s+", re.I), "to "),
    (re.compile(r"\b(will|would|to)\s+miss\s+", re.I), r"\1 reach "),
)  # fmt: skip

_NEGATIVE_TRIGGER = Caseless(
    r"\b(?:not|never|fail|remain|stay|miss)\b|n['\u2019]t\b",
    needs=("not", "never", "fail", "remain", "stay", "miss", "n't", "n\u2019t"),
)

_SUBORDINATE = re.compile(r",|\b(?:that|which|who|because|while|although|hoping)\b", re.I)


def rewrite_negative(text: str) -> tuple[str, bool]:
    """Rewrite the main predicate's negation away; negations in subordinate clauses
    ("an agreement that would not require ...") do not flip the proposition."""
    if not _NEGATIVE_TRIGGER.found(text):
        return text, False
    boundary = _SUBORDINATE.search(text, 1)
    head, rest = (text[: boundary.start()], text[boundary.start() :]) if boundary else (text, "")
    for pattern, replacement in _NEGATIVE_PREDICATES:
        rewritten, count = pattern.subn(replacement, head, count=1)
        if count:
            return rewritten + rest, True
    return text, False


# --------------------------------------------------------------------------------------
# Gerunds and infinitives ("a 30% chance of winning" -> "will win")
# --------------------------------------------------------------------------------------

_SUBJECT_PRONOUNS = {"him": "he", "her": "she", "them": "they", "us": "we", "me": "I"}


def subject_form(noun_phrase: str) -> str:
    noun_phrase = noun_phrase.strip()
    return _SUBJECT_PRONOUNS.get(noun_phrase.lower(), noun_phrase)


_NOUN_PHRASE_START = frozenset(
    re.split(
        r"\s+",
        "the this that these those his her its their our my your he she it they we him them us",
    )
)

# Words ending in -ing that are not verbs where a gerund would stand.
_ING_NOUNS = frozenset(
    re.split(
        r"\s+",
        "during nothing something anything everything thing bring string spring sting swing "
        "morning evening ceiling building housing funding spending lending borrowing pricing "
        "polling ruling meeting hearing offering listing rating ranking warning landing "
        "recording wedding clothing lightning shipping banking mining marketing engineering "
        "accounting manufacturing restructuring wrongdoing uprising upbringing",
    )
)

# Words that follow a verb ("winning the title") but not an adjective ("rising prices").
_VERB_FOLLOWERS = frozenset(
    re.split(r"\s+", "the a an in on at by before to up down out off its their his her this into")
)


def _is_gerund(word: str) -> bool:
    word = word.lower().strip(",.;:")
    return len(word) >= 5 and word.endswith("ing") and word not in _ING_NOUNS


def of_complement(complement: str, subject: str | None) -> str | None:
    """ "(X has a 30% chance) of winning" -> "X will win"; "of the bank cutting rates" ->
    "the bank will cut rates"; "of a recession" -> "there will be a recession"."""
    words = complement.split()
    negative = bool(words) and words[0].lower() == "not"
    if negative:
        words = words[1:]
    if not words:
        return None
    no = "not " if negative else ""
    if _is_gerund(words[0]):
        if subject is not None:
            return f"{subject} will {no}{_infinitive(words[0])} {' '.join(words[1:])}".strip()
        if negative or (len(words) > 1 and words[1].lower() in _VERB_FOLLOWERS):
            return None  # "a 60% chance of winning the title": whose win, the clause omits
        return f"there will be {complement}"  # an adjective: "of rising prices"
    if words[0].lower() in _NOUN_PHRASE_START or words[0][:1].isupper():
        for index in range(1, min(6, len(words))):
            not_ = words[index].lower() == "not"
            verb_at = index + 1 if not_ else index
            if verb_at < len(words) and _is_gerund(words[verb_at]):
                noun_phrase = subject_form(" ".join(words[:index]))
                neg = "not " if not_ or negative else ""
                tail = " ".join(words[verb_at + 1 :])
                return f"{noun_phrase} will {neg}{_infinitive(words[verb_at])} {tail}".strip()
    if negative:
        return None
    if subject is not None:  # "Labour has a 40% chance of a majority"
        return f"{subject} will have {complement}"
    return f"there will be {complement}"


_ING_IRREGULAR = {
    "dying": "die",
    "lying": "lie",
    "tying": "tie",
    "vying": "vie",
    "being": "be",
    "fuelling": "fuel",
    "duelling": "duel",
    "signalling": "signal",
    "totalling": "total",
    "equalling": "equal",
}

_KEEP_DOUBLE = frozenset({"add", "err", "egg", "ebb", "odd"})

_VOWELS = frozenset("aeiou")

# Stems ending consonant-vowel-consonant that take back the "e" the -ing dropped
# ("promot-ing", "includ-ing"); other such stems do not ("visit-ing", "happen-ing",
# "offer-ing").  _E_EXCEPTIONS: common verbs that take it back all the same;
# _NO_E: common ones that never had it.
_E_ENDINGS = ("at", "ut", "ot", "id", "ud", "od", "ad", "ed", "ib", "ob", "ub", "in", "um",
              "im", "am", "ir", "ur", "ar", "ol", "il", "ul", "ik", "ok", "ak", "ag")  # fmt: skip

_E_EXCEPTIONS = frozenset({"ignor", "restor", "explor", "ador", "implor", "deplor", "invit",
                           "unit", "ignit", "excit", "recit", "compet", "complet", "delet",
                           "deplet", "conven", "interven", "postpon", "interfer", "adher",
                           "coher", "persever", "escap", "chang", "arrang", "exchang", "rang",
                           "challeng", "aveng", "reveng", "plung", "hing", "cring", "infring",
                           "creat", "quot", "guid", "becom", "overcom", "welcom"})  # fmt: skip

_NO_E = frozenset({"focus", "bias", "combat", "pivot", "ballot", "gossip", "visit"})


def _infinitive(gerund: str) -> str:
    """The base form of an -ing verb, by the spelling rules (best effort: editors check)."""
    word = gerund.lower().strip(",.;:")
    if word in _ING_IRREGULAR:
        return _ING_IRREGULAR[word]
    stem = word[:-3]
    if stem in _NO_E or stem.endswith(("ee", "oe", "ye")) or len(stem) < 2:
        return stem
    last, previous = stem[-1], stem[-2]
    if last == previous and last not in _VOWELS and last not in "lsfz" and stem not in _KEEP_DOUBLE:
        return stem[:-1]  # "winning", "cutting"
    if (
        stem.endswith(("ell", "oll"))
        and len(stem) >= (6 if stem[-3] == "e" else 7)
        and stem[-4] not in _VOWELS
    ):
        return stem[:-1]  # British "travelling", "cancelling", "controlling"
    if stem in _E_EXCEPTIONS:
        return stem + "e"
    if last in "vzuc" and not stem.endswith(("zz", "ck")):
        return stem + "e"  # "leaving", "realizing", "continuing", "producing"
    if stem.endswith(("iat", "uat", "quir")):
        return stem + "e"  # "negotiating", "evaluating", "requiring"
    if last == "s" and not stem.endswith("ss"):
        return stem + "e"  # "raising", "closing", "collapsing"
    if last == "g" and previous in "rld":
        return stem + "e"  # "merging", "indulging", "judging"
    if last == "l" and previous not in _VOWELS and previous not in "rwl":
        return stem + "e"  # "doubling", "settling"
    consonant_vowel_consonant = (
        last not in _VOWELS
        and last not in "wxy"
        and previous in _VOWELS
        and (len(stem) == 2 or stem[-3] not in _VOWELS)
    )
    if consonant_vowel_consonant:
        syllables = len(re.findall(r"[aeiouy]+", stem))
        # A one-syllable stem that did not double its consonant had a silent "e" ("make").
        if syllables == 1 or stem.endswith(_E_ENDINGS):
            return stem + "e"
    return stem
