"""One proposition per event (issue 18): restatements and complements in one paragraph are
merged into one candidate, keeping the author's own probability."""

import dataclasses
import datetime as dt

import pytest

from forecasts.extraction import events
from forecasts.extraction.pipeline import Candidate, extract, proposed

PUBLISHED = dt.date(2025, 1, 8)


def test_a_race_and_its_complement_are_one_candidate_with_the_stated_number():
    text = (
        "Our model gives Joe Biden an 88% chance of beating Donald Trump in November. "
        "Thus Trump will win."
    )
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.statement == "Joe Biden will beat Donald Trump in November."
    assert candidate.probability == pytest.approx(0.88)
    assert candidate.stated_probability == pytest.approx(0.88)
    assert "one event with 'Trump will win.' (85%): merged" in candidate.reasons


def test_the_authors_view_wins_over_a_reported_one_in_a_race():
    text = (
        "Pollsters give Donald Trump a 65% chance of winning. "
        "I think Joe Biden will beat Donald Trump."
    )
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.statement == "Joe Biden will beat Donald Trump."
    assert candidate.probability == pytest.approx(0.85)
    assert candidate.is_proposed


def test_a_restatement_is_one_candidate_with_the_hedge_over_the_plain_modal():
    text = "Unemployment is likely to rise next year. We think unemployment will rise next year."
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.statement == "Unemployment will rise next year."
    assert candidate.phrase == "likely"
    assert candidate.probability == pytest.approx(0.70)
    assert candidate.start == 0


def test_the_first_wins_when_equal():
    text = "Unemployment will rise next year. Indeed, next year unemployment will rise."
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.statement == "Unemployment will rise next year."
    assert candidate.start == 0
    assert "one event with 'Next year unemployment will rise.' (85%): merged" in (candidate.reasons)


def test_will_and_will_not_are_one_event_the_number_wins():
    text = (
        "The Fed will cut rates in June. "
        "There is a 40% chance that the Fed will not cut rates in June."
    )
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.statement == "The Fed will cut rates in June."
    assert candidate.negated
    assert candidate.stated_probability == pytest.approx(0.40)
    assert candidate.probability == pytest.approx(0.60)


def test_a_claim_and_its_detail_after_a_colon_are_one_forecast():
    text = (
        "We think foldables will remain a niche product next year: it is very likely that "
        "they will make up less than 5 per cent of smartphone sales in 2026."
    )
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.phrase == "very likely"
    assert candidate.statement == (
        "They will make up less than 5 per cent of smartphone sales in 2026."
    )
    assert candidate.probability == pytest.approx(0.875)


def test_a_winner_and_a_loser_named_in_one_paragraph_are_one_contest():
    text = "Rovers will win the final on 23 May. Wanderers, for all their spirit, will lose."
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.statement == "Rovers will win the final on 23 May."
    assert "one event with 'Wanderers will lose.' (85%): merged" in candidate.reasons
    # Something else won and something else lost: two events.
    text = "Norvik will win the contract. Halcyon will lose the crown."
    assert len(extract(text, PUBLISHED)) == 2


def test_a_clause_that_says_it_restates_the_one_before_is_never_kept():
    text = (
        "Gold will hold above $3,000 an ounce through the end of the year; put differently, "
        "I do not expect it to fall below that level."
    )
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.statement == (
        "Gold will hold above $3,000 an ounce through the end of the year."
    )
    assert candidate.probability == pytest.approx(0.85)
    text = "Norvik is on course to overtake Halcyon. In other words, Halcyon will lose the crown."
    (candidate,) = extract(text, PUBLISHED)
    assert candidate.statement == "Norvik will overtake Halcyon."
    assert candidate.phrase == "on course to"


def test_the_same_event_in_other_paragraphs_or_other_events_are_not_merged():
    text = (
        "Unemployment is likely to rise next year.\n\n"
        "We think that next year unemployment will rise. Wages will fall next year."
    )
    assert [c.statement for c in extract(text, PUBLISHED)] == [
        "Unemployment will rise next year.",
        "Next year unemployment will rise.",
        "Wages will fall next year.",
    ]
    two_races = "Joe Biden will beat Donald Trump. Kamala Harris will win the primary."
    assert len(proposed(two_races, PUBLISHED)) == 2


def _candidate(**changes: object) -> Candidate:
    (base,) = extract("Prices will rise in 2025.", PUBLISHED)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_rank_orders_own_proposed_number_hedge():
    plain = _candidate()
    hedged = _candidate(phrase="likely")
    number = _candidate(phrase="", stated_probability=0.6)
    reported = _candidate(phrase="", stated_probability=0.6, reasons=(events.REPORTED,))
    unproposed = _candidate(phrase="", stated_probability=0.6, confidence=0.3)
    order = sorted([plain, reported, number, unproposed, hedged], key=events.rank)
    assert order == [reported, unproposed, plain, hedged, number]


def test_a_pull_quote_is_replaced_by_the_fuller_quote_only_on_a_tie():
    short, full = _candidate(end=10), _candidate(end=40)
    assert events.replaces(full, short)
    assert not events.replaces(short, full)
    assert not events.replaces(_candidate(end=80), _candidate(end=10, phrase="likely"))


def test_merge_keeps_a_lone_candidate_and_the_empty_list():
    one = [_candidate()]
    assert events.merge("Prices will rise in 2025.", one) == one
    assert events.merge("", []) == []
