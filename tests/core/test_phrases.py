"""Tests for the verbal probability lexicon (forecasts.core.phrases). No Django, no database."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import statistics

import pytest

from forecasts.core.phrases import (
    LEXICON,
    Phrase,
    PhraseEstimate,
    UnknownPhrase,
    estimate,
    find,
    lookup,
    normalize,
    phrases_in,
)
from tests.conftest import SHARED

PROBLY_CSV = SHARED / "data/perceptions/probly.csv"
RSQUO = "\u2019"  # curly apostrophe, as in the seed article

# ICD 203 (2015) bands, in probability.
ICD_BANDS: dict[str, tuple[float, float]] = {
    "almost no chance": (0.01, 0.05),
    "remote": (0.01, 0.05),
    "very unlikely": (0.05, 0.20),
    "highly improbable": (0.05, 0.20),
    "unlikely": (0.20, 0.45),
    "improbable": (0.20, 0.45),
    "roughly even chance": (0.45, 0.55),
    "roughly even odds": (0.45, 0.55),
    "likely": (0.55, 0.80),
    "probable": (0.55, 0.80),
    "very likely": (0.80, 0.95),
    "highly probable": (0.80, 0.95),
    "almost certain": (0.95, 0.99),
    "nearly certain": (0.95, 0.99),
}

# probly.csv column -> lexicon entries whose point is explicitly that column's median.
# ("Improbable" is absent on purpose: its median lies below the ICD band, see below.)
SURVEY_MEDIAN_ENTRIES: dict[str, tuple[str, ...]] = {
    "Almost Certainly": ("almost certainly", "almost certain"),
    "Highly Likely": ("highly likely",),
    "Very Good Chance": ("very good chance",),
    "Probable": ("probable",),
    "Likely": ("likely",),
    "Probably": ("probably",),
    "We Believe": ("we believe", "thought to be"),
    "Better Than Even": ("better than even",),
    "About Even": ("about even",),
    "We Doubt": ("we doubt", "doubt"),
    "Unlikely": ("unlikely",),
    "Probably Not": ("probably not",),
    "Little Chance": ("little chance",),
    "Almost No Chance": ("almost no chance",),
    "Highly Unlikely": ("highly unlikely",),
    "Chances Are Slight": ("chances are slight",),
}
PROBLY_SCALE = "Survey (probly, n=46)"


@pytest.fixture(scope="module")
def probly() -> dict[str, list[float]]:
    if not PROBLY_CSV.is_file():
        pytest.fail(
            f"survey data missing: expected {PROBLY_CSV} (the shared data directory "
            "beside the repository, see shared/data/README.md)"
        )
    with PROBLY_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 46
    return {
        column: [float(row[column]) for row in rows if row[column].strip()] for column in rows[0]
    }


def column_for(key: str) -> str:
    for column, keys in SURVEY_MEDIAN_ENTRIES.items():
        if key in keys:
            return column
    raise AssertionError(f"{key!r} is not mapped to a probly column")


# --------------------------------------------------------------------------------------
# Table integrity
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(LEXICON))
def test_entry_is_well_formed(key: str) -> None:
    phrase = LEXICON[key]
    assert phrase.text == key
    assert normalize(key) == key
    assert 0.0 <= phrase.low <= phrase.probability <= phrase.high <= 1.0
    assert phrase.scale.strip()
    assert phrase.citation.strip()


def test_lexicon_is_read_only_and_phrases_frozen() -> None:
    with pytest.raises(TypeError):
        LEXICON["bogus"] = LEXICON["likely"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        LEXICON["likely"].probability = 0.9  # type: ignore[misc]


def test_phrase_rejects_inconsistent_range() -> None:
    with pytest.raises(ValueError, match="low <= probability"):
        Phrase("odd", 0.10, 0.20, 0.45, "House reading", "test")


def test_scales_are_the_documented_ones() -> None:
    allowed = {"ICD 203", PROBLY_SCALE, "Mauboussin survey", "Kent WEP", "House reading"}
    assert {p.scale for p in LEXICON.values()} <= allowed


def test_required_hedges_present_and_non_phrases_absent() -> None:
    required = [
        "most likely",
        "the most likely scenario",
        "expected",
        "could",
        "may",
        "less probable",
        "more likely",
        "appears poised",
        "seems unlikely",
        "thought to be",
        "looks uncertain",
        "uncertain",
        "perhaps",
        "almost certainly",
        "certainly",
        "probably not",
        "not likely",
        "not expected",
        "unlikely",
        "doubt",
        "we doubt",
        "maybe",
        "possibly",
        "might",
        "might happen",
        "real possibility",
        "serious possibility",
    ]
    missing = [key for key in required if key not in LEXICON]
    assert missing == []
    for not_a_phrase in ("would", "will remain out of reach"):
        assert find(not_a_phrase) is None
        assert not_a_phrase not in LEXICON


@pytest.mark.parametrize(
    "key", ["most likely", "the most likely scenario", "less probable", "more likely",
            "appears poised", "could"]
)  # fmt: skip
def test_comparatives_superlatives_and_vague_hedges_are_weak(key: str) -> None:
    assert LEXICON[key].weak


# --------------------------------------------------------------------------------------
# Published scales
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "band"), sorted(ICD_BANDS.items()))
def test_icd_203_range_is_the_band(key: str, band: tuple[float, float]) -> None:
    phrase = LEXICON[key]
    assert phrase.scale == "ICD 203"
    assert (phrase.low, phrase.high) == pytest.approx(band)
    assert "ICD 203" in phrase.citation


def test_every_icd_entry_is_checked() -> None:
    icd = {key for key, phrase in LEXICON.items() if phrase.scale == "ICD 203"}
    assert icd == set(ICD_BANDS)


def test_icd_points_without_survey_are_band_midpoints() -> None:
    for key in ("remote", "very unlikely", "highly improbable", "very likely", "nearly certain"):
        low, high = ICD_BANDS[key]
        assert LEXICON[key].probability == pytest.approx((low + high) / 2), key


def test_probly_columns_are_the_expected_seventeen(probly: dict[str, list[float]]) -> None:
    assert set(probly) == set(SURVEY_MEDIAN_ENTRIES) | {"Improbable"}
    assert all(len(values) == 46 for values in probly.values())


@pytest.mark.parametrize(
    ("column", "key"),
    [(column, key) for column, keys in SURVEY_MEDIAN_ENTRIES.items() for key in keys],
)
def test_point_is_the_survey_median(probly: dict[str, list[float]], column: str, key: str) -> None:
    median = statistics.median(probly[column])
    phrase = LEXICON[key]
    assert phrase.probability == pytest.approx(median / 100), (key, median)
    if phrase.scale in {PROBLY_SCALE, "ICD 203"}:
        assert f"median {median:g} %" in phrase.citation


def test_every_probly_entry_has_a_median_check() -> None:
    survey = {key for key, phrase in LEXICON.items() if phrase.scale == PROBLY_SCALE}
    checked = {key for keys in SURVEY_MEDIAN_ENTRIES.values() for key in keys}
    assert survey <= checked


@pytest.mark.parametrize(
    "key", sorted(k for k, p in LEXICON.items() if p.scale == PROBLY_SCALE)
)  # fmt: skip
def test_survey_range_is_the_iqr(probly: dict[str, list[float]], key: str) -> None:
    # Exclusive-method quartiles, rounded to whole percent in the lexicon.
    q1, _, q3 = statistics.quantiles(probly[column_for(key)], n=4)
    phrase = LEXICON[key]
    assert abs(phrase.low * 100 - q1) <= 0.5 + 1e-9, (key, q1)
    assert abs(phrase.high * 100 - q3) <= 0.5 + 1e-9, (key, q3)


def test_improbable_survey_median_below_icd_band_is_clamped(
    probly: dict[str, list[float]],
) -> None:
    median = statistics.median(probly["Improbable"]) / 100
    low, _ = ICD_BANDS["improbable"]
    assert median < low  # the reason for the clamp
    assert LEXICON["improbable"].probability == pytest.approx(max(median, low))


def test_unlikely_point_at_low_edge_of_icd_band() -> None:
    phrase = LEXICON["unlikely"]
    assert (phrase.probability, phrase.low, phrase.high) == pytest.approx((0.20, 0.20, 0.45))


def test_probably_uses_probly_median_075() -> None:
    assert LEXICON["probably"].probability == pytest.approx(0.75)
    assert "75 %" in LEXICON["probably"].citation


@pytest.mark.parametrize(
    ("key", "point", "low", "high"),
    [
        ("certain", 1.0, 1.0, 1.0),
        ("almost certainly not", 0.07, 0.02, 0.12),
        ("chances about even", 0.50, 0.40, 0.60),
        ("impossible", 0.0, 0.0, 0.0),
    ],
)
def test_kent_wep(key: str, point: float, low: float, high: float) -> None:
    phrase = LEXICON[key]
    assert phrase.scale == "Kent WEP"
    assert (phrase.probability, phrase.low, phrase.high) == pytest.approx((point, low, high))


@pytest.mark.parametrize(
    ("key", "point"),
    [
        ("maybe", 0.50),
        ("possibly", 0.45),
        ("might", 0.40),
        ("might happen", 0.40),
        ("real possibility", 0.60),
        ("serious possibility", 0.66),
    ],
)
def test_mauboussin_medians(key: str, point: float) -> None:
    assert LEXICON[key].scale == "Mauboussin survey"
    assert LEXICON[key].probability == pytest.approx(point)


def test_house_readings_ordered_sensibly() -> None:
    p = {key: phrase.probability for key, phrase in LEXICON.items()}
    assert p["seems unlikely"] < 0.5 < p["most likely"]
    assert p["less probable"] < 0.5 < p["more likely"]
    assert p["could"] == pytest.approx(p["might"])
    assert 0.55 <= p["expected"] <= 0.80
    assert 0.55 <= p["appears poised"] <= 0.80
    assert p["thought to be"] == pytest.approx(p["we believe"])
    assert p["looks uncertain"] == pytest.approx(0.5)
    assert p["perhaps"] == pytest.approx(p["possibly"])


# --------------------------------------------------------------------------------------
# Polarity
# --------------------------------------------------------------------------------------


def test_phrase_qualifies_proposition() -> None:
    # "what is unlikely is that the deal will deliver full denuclearization as a first step"
    # proposition: "the deal delivers full denuclearization first"
    est = estimate("unlikely")
    assert isinstance(est, PhraseEstimate)
    assert est.negated is False
    assert est.phrase is LEXICON["unlikely"]
    assert (est.probability, est.low, est.high) == pytest.approx((0.20, 0.20, 0.45))


@pytest.mark.parametrize("text", ["most likely", "the most likely scenario"])
def test_phrase_qualifies_negation(text: str) -> None:
    # "The most likely scenario is that a deal will remain out of reach",
    # proposition: "a deal is reached"
    phrase = LEXICON[text]
    est = estimate(text, negated=True)
    assert est.negated is True
    assert est.probability == pytest.approx(1 - phrase.probability)
    assert (est.low, est.high) == pytest.approx((1 - phrase.high, 1 - phrase.low))
    assert est.probability < 0.5


@pytest.mark.parametrize("key", sorted(LEXICON))
def test_negated_estimate_flips_range(key: str) -> None:
    phrase = LEXICON[key]
    est = estimate(key, negated=True)
    assert est.probability == pytest.approx(1 - phrase.probability)
    assert est.low == pytest.approx(1 - phrase.high)
    assert est.high == pytest.approx(1 - phrase.low)
    assert 0.0 <= est.low <= est.probability <= est.high <= 1.0


def test_estimate_accepts_phrase_object() -> None:
    assert estimate(LEXICON["likely"], negated=True).probability == pytest.approx(0.30)


@pytest.mark.parametrize(
    ("text", "point"),
    [("probably not", 0.265), ("not likely", 0.25), ("not expected", 0.30), ("we doubt", 0.25)],
)
def test_explicit_negated_entries(text: str, point: float) -> None:
    phrase = lookup(text)
    assert phrase.text == text
    assert phrase.scale != "Derived"
    assert phrase.probability == pytest.approx(point)


@pytest.mark.parametrize(
    ("text", "inner"),
    [
        ("not very likely", "very likely"),
        ("not highly probable", "highly probable"),
        ("very likely not", "very likely"),
        ("likely not", "likely"),
        ("certainly not", "certainly"),
        ("might not", "might"),
        ("It is not the most likely scenario", "the most likely scenario"),
    ],
)
def test_derived_complement(text: str, inner: str) -> None:
    base = LEXICON[inner]
    phrase = lookup(text)
    assert phrase.scale == "Derived"
    assert phrase.weak is True
    assert phrase.probability == pytest.approx(1 - base.probability)
    assert (phrase.low, phrase.high) == pytest.approx((1 - base.high, 1 - base.low))
    assert phrase.citation == f"complement of '{inner}' ({base.citation})"


def test_negated_true_on_derived_negation_restores_original() -> None:
    est = estimate("not very likely", negated=True)
    assert est.phrase.scale == "Derived"
    assert est.probability == pytest.approx(LEXICON["very likely"].probability)
    assert (est.low, est.high) == pytest.approx((0.80, 0.95))


def test_double_negation_not_unlikely_is_litotes_not_complement() -> None:
    phrase = lookup("not unlikely")
    assert phrase.scale == "House reading"
    assert phrase.weak is True
    assert (phrase.probability, phrase.low, phrase.high) == pytest.approx((0.55, 0.45, 0.70))
    assert phrase.probability != pytest.approx(1 - LEXICON["unlikely"].probability)
    assert "litotes" in phrase.citation
    est = estimate("not unlikely", negated=True)
    assert (est.probability, est.low, est.high) == pytest.approx((0.45, 0.30, 0.55))


def test_not_impossible_is_low_not_certain() -> None:
    phrase = lookup("It's not impossible")
    assert phrase.text == "not impossible"
    assert phrase.weak is True
    assert (phrase.probability, phrase.low, phrase.high) == pytest.approx((0.15, 0.02, 0.45))


def test_not_certain_is_not_zero() -> None:
    assert lookup("not certain").probability == pytest.approx(0.5)


@pytest.mark.parametrize("text", ["not highly unlikely", "not little chance", "could not"])
def test_no_complement_for_negated_negatives_or_capability(text: str) -> None:
    # Negating a negatively worded phrase is litotes; "could not" is inability.
    assert find(text) is None


# --------------------------------------------------------------------------------------
# normalize / find / lookup
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Very   UNLIKELY  ", "very unlikely"),
        ("It\u2019s unlikely.", "it's unlikely"),
        ("\u201cProbably not\u201d", "probably not"),
        ("likely,\n", "likely"),
        ("\tseems\u00a0unlikely", "seems unlikely"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("UNLIKELY", "unlikely"),
        (f"it{RSQUO}s unlikely", "unlikely"),
        ("It is unlikely", "unlikely"),
        ("is expected", "expected"),
        ("it is expected that", "expected"),
        ("that is likely", "likely"),
        ("are   likely", "likely"),
        ("is thought to be", "thought to be"),
        ("unlikely to", "unlikely"),
        ("It isn't likely", "not likely"),
        (f"It wasn{RSQUO}t expected", "not expected"),
        ('"The most likely scenario"', "the most likely scenario"),
    ],
)
def test_find_tolerates_case_quotes_whitespace_copulas(text: str, key: str) -> None:
    phrase = find(text)
    assert phrase is not None, text
    assert phrase.text == key


def test_find_unknown_returns_none() -> None:
    assert find("") is None
    assert find("flibbertigibbet") is None


def test_lookup_unknown_names_the_phrase() -> None:
    with pytest.raises(UnknownPhrase, match="flibbertigibbet") as info:
        lookup("flibbertigibbet")
    assert isinstance(info.value, ValueError)
    assert info.value.phrase == "flibbertigibbet"


def test_lookup_suggests_close_phrases() -> None:
    with pytest.raises(UnknownPhrase) as info:
        lookup("unlikly")
    assert "unlikely" in info.value.suggestions
    assert "'unlikely'" in str(info.value)


def test_estimate_unknown_raises() -> None:
    with pytest.raises(UnknownPhrase):
        estimate("would")


# --------------------------------------------------------------------------------------
# Plain modals (issue 18): house readings on the ICD 203 bands, never found by phrases_in
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "point", "band"),
    [
        ("will", "will", 0.85, (0.75, 0.95)),
        ("should", "should", 0.70, (0.55, 0.80)),
        ("is set to", "set to", 0.80, (0.65, 0.90)),
        ("is on course to", "on course to", 0.70, (0.55, 0.80)),
        ("is bound to", "bound to", 0.90, (0.80, 0.95)),
    ],
)
def test_plain_modals_have_house_readings(
    text: str, key: str, point: float, band: tuple[float, float]
) -> None:
    phrase = lookup(text)
    assert phrase.text == key
    assert (phrase.probability, phrase.low, phrase.high) == pytest.approx((point, *band))
    assert phrase.scale == "House reading"
    assert phrase.weak
    assert "ICD 203" in phrase.citation


def test_plain_modals_negate_to_their_complement() -> None:
    assert estimate("will", negated=True).probability == pytest.approx(0.15)
    assert find("will not") is not None
    assert find("will not").probability == pytest.approx(0.15)  # type: ignore[union-attr]


def test_phrases_in_never_finds_a_plain_modal() -> None:
    sentence = "Prices will rise and wages should follow; rates are set to fall, bound to."
    assert phrases_in(sentence) == []
    assert [p.text for _, _, p in phrases_in("Prices will probably rise.")] == ["probably"]


# --------------------------------------------------------------------------------------
# phrases_in, on sentences from the seed article (shared/seeds/000_67102e3550562e4c.txt)
# --------------------------------------------------------------------------------------


def matches(sentence: str) -> list[tuple[str, str]]:
    """(text as it appears in the sentence, canonical phrase) for each match."""
    found = phrases_in(sentence)
    starts = [start for start, _, _ in found]
    assert starts == sorted(starts)
    for (_, end, _), (start, _, _) in itertools.pairwise(found):
        assert end <= start, "overlapping matches"
    return [(sentence[start:end], phrase.text) for start, end, phrase in found]


def test_phrases_in_unlikely_with_offsets() -> None:
    sentence = (
        "Regardless, what is unlikely is that the deal will deliver full "
        "denuclearization as a first step."
    )
    found = phrases_in(sentence)
    assert len(found) == 1
    start, end, phrase = found[0]
    assert (start, end) == (20, 28)
    assert sentence[start:end] == "unlikely"
    assert phrase is LEXICON["unlikely"]


def test_phrases_in_could_and_seems_unlikely() -> None:
    sentence = (
        "There is some speculation that talks could be jump-started by the removal of "
        "National Security Advisor John Bolton because the latter was wary of negotiations "
        "and concessions to North Korea, but this seems unlikely."
    )
    assert matches(sentence) == [("could", "could"), ("seems unlikely", "seems unlikely")]


def test_phrases_in_most_likely_scenario_longest_wins() -> None:
    sentence = (
        "The most likely scenario is that a deal will remain out of reach before the end "
        f"of President Trump{RSQUO}s first term."
    )
    found = phrases_in(sentence)
    assert [(sentence[s:e], p.text) for s, e, p in found] == [
        ("The most likely scenario", "the most likely scenario")
    ]
    assert found[0][:2] == (0, 24)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "At this point, Mr. Trump still appears poised for a second term in the White House.",
            [("appears poised", "appears poised")],
        ),
        (
            "It is unlikely that a deal or lack thereof would significantly affect his "
            "reelection chances.",
            [("unlikely", "unlikely")],
        ),
        (
            f"If he is formally nominated, Mr. Beigen{RSQUO}s confirmation process could "
            "move quickly through the Senate, but it is expected that he will retain his "
            "role as chief of the negotiating team.",
            [("could", "could"), ("expected", "expected")],
        ),
        (
            "The U.S. negotiations are led by Steve Beigen, who is thought to be the next "
            "deputy secretary.",
            [("thought to be", "thought to be")],
        ),
        (
            "Alternatively, they could double down on concessions, hoping the president "
            "will put more on the table during his reelection campaign, but at the moment, "
            "this scenario is less probable.",
            [("could", "could"), ("less probable", "less probable")],
        ),
        (
            "The fate of a new round of negotiations between U.S. and North Korean leaders "
            "looks uncertain",
            [("looks uncertain", "looks uncertain")],
        ),
        (
            f"The timing of Mr. Bolton{RSQUO}s departure is probably a coincidence, not "
            "the product of cause and effect.",
            [("probably", "probably")],
        ),
        (
            "The North Korean strategy may be to pressure the U.S. into accepting a deal "
            "on less demanding terms.",
            [("may", "may")],
        ),
        (
            "Some believe that the U.S. framework has moved away from complete "
            "denuclearization before normalization and a peace treaty, which is perhaps "
            "the case.",
            [("perhaps", "perhaps")],
        ),
    ],
)
def test_phrases_in_seed_sentences(sentence: str, expected: list[tuple[str, str]]) -> None:
    assert matches(sentence) == expected


def test_phrases_in_longest_match_inside_sentence() -> None:
    assert matches("A deal is Very  Unlikely now.") == [("Very  Unlikely", "very unlikely")]
    assert matches("It is not unlikely.") == [("not unlikely", "not unlikely")]
    # Overlapping candidates: the longer one wins even when it starts later.
    assert matches("Talks are probably not very likely to resume.") == [
        ("not very likely", "not very likely")
    ]
    assert matches("It is almost certainly not a coincidence.") == [
        ("almost certainly not", "almost certainly not")
    ]


def test_phrases_in_whole_words_only() -> None:
    assert matches("If something affects the likeliness of a second Trump term") == []
    assert matches("Maybelline is unlikelyish.") == []


def test_phrases_in_folds_negation() -> None:
    assert matches("A deal is not very likely.") == [("not very likely", "not very likely")]
    assert matches(f"A deal isn{RSQUO}t likely.") == [(f"isn{RSQUO}t likely", "not likely")]
    assert matches("It is likely not a coincidence.") == [("likely not", "likely not")]
    # A negation with no reading hides the inner phrase instead of reversing its polarity.
    assert matches("It is not highly unlikely.") == []
    assert matches("They could not agree.") == []


def test_phrases_in_skips_month_and_attributive_certain() -> None:
    assert matches("In May 2019, certain officials said talks were unlikely.") == [
        ("unlikely", "unlikely")
    ]
    assert matches("May talks resume? It is certain.") == [("May", "may"), ("certain", "certain")]


def test_phrases_in_ignores_will() -> None:
    assert matches("A deal will remain out of reach.") == []


@pytest.mark.parametrize(
    "sentence",
    [
        "It is NOT LIKELY that the Bank will cut, and a rise Seems Unlikely too.",
        "Certain officials think it is almost certainly not over; May is a month.",
        "We think the chances are slight, but there is a real possibility it could slip.",
    ],
)
def test_phrases_in_ascii_path_agrees_with_the_general_one(sentence: str) -> None:
    """An ASCII sentence is read on its lower-cased copy; one with any other character word
    by word.  A closing curly quote (no word, outside ASCII) sends the same sentence down
    the general path: the phrases and offsets must be the same."""
    ascii_found = phrases_in(sentence)
    general_found = phrases_in(sentence + "\u201d")
    assert ascii_found == general_found
    assert ascii_found  # each sentence has phrases to find
