"""Verbal probability lexicon: phrase -> point probability, range, scale and citation.

Polarity convention
-------------------
Every :class:`Phrase` states how probable the thing it qualifies is.  When a forecast
is stored, the proposition may be the thing the phrase qualified, or its opposite:

* ``estimate(text)`` -- the phrase qualifies the proposition itself.
  "What is *unlikely* is that the deal will deliver full denuclearization first",
  proposition "the deal delivers full denuclearization first": P = p(unlikely) = 0.20.
* ``estimate(text, negated=True)`` -- the phrase qualifies the NEGATION of the
  proposition.  "The *most likely scenario* is that a deal will remain out of reach",
  proposition "a deal is reached": P = 1 - p, and the range (low, high) becomes
  (1 - high, 1 - low).

Negation inside the phrase is handled by the lexicon, not by the caller: common
negated phrases ("probably not", "not likely", "unlikely", "we doubt") have their own
entries, and for any other "not X" / "X not" where X is known, :func:`find` derives the
complement of X (scale "Derived", weak).  Double negatives ("not unlikely", "not
impossible") are litotes, not complements, and have explicit entries; negations of other
negatively worded phrases are not derived at all.

Scales: "ICD 203" (ranges are the directive's bands), "Survey (probly, n=46)" (ranges
are interquartile ranges, exclusive method, rounded to whole percent), "Mauboussin
survey", "Kent WEP", and "House reading" (our own documented reading, for hedges no
published scale covers, and for the plain modals "will", "should", "is set to", "is on
course to", "is bound to" (:data:`PLAIN_MODALS`), which :func:`phrases_in` does not
look for).  This module is pure stdlib and must not import Django.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "LEXICON",
    "PLAIN_MODALS",
    "Phrase",
    "PhraseEstimate",
    "UnknownPhrase",
    "estimate",
    "find",
    "lookup",
    "normalize",
    "phrases_in",
]


@dataclass(frozen=True, slots=True)
class Phrase:
    """A verbal probability expression and its numeric reading."""

    text: str
    probability: float
    low: float
    high: float
    scale: str
    citation: str
    weak: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.low <= self.probability <= self.high <= 1.0:
            raise ValueError(
                f"phrase {self.text!r}: need 0 <= low <= probability <= high <= 1, "
                f"got {self.low}, {self.probability}, {self.high}"
            )
        if not self.scale or not self.citation:
            raise ValueError(f"phrase {self.text!r}: scale and citation are required")


@dataclass(frozen=True, slots=True)
class PhraseEstimate:
    """A phrase applied to a proposition; probability/low/high are FOR the proposition."""

    phrase: Phrase
    negated: bool
    probability: float
    low: float
    high: float


class UnknownPhrase(ValueError):
    """Raised by :func:`lookup` when a phrase is not in the lexicon."""

    def __init__(self, phrase: str, suggestions: list[str]) -> None:
        self.phrase = phrase
        self.suggestions = suggestions
        if suggestions:
            hint = "did you mean " + ", ".join(repr(s) for s in suggestions) + "?"
        else:
            hint = "no close known phrase"
        super().__init__(f"unknown probability phrase {phrase!r}; {hint}")


# --------------------------------------------------------------------------------------
# The table.  Each row: (text, probability, low, high, weak, citation).
# --------------------------------------------------------------------------------------

ICD = "ICD 203"
PROBLY = "Survey (probly, n=46)"
MAUBOUSSIN = "Mauboussin survey"
KENT = "Kent WEP"
HOUSE = "House reading"
DERIVED = "Derived"

_Row = tuple[str, float, float, float, bool, str]

_SURVEYS = "zonination/perceptions probly, n=46; Fagen-Ulmschneider n=123; Mauboussin n≈1,900"

# ICD 203 (2015) bands.  Point = published survey median for the same phrase where one
# exists (clamped into the band), else the band midpoint.  Range = the band, exactly.
_ICD_ROWS: tuple[_Row, ...] = (
    ("almost no chance", 0.02, 0.01, 0.05, False,
     f"ICD 203 (2015), 'almost no chance' 1-5 %; survey median 2 % ({_SURVEYS})"),
    ("remote", 0.03, 0.01, 0.05, False,
     "ICD 203 (2015), 'remote' 1-5 %; no survey figure, point = band midpoint"),
    ("very unlikely", 0.125, 0.05, 0.20, False,
     "ICD 203 (2015), 'very unlikely' 5-20 %; no survey figure for this wording, "
     "point = band midpoint (cf. 'highly unlikely', survey median 5 %)"),
    ("highly improbable", 0.125, 0.05, 0.20, False,
     "ICD 203 (2015), 'highly improbable' 5-20 %; no survey figure, point = band midpoint"),
    ("unlikely", 0.20, 0.20, 0.45, False,
     "ICD 203 (2015), 'unlikely' 20-45 %; survey median 20 %, IQR 10-30 % "
     f"({_SURVEYS}); the median sits at the band's low edge"),
    ("improbable", 0.20, 0.20, 0.45, False,
     "ICD 203 (2015), 'improbable' 20-45 %; survey median 15 % (probly n=46; "
     "Fagen-Ulmschneider 10-15 %) lies below the band, so point = band's low edge 20 %"),
    ("roughly even chance", 0.50, 0.45, 0.55, False,
     "ICD 203 (2015), 'roughly even chance' 45-55 %; point = band midpoint "
     "(survey median for 'about even' 50 %)"),
    ("roughly even odds", 0.50, 0.45, 0.55, False,
     "ICD 203 (2015), 'roughly even odds' 45-55 %; point = band midpoint"),
    ("likely", 0.70, 0.55, 0.80, False,
     f"ICD 203 (2015), 'likely' 55-80 %; survey median 70 %, IQR 65-76 % ({_SURVEYS})"),
    ("probable", 0.70, 0.55, 0.80, False,
     "ICD 203 (2015), 'probable' 55-80 %; survey median 70 %, IQR 65-80 % "
     "(probly n=46; Kent WEP 'probable' 75 ± 12 %)"),
    ("very likely", 0.875, 0.80, 0.95, False,
     "ICD 203 (2015), 'very likely' 80-95 %; no survey figure for this wording, "
     "point = band midpoint (cf. 'highly likely', survey median 90 %)"),
    ("highly probable", 0.875, 0.80, 0.95, False,
     "ICD 203 (2015), 'highly probable' 80-95 %; no survey figure, point = band midpoint"),
    ("almost certain", 0.95, 0.95, 0.99, False,
     "ICD 203 (2015), 'almost certain' 95-99 %; survey median 95 % for 'almost "
     f"certainly' ({_SURVEYS}); Kent WEP 93 ± 6 %"),
    ("nearly certain", 0.97, 0.95, 0.99, False,
     "ICD 203 (2015), 'nearly certain' 95-99 %; no survey figure, point = band midpoint"),
)  # fmt: skip

# zonination/perceptions "probly" survey (n=46): point = median, range = IQR.
_PROBLY_ROWS: tuple[_Row, ...] = (
    ("almost certainly", 0.95, 0.90, 0.98, False,
     "probly survey (zonination/perceptions, n=46): median 95 %, IQR 90-98 %; "
     "Fagen-Ulmschneider and Mauboussin medians agree (≈95 %)"),
    ("highly likely", 0.90, 0.83, 0.95, False,
     "probly survey (zonination/perceptions, n=46): median 90 %, IQR 83-95 %"),
    ("very good chance", 0.80, 0.75, 0.85, False,
     "probly survey (zonination/perceptions, n=46): median 80 %, IQR 75-85 %"),
    ("probably", 0.75, 0.64, 0.80, False,
     "probly survey (zonination/perceptions, n=46): median 75 %, IQR 64-80 %; "
     "the larger surveys put it at 70-75 %, we use the probly median 75 %"),
    ("we believe", 0.70, 0.60, 0.80, False,
     "probly survey (zonination/perceptions, n=46): median 70 %, IQR 60-80 %"),
    ("better than even", 0.60, 0.55, 0.60, False,
     "probly survey (zonination/perceptions, n=46): median 60 %, IQR 55-60 %"),
    ("about even", 0.50, 0.50, 0.50, False,
     "probly survey (zonination/perceptions, n=46): median 50 %, IQR 50-50 % "
     "(over half the respondents answered exactly 50 %)"),
    ("we doubt", 0.25, 0.14, 0.34, False,
     "probly survey (zonination/perceptions, n=46): median 25 %, IQR 14-34 %; "
     "other surveys 20-25 %"),
    ("probably not", 0.265, 0.20, 0.40, False,
     "probly survey (zonination/perceptions, n=46): median 26.5 %, IQR 20-40 %; "
     "other surveys 25-30 %; Kent WEP 30 ± 10 %"),
    ("little chance", 0.15, 0.10, 0.20, False,
     "probly survey (zonination/perceptions, n=46): median 15 %, IQR 10-20 %"),
    ("highly unlikely", 0.05, 0.05, 0.10, False,
     "probly survey (zonination/perceptions, n=46): median 5 %, IQR 5-10 %"),
    ("chances are slight", 0.10, 0.09, 0.16, False,
     "probly survey (zonination/perceptions, n=46): median 10 %, IQR 9-16 %"),
)  # fmt: skip

# Mauboussin & Mauboussin (HBR 2018, n≈1,900): point = median.  Only medians are
# recorded here, so the range is a house width of ±15 points around it.
_MAUBOUSSIN_ROWS: tuple[_Row, ...] = (
    ("maybe", 0.50, 0.35, 0.65, False,
     "Mauboussin survey (HBR 2018, n≈1,900): median 50 %; range ±15 points (house width)"),
    ("possibly", 0.45, 0.30, 0.60, False,
     "Mauboussin survey (HBR 2018, n≈1,900): median 45 %; range ±15 points (house width)"),
    ("might", 0.40, 0.25, 0.55, False,
     "Mauboussin survey (HBR 2018, n≈1,900): 'might happen' median 40 %; "
     "range ±15 points (house width)"),
    ("might happen", 0.40, 0.25, 0.55, False,
     "Mauboussin survey (HBR 2018, n≈1,900): median 40 %; range ±15 points (house width)"),
    ("real possibility", 0.60, 0.45, 0.75, False,
     "Mauboussin survey (HBR 2018, n≈1,900): median 60 %; range ±15 points (house width)"),
    ("serious possibility", 0.66, 0.51, 0.81, False,
     "Mauboussin survey (HBR 2018, n≈1,900): median 66 %; range ±15 points (house width)"),
)  # fmt: skip

# Sherman Kent, "Words of Estimative Probability" (CIA, 1964): point ± spread.
_KENT_ROWS: tuple[_Row, ...] = (
    ("certain", 1.0, 1.0, 1.0, False,
     "Kent, 'Words of Estimative Probability' (1964): certain 100 %"),
    ("almost certainly not", 0.07, 0.02, 0.12, False,
     "Kent, 'Words of Estimative Probability' (1964): almost certainly not 7 ± 5 %"),
    ("chances about even", 0.50, 0.40, 0.60, False,
     "Kent, 'Words of Estimative Probability' (1964): chances about even 50 ± 10 %"),
    ("impossible", 0.0, 0.0, 0.0, False,
     "Kent, 'Words of Estimative Probability' (1964): impossible 0 %"),
)  # fmt: skip

# Our own readings for hedges common in news analysis that no published scale covers.
# Each citation states the reasoning; weak=True marks comparatives, superlatives and
# vague hedges, which are weaker evidence of a numeric belief.
_HOUSE_ROWS: tuple[_Row, ...] = (
    # Superlatives and comparatives: relative to unstated alternatives.
    ("most likely", 0.60, 0.40, 0.80, True,
     "House reading: superlative naming the modal outcome; with three or more "
     "alternatives it need not exceed 50 %. Point = 'better than even' (probly median "
     "60 %), range from below even to the top of ICD 203 'likely' (80 %)"),
    ("most probable", 0.60, 0.40, 0.80, True,
     "House reading: read as 'most likely' (superlative, modal outcome; 40-80 %)"),
    ("the most likely scenario", 0.55, 0.35, 0.75, True,
     "House reading: scenario analyses usually list three or more scenarios, so the "
     "modal one is often near or below even; slightly below 'most likely' (60 %)"),
    ("least likely", 0.15, 0.02, 0.35, True,
     "House reading: superlative naming the least probable of several outcomes; read "
     "between 'almost no chance' and ICD 203 'unlikely'"),
    ("more likely", 0.60, 0.50, 0.75, True,
     "House reading: comparative, more probable than an (often implicit) alternative; "
     "above even, below ICD 203 'likely' median; point = 'better than even' 60 %"),
    ("more probable", 0.60, 0.50, 0.75, True,
     "House reading: read as 'more likely' (comparative; 50-75 %)"),
    ("less probable", 0.35, 0.20, 0.50, True,
     "House reading: comparative, less probable than the alternative just discussed; "
     "below even, within ICD 203 'unlikely' (20-45 %) to even"),
    ("less likely", 0.35, 0.20, 0.50, True,
     "House reading: read as 'less probable' (comparative; 20-50 %)"),
    # Expectation and belief.
    ("expected", 0.70, 0.55, 0.80, False,
     "House reading: 'is expected (that/to)' read as ICD 203 'likely' (55-80 %), "
     "point = survey median for 'likely' 70 %"),
    ("not expected", 0.30, 0.20, 0.45, False,
     "House reading: complement of 'expected' (70 %), range = ICD 203 'unlikely' 20-45 %"),
    ("thought to be", 0.70, 0.60, 0.80, False,
     "House reading: attributed belief, read as 'we believe' (probly median 70 %, "
     "IQR 60-80 %)"),
    ("appears poised", 0.65, 0.55, 0.80, True,
     "House reading: 'appears' hedges an ICD 203 'likely' judgement (55-80 %); point "
     "lowered from the 'likely' median 70 % to 65 %"),
    ("seems likely", 0.65, 0.55, 0.80, True,
     "House reading: 'likely' tempered by 'seems'; ICD 203 'likely' band 55-80 %, point "
     "lowered from the survey median 70 % to 65 %"),
    ("seems unlikely", 0.25, 0.20, 0.45, True,
     "House reading: 'unlikely' tempered by 'seems'; ICD 203 'unlikely' band 20-45 %, "
     "point raised from the survey median 20 % to 25 %"),
    # Possibility modals: often not predictive at all ("the strategy may be to ...").
    ("could", 0.40, 0.20, 0.60, True,
     "House reading: modal of possibility, read as 'might' (Mauboussin 'might happen' "
     "median 40 %); often expresses capability rather than a forecast"),
    ("may", 0.45, 0.25, 0.60, True,
     "House reading: modal of possibility, read between 'might' (40 %) and 'possibly' "
     "(45 %) in the Mauboussin survey (n≈1,900)"),
    ("perhaps", 0.45, 0.30, 0.60, True,
     "House reading: read as 'possibly' (Mauboussin survey median 45 %)"),
    # Uncertainty.
    ("uncertain", 0.50, 0.30, 0.70, True,
     "House reading: outcome open either way, read as even chance (ICD 203 45-55 %) "
     "with a wider range because the word states no direction"),
    ("looks uncertain", 0.50, 0.30, 0.70, True,
     "House reading: read as 'uncertain' (even chance, 30-70 %)"),
    ("not certain", 0.50, 0.20, 0.80, True,
     "House reading: denies certainty only; the complement of Kent's 'certain' (100 %) "
     "would give 0 %, which misreads it. Read as open, centred on even"),
    # Certainty and doubt.
    ("certainly", 0.95, 0.90, 1.0, False,
     "House reading: as an adverb in analysis it is emphatic rather than literal "
     "(Kent 'certain' 100 %); read as ICD 203 'almost certain' 95 %"),
    ("no doubt", 0.90, 0.80, 0.99, False,
     "House reading: asserts confidence without literal certainty; ICD 203 'very likely' "
     "to 'almost certain' (80-99 %)"),
    ("little doubt", 0.85, 0.75, 0.95, False,
     "House reading: slightly weaker than 'no doubt'; between ICD 203 'likely' and "
     "'very likely'"),
    ("doubt", 0.25, 0.14, 0.34, False,
     "House reading: read as 'we doubt' (probly median 25 %, IQR 14-34 %)"),
    # Negated positives.
    ("not likely", 0.25, 0.20, 0.45, False,
     "House reading: read as ICD 203 'unlikely' (20-45 %); point between the survey "
     "medians for 'unlikely' (20 %) and 'probably not' (26.5 %)"),
    # Double negatives (litotes): NOT the complement of the inner phrase.
    ("not unlikely", 0.55, 0.45, 0.70, True,
     "House reading: litotes. It denies 'unlikely' (ICD 203 20-45 %) without asserting "
     "'likely'; the plain complement (80 %) would overstate it. Read as just above even, "
     "from the top of the 'unlikely' band into the low 'likely' band"),
    ("not improbable", 0.55, 0.45, 0.70, True,
     "House reading: litotes, read as 'not unlikely' (45-70 %), not as the complement of "
     "'improbable'"),
    ("not impossible", 0.15, 0.02, 0.45, True,
     "House reading: litotes. It asserts only a non-zero chance, usually of an outcome "
     "the writer thinks unlikely; the complement of Kent's 'impossible' (100 %) would "
     "misread it. Range from 'almost no chance' to the top of ICD 203 'unlikely'"),
)  # fmt: skip


# Plain modals: the author's own future ("X will V", "X should V", "X is set to V").  No
# published scale gives a reading for them (the surveys and ICD 203 list hedges, and a
# plain "will" hedges nothing), so each is a house reading placed on the ICD 203 bands.
# They are found by the extractor's own pattern (:mod:`forecasts.extraction.modals`),
# never by :func:`phrases_in`: "will" is in most sentences, and a statement containing
# it is no hedged statement.  All are weak: the number is our reading, not the author's.
_MODAL_ROWS: tuple[_Row, ...] = (
    ("will", 0.85, 0.75, 0.95, True,
     "House reading: the author's plain future ('X will V') asserts the outcome without a "
     "hedge, but a columnist's 'will' is a forecast, often wrong, not Kent's 'certain' "
     "(100 %). Read within ICD 203 'very likely' (80-95 %), point 85 % just below the band "
     "midpoint, range down to 75 % (the upper half of ICD 203 'likely')"),
    ("should", 0.70, 0.55, 0.80, True,
     "House reading: epistemic 'should' ('the recession should be mild') states an "
     "expectation the writer allows may fail; read as 'expected', i.e. ICD 203 'likely' "
     "(55-80 %), point = survey median for 'likely' 70 %"),
    ("set to", 0.80, 0.65, 0.90, True,
     "House reading: 'is set to' reports an arranged or strongly expected outcome; read "
     "between ICD 203 'likely' and 'very likely', point 80 % (probly median for 'very good "
     "chance'), range 65-90 %"),
    ("on course to", 0.70, 0.55, 0.80, True,
     "House reading: 'is on course to' extrapolates a trend that can still turn; read as "
     "ICD 203 'likely' (55-80 %), point = survey median for 'likely' 70 %"),
    ("bound to", 0.90, 0.80, 0.95, True,
     "House reading: 'is bound to' asserts inevitability; read as ICD 203 'very likely' "
     "(80-95 %), point = probly median for 'highly likely' 90 %, short of Kent's 'certain'"),
)  # fmt: skip

#: The plain modals' entries: read by the extractor's modal pattern, not by phrases_in.
PLAIN_MODALS = frozenset(row[0] for row in _MODAL_ROWS)


def _build() -> Mapping[str, Phrase]:
    table: dict[str, Phrase] = {}
    groups = (
        (ICD, _ICD_ROWS),
        (PROBLY, _PROBLY_ROWS),
        (MAUBOUSSIN, _MAUBOUSSIN_ROWS),
        (KENT, _KENT_ROWS),
        (HOUSE, _HOUSE_ROWS),
        (HOUSE, _MODAL_ROWS),
    )
    for scale, rows in groups:
        for text, probability, low, high, weak, citation in rows:
            if text in table:
                raise ValueError(f"duplicate lexicon entry {text!r}")
            table[text] = Phrase(text, probability, low, high, scale, citation, weak)
    return MappingProxyType(table)


LEXICON: Mapping[str, Phrase] = _build()

# Negating a phrase below this probability is litotes ("not unlikely", "not doubt"),
# not a complement, so such negations are only known through explicit entries.
_LITOTES_BELOW = 0.40
# Phrases whose "not X" / "X not" is not a negated forecast ("could not" = inability).
_NO_DERIVED_NEGATION = frozenset({"could"})

# --------------------------------------------------------------------------------------
# Normalisation and lookup
# --------------------------------------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
_STRIP = string.punctuation + string.whitespace + "\u2013\u2014\u2026\u00ab\u00bb"

_CONTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(it|that|there)'s\b"), r"\1 is"),
    (re.compile(r"\b(is|are|was|were)n't\b"), r"\1 not"),
)
_COPULAS: tuple[str, ...] = (
    "it is ",
    "that is ",
    "there is ",
    "there are ",
    "it was ",
    "is ",
    "are ",
    "was ",
    "were ",
)
_TRAILERS: tuple[str, ...] = (" that", " to")


def normalize(text: str) -> str:
    """Lower-case, straighten curly quotes, collapse whitespace, strip outer punctuation."""
    text = text.translate(_QUOTES).lower()
    text = " ".join(text.split())
    return text.strip(_STRIP)


def _forms(normalized: str) -> Iterator[str]:
    """Candidate lexicon keys for a normalized text, most literal first."""
    text = normalized
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    bases = [normalized, text]
    for copula in _COPULAS:
        if text.startswith(copula):
            bases.append(text[len(copula) :])
            break
    for base in bases:
        yield base
        for trailer in _TRAILERS:
            if base.endswith(trailer):
                yield base[: -len(trailer)]


def _complement(phrase: Phrase, text: str) -> Phrase:
    return Phrase(
        text=text,
        probability=_flip(phrase.probability),
        low=_flip(phrase.high),
        high=_flip(phrase.low),
        scale=DERIVED,
        citation=f"complement of {phrase.text!r} ({phrase.citation})",
        weak=True,
    )


def _derive_negation(form: str) -> Phrase | None:
    if form.startswith("not "):
        base = form[len("not ") :]
    elif form.endswith(" not"):
        base = form[: -len(" not")]
    else:
        return None
    inner = LEXICON.get(base)
    if (
        inner is None
        or base.startswith("not ")
        or base in _NO_DERIVED_NEGATION
        or inner.probability < _LITOTES_BELOW
    ):
        return None
    return _complement(inner, form)


def find(text: str) -> Phrase | None:
    """The phrase for ``text``, or None.

    Tolerates case, curly quotes, extra whitespace, surrounding punctuation, a leading
    copula ("it is", "it's", "is", "are", "that is", ...) and a trailing "that"/"to"
    ("it is expected that" -> expected).  "not X" / "X not" for a known X without its own
    entry gives a derived complement (see the module docstring).
    """
    forms = list(dict.fromkeys(_forms(normalize(text))))
    for form in forms:
        phrase = LEXICON.get(form)
        if phrase is not None:
            return phrase
    for form in forms:
        derived = _derive_negation(form)
        if derived is not None:
            return derived
    return None


def lookup(text: str) -> Phrase:
    """Like :func:`find`, but raises :class:`UnknownPhrase` with suggestions."""
    phrase = find(text)
    if phrase is None:
        key = normalize(text)
        suggestions = difflib.get_close_matches(key, list(LEXICON), n=3, cutoff=0.6)
        raise UnknownPhrase(text, suggestions)
    return phrase


def _flip(value: float) -> float:
    return round(1.0 - value, 10)


def estimate(text: str | Phrase, *, negated: bool = False) -> PhraseEstimate:
    """Probability FOR the proposition.

    ``negated=False``: the phrase qualified the proposition itself (P = p).
    ``negated=True``: it qualified the proposition's negation (P = 1 - p, range flipped).
    """
    phrase = text if isinstance(text, Phrase) else lookup(text)
    if negated:
        return PhraseEstimate(
            phrase, True, _flip(phrase.probability), _flip(phrase.high), _flip(phrase.low)
        )
    return PhraseEstimate(phrase, False, phrase.probability, phrase.low, phrase.high)


# --------------------------------------------------------------------------------------
# Finding phrases in running text
# --------------------------------------------------------------------------------------

_WORD_END = r"(?!\w|['\u2019]\w)"


def _key_pattern(key: str) -> str:
    return r"\s+".join(re.escape(word) for word in key.split())


# At every word start, the longest key that matches there (alternatives longest first).
_ANY_KEY_PATTERN = (
    r"(?<!\w)(?=((?:"
    + "|".join(
        _key_pattern(k) for k in sorted(LEXICON, key=len, reverse=True) if k not in PLAIN_MODALS
    )
    + r")"
    + _WORD_END
    + "))"
)
_ANY_KEY = re.compile(_ANY_KEY_PATTERN, re.IGNORECASE)
# The keys are lower-case: on a lower-cased ASCII sentence, matching them as written finds
# what _ANY_KEY finds, at the same offsets, without folding the case of every character.
_ANY_KEY_LOWER = re.compile(_ANY_KEY_PATTERN)
# _ANY_KEY tries every key at every word start, most of them in vain.  A key can start at
# a word only if the word (its run of \w) is the leading run of the key's first word, so
# only such words are tried (in text order, as _ANY_KEY.finditer would).  A word with a
# character outside ASCII is always tried: case-insensitive matching pairs some of those
# with ASCII letters ("\u017f" with "s") in ways lower() does not.
_WORD_RUN = re.compile(r"\w+")
_KEY_STARTS = frozenset(
    _WORD_RUN.match(k).group(0).lower()  # type: ignore[union-attr]
    for k in LEXICON
    if k not in PLAIN_MODALS
)
# In an ASCII sentence those words are found by one pattern over the lower-cased sentence
# (lower() keeps an ASCII text's length, so its offsets are the sentence's): a Python step
# for every word of the sentence cost more than the phrases found.
_KEY_START = re.compile(
    r"\b(?:" + "|".join(re.escape(k) for k in sorted(_KEY_STARTS, key=len, reverse=True)) + r")\b"
)
_NEGATOR_BEFORE = re.compile(r"(?<!\w)(?:not|\w+n['\u2019]t)\s++$", re.IGNORECASE)
# The negator or word before a phrase is looked for this far before it (past the spaces),
# not from the sentence's start again for every phrase: a sentence of phrases would cost
# the square of its length. The longest negator, "shouldn't", has 9 characters.
_WORD_REACH = 32
_NOT_AFTER = re.compile(r"\s++not(?!\w)", re.IGNORECASE)
_LEADING_JUNK = re.compile(r"^[\s\"'\u2018\u2019\u201c\u201d(\[]*$")
# "certain" as a probability word is predicative ("is certain", "seems certain");
# attributive "certain officials" means "particular" and is not a forecast.
_PREDICATIVE_CUE = re.compile(
    r"(?:is|are|was|were|be|been|being|seem(?:s|ed)?|look(?:s|ed)?|appear(?:s|ed)?"
    r"|remain(?:s|ed)?|become|becomes|became|feel|felt|quite|virtually|but|from|now"
    r"|\w*'s|\w*n't)"
)
_PREV_WORD = re.compile(r"(?<!\w)(\w++(?:['\u2019]\w++)?)\W*+$")


def _reach(sentence: str, start: int) -> int:
    """Where to look for the word before ``start``: _WORD_REACH characters before the
    spaces and punctuation that end at ``start``."""
    end = start
    while end > 0 and not (sentence[end - 1].isalnum() or sentence[end - 1] == "_"):
        end -= 1
    return max(0, end - _WORD_REACH)


# The words a key matched, normalised: few distinct ones ("likely", "could", "not likely")
# come back sentence after sentence, and each match was normalised twice.
_matched_key = functools.lru_cache(maxsize=512)(normalize)


def _plausible(sentence: str, start: int, end: int) -> bool:
    """Filter matches that are not probability words in context."""
    matched = sentence[start:end]
    key = _matched_key(matched)
    if key == "may" and matched[0] == "M" and not _LEADING_JUNK.match(sentence, 0, start):
        return False  # the month ("In May, ...")
    if key == "certain":
        prev = _PREV_WORD.search(sentence, _reach(sentence, start), start)
        if prev is None:
            return False
        word = normalize(prev.group(1))
        return _PREDICATIVE_CUE.fullmatch(word) is not None
    return True


def _word_starts(sentence: str) -> Iterator[int]:
    """Where the words that may start a key start in a sentence with a character outside
    ASCII, in text order (see _WORD_RUN)."""
    for word in _WORD_RUN.finditer(sentence):
        run = word.group(0)
        if not run.isascii() or run.lower() in _KEY_STARTS:
            yield word.start()


def phrases_in(sentence: str) -> list[tuple[int, int, Phrase]]:
    """Every lexicon phrase in ``sentence`` as (start, end, phrase), ordered by start.

    Offsets index the original sentence.  Matching is case-insensitive and on whole
    words; overlapping candidates are resolved longest first ("very unlikely" is one
    match, not also "unlikely").  A negator right before a phrase ("not", "isn't") or a
    "not" right after it is folded into the match and resolved by :func:`find` (e.g.
    "is not very likely" -> derived "not very likely"); if that negation has no reading
    (e.g. "not highly unlikely", "could not") the match is dropped, since its polarity
    would be wrong.
    """
    # Candidates with phrase None are negations without a reading: they still take part
    # in longest-match resolution (so "not highly unlikely" hides "unlikely"), then drop.
    candidates: list[tuple[int, int, Phrase | None]] = []
    if sentence.isascii():
        lowered = sentence.lower()
        tried = (
            _ANY_KEY_LOWER.match(lowered, word.start()) for word in _KEY_START.finditer(lowered)
        )
    else:
        tried = (_ANY_KEY.match(sentence, start) for start in _word_starts(sentence))
    for match in tried:
        if match is None:
            continue
        start, end = match.start(1), match.end(1)
        if not _plausible(sentence, start, end):
            continue
        key = _matched_key(sentence[start:end])
        phrase: Phrase | None = LEXICON[key]
        neg_before = _NEGATOR_BEFORE.search(sentence, _reach(sentence, start), start)
        neg_after = _NOT_AFTER.match(sentence, end)
        if neg_before is not None and not key.startswith("not "):
            start = neg_before.start()
            phrase = find("not " + key)
        elif neg_after is not None and not key.endswith(" not"):
            end = neg_after.end()
            phrase = find(key + " not")
        candidates.append((start, end, phrase))

    # Longest match wins; among equals, the earlier one, then explicit over derived.
    candidates.sort(key=lambda c: (c[0] - c[1], c[0], c[2] is None or c[2].scale == DERIVED))
    # Chosen spans never overlap, so kept in order a new one need only be compared with
    # its neighbours (against every chosen span, a sentence of phrases took their square).
    chosen: list[tuple[int, int, Phrase | None]] = []
    for cand in candidates:
        at = bisect.bisect_left(chosen, cand[0], key=_span_start)
        if (at == 0 or chosen[at - 1][1] <= cand[0]) and (
            at == len(chosen) or cand[1] <= chosen[at][0]
        ):
            chosen.insert(at, cand)
    return [(start, end, phrase) for start, end, phrase in chosen if phrase is not None]


def _span_start(span: tuple[int, int, Phrase | None]) -> int:
    return span[0]
