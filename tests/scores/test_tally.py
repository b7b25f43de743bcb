"""A scope's tally (how many forecasts at each probability and phrase, how many happened)
gives the calibration bins, the Murphy decomposition and the phrase table that the
forecasts themselves give: the live snapshots are built from tallies, the nightly one
from the forecasts."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from forecasts.scores import maths
from forecasts.scores.additive import EMPTY_TALLY, Tally, calibration, murphy, phrase_counts
from tests.scores.strategies import PROPERTY, exactly, scored_forecasts

PHRASES = ["", "likely", "unlikely", "almost certainly"]


def _tally(probabilities: list[float], outcomes: list[int], phrases: list[str]) -> Tally:
    """The tally of these forecasts, its rows in a shuffled-looking but fixed order."""
    counts: Counter[tuple[float, str]] = Counter()
    yes: Counter[tuple[float, str]] = Counter()
    for p, o, phrase in zip(probabilities, outcomes, phrases, strict=True):
        counts[(p, phrase)] += 1
        yes[(p, phrase)] += o
    keys = sorted(counts, key=lambda key: (key[1], -key[0]))
    return Tally.of([(p, phrase, counts[(p, phrase)], yes[(p, phrase)]) for p, phrase in keys])


@PROPERTY
@given(scored_forecasts(), st.data())
def test_a_tally_gives_the_forecasts_own_calibration_and_murphy_decomposition(forecasts, data):
    probabilities, outcomes = forecasts
    phrases = data.draw(
        st.lists(st.sampled_from(PHRASES), min_size=len(probabilities), max_size=len(probabilities))
    )
    tally = _tally(probabilities, outcomes, phrases)
    assert len(tally) == len(set(zip(probabilities, phrases, strict=True)))

    bins = calibration(tally)
    expected_bins = maths.calibration_bins(probabilities, outcomes)
    assert [b.count for b in bins] == [b.count for b in expected_bins]
    for got, expected in zip(bins, expected_bins, strict=True):
        assert (got.lower, got.upper) == (expected.lower, expected.upper)
        for field in ("mean_probability", "observed_frequency", "interval_low", "interval_high"):
            if getattr(expected, field) is None:
                assert getattr(got, field) is None
            else:
                assert getattr(got, field) == exactly(getattr(expected, field))

    decomposition = murphy(tally)
    expected = maths.murphy_decomposition(probabilities, outcomes)
    assert decomposition.reliability == exactly(expected.reliability)
    assert decomposition.resolution == exactly(expected.resolution)
    assert decomposition.uncertainty == exactly(expected.uncertainty)

    by_phrase = phrase_counts(tally)
    for phrase in PHRASES[1:]:
        chosen = [o for o, said in zip(outcomes, phrases, strict=True) if said == phrase]
        assert by_phrase.get(phrase, (0, 0)) == ((len(chosen), sum(chosen)) if chosen else (0, 0))
    assert "" not in by_phrase


def test_an_empty_tally_has_empty_bins_and_no_phrases():
    assert Tally.of([]) is EMPTY_TALLY
    assert not EMPTY_TALLY
    assert [b.count for b in calibration(EMPTY_TALLY)] == [0] * 10
    assert phrase_counts(EMPTY_TALLY) == {}
