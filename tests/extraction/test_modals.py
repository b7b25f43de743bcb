"""Plain modal forecasts (issue 18): "will", "should", "is set to", "is on course to", "is
bound to" by the author are read with their house readings; reports, relative clauses,
plans, schedules, advice and questions are kept back with the reason."""

import datetime as dt

import pytest

from forecasts.core import phrases
from forecasts.extraction.modals import RELATIVE, modal_proposition, plain_modals
from forecasts.extraction.pipeline import PROPOSE_AT, Candidate, extract

PUBLISHED = dt.date(2025, 1, 8)

REPORT = "reports someone else's view, not the author's"


def only(text: str) -> Candidate:
    found = extract(text, PUBLISHED)
    assert len(found) == 1, [c.statement for c in found]
    return found[0]


@pytest.mark.parametrize(
    ("text", "statement", "phrase", "probability"),
    [
        # The examples, as columnists write them.
        (
            "The recession, when it arrives, should be mild.",
            "The recession will be mild.",
            "should",
            0.70,
        ),
        (
            "Central banks should be able to cut rates by the summer, allowing a recovery "
            "to begin late this year.",
            "Central banks will be able to cut rates by the summer, allowing a recovery to "
            "begin late this year.",
            "should",
            0.70,
        ),
        (
            "The energy crisis will continue to weigh heavily on real incomes.",
            "The energy crisis will continue to weigh heavily on real incomes.",
            "will",
            0.85,
        ),
        ("Inflation is set to fall below 2% by June.", "Inflation will fall below 2% by June.",
         "set to", 0.80),
        ("The club is on course to win the league this season.",
         "The club will win the league this season.", "on course to", 0.70),
        ("Rates are bound to rise next year.", "Rates will rise next year.", "bound to", 0.90),
        ("Thus Trump will win the election.", "Trump will win the election.", "will", 0.85),
        ("We think foldables will remain a niche product next year.",
         "Foldables will remain a niche product next year.", "will", 0.85),
        ("Attendance should be close to the stadium's capacity of 62,000.",
         "Attendance will be close to the stadium's capacity of 62,000.", "should", 0.70),
        ("It'll rain on Sunday.", "It will rain on Sunday.", "will", 0.85),
        ("Bond yields should drift lower over the next six months.",
         "Bond yields will drift lower over the next six months.", "should", 0.70),
        ("The alliance meets on 3 December, and its members should agree there to extend "
         "the mission.", "Its members will agree there to extend the mission.", "should", 0.70),
        ("The new line should be completed by June.", "The new line will be completed by June.",
         "should", 0.70),
    ],
)  # fmt: skip
def test_the_authors_plain_modal_is_proposed_with_its_house_reading(
    text, statement, phrase, probability
):
    candidate = only(text)
    assert candidate.statement == statement
    assert candidate.phrase == phrase
    assert candidate.probability == pytest.approx(probability)
    assert candidate.probability == pytest.approx(phrases.lookup(phrase).probability)
    assert not candidate.negated
    assert candidate.weak
    assert candidate.is_proposed
    assert f"plain '{phrase}': the author states no probability" in candidate.reasons[0]


@pytest.mark.parametrize(
    ("text", "statement", "phrase", "probability"),
    [
        ("The Fed will not cut rates in March.", "The Fed will cut rates in March.", "will",
         0.15),
        ("The Fed won't cut rates in March.", "The Fed will cut rates in March.", "will", 0.15),
        ("The bill will fail to pass the Senate.", "The bill will pass the Senate.", "will",
         0.15),
        ("Prices shouldn't rise much this year.", "Prices will rise much this year.", "should",
         0.30),
        ("I don't think the Fed will cut rates this year.",
         "The Fed will cut rates this year.", "will", 0.15),
        ("But the manager will not survive the summer, whatever the board said on Monday.",
         "The manager will survive the summer.", "will",
         0.15),
        ("There will be no peace treaty this year.", "There will be a peace treaty this year.",
         "will", 0.15),
        ("There will be no rate cuts in 2025.", "There will be rate cuts in 2025.", "will",
         0.15),
        ("Solid-state batteries, the great hope for thinner phones, will not reach "
         "mass-market cars before 2030.",
         "Solid-state batteries will reach mass-market cars before 2030.", "will", 0.15),
    ],
)  # fmt: skip
def test_a_negative_modal_gives_the_complement_for_the_positive_statement(
    text, statement, phrase, probability
):
    candidate = only(text)
    assert candidate.statement == statement
    assert candidate.phrase == phrase
    assert candidate.negated
    assert candidate.probability == pytest.approx(probability)
    reading = phrases.estimate(phrase, negated=True)
    assert (candidate.low, candidate.high) == pytest.approx((reading.low, reading.high))
    assert candidate.is_proposed


@pytest.mark.parametrize(
    ("text", "statement", "reason"),
    [
        ("The IMF says growth will slow next year.", "Growth will slow next year.", REPORT),
        ("Markets think rates will fall in June.", "Rates will fall in June.", REPORT),
        ("Growth will slow next year, the minister said.",
         "Growth will slow next year, the minister said.", REPORT),
        ("The company that will build the plant is based in Ohio.",
         "The company that will build the plant is based in Ohio.",
         "'will' in a relative clause describes a noun; it forecasts nothing"),
        ("The meeting will be held on Tuesday.", "The meeting will be held on Tuesday.",
         "describes a schedule (an arranged event), not a judgment"),
        ("I will publish my scores here.", "I will publish my scores here.",
         "the author's own plan or promise, not a forecast"),
        ("The government should raise taxes.", "The government will raise taxes.",
         "'should' may give advice (what ought to happen), not a forecast"),
        ("Who will pay for the new tram line?", "Who will pay for the new tram line.",
         "a question, not a claim"),
        ("Why the coming recession should be a shallow one",
         "Why the coming recession will be a shallow one.",
         "a question or a headline, not a claim"),
        ("Commanders seem to believe that more fighting will improve their position.",
         "More fighting will improve their position.", REPORT),
        ("The headset will go on sale in Europe in May.",
         "The headset will go on sale in Europe in May.",
         "describes a schedule (an arranged event), not a judgment"),
        ("A cautious portfolio will look dull for a while.",
         "A cautious portfolio will look dull for a while.",
         "names no time it could be checked by ('for a while')"),
        ("Only time will tell.", "Only time will tell.",
         "an idiom ('time will tell', 'we will see whether'), not a forecast"),
        ("We will see whether the truce holds.", "We will see whether the truce holds.",
         "an idiom ('time will tell', 'we will see whether'), not a forecast"),
        ("Investors should buy bonds now.", "Investors will buy bonds now.",
         "'should' may give advice (what ought to happen), not a forecast"),
        ("Such adverts should be banned.", "Such adverts will be banned.",
         "'should' may give advice (what ought to happen), not a forecast"),
    ],
)  # fmt: skip
def test_doubtful_modals_are_kept_back_with_the_reason(text, statement, reason):
    candidate = only(text)
    assert candidate.statement == statement
    assert reason in candidate.reasons
    assert candidate.confidence < PROPOSE_AT
    assert not candidate.is_proposed


@pytest.mark.parametrize(
    "text",
    [
        "There is no political will to reform the system.",
        "The will to fight has gone.",
        "Will Smith has a new film out.",
        "Will the Fed cut rates?",
        "Should the Fed cut rates, the pound would fall.",
        "The deal would raise prices.",
        "The plan was set to the music of Bach.",
    ],
)
def test_what_is_no_plain_modal_is_not_read(text):
    assert extract(text, PUBLISHED) == []


def test_a_hedge_in_the_clause_speaks_before_the_modal():
    candidate = only("Inflation will probably fall below 2.5 per cent by the summer.")
    assert candidate.phrase == "probably"
    assert candidate.statement == "Inflation will fall below 2.5 per cent by the summer."
    candidate = only("It is unlikely that the match will be decided by penalties.")
    assert candidate.phrase == "unlikely"
    assert candidate.statement == "The match will be decided by penalties."


def test_the_main_clause_modal_speaks_before_the_relative_one():
    candidate = only("The firm that will build the line will finish it by June.")
    assert candidate.statement == "The firm that will build the line will finish it by June."
    assert candidate.probability == pytest.approx(0.85)
    assert candidate.is_proposed
    assert candidate.deadline == dt.date(2025, 6, 30)


def test_a_condition_is_kept_apart_from_the_modal_forecast():
    candidate = only("If the economy slows, the bank will cut rates before June.")
    assert candidate.statement == "The bank will cut rates before June."
    assert candidate.conditional
    assert candidate.condition == "The economy slows."
    assert candidate.is_proposed


def test_a_condition_split_at_its_last_comma_gives_the_modal_its_clause_back():
    candidate = only(
        "If the summit fails outright, fighting will resume in earnest in the spring, "
        "when the ground dries."
    )
    assert candidate.statement == (
        "Fighting will resume in earnest in the spring, when the ground dries."
    )
    assert candidate.condition == "The summit fails outright."
    assert candidate.conditional
    assert candidate.is_proposed


def test_two_modal_clauses_give_two_candidates():
    found = extract("Prices will rise in 2025, but wages will fall in 2026.", PUBLISHED)
    assert [(c.statement, c.deadline) for c in found] == [
        ("Prices will rise in 2025.", dt.date(2025, 12, 31)),
        ("Wages will fall in 2026.", dt.date(2026, 12, 31)),
    ]


def test_plain_modals_finds_offsets_and_marks_relative_clauses():
    sentence = "The plant that will close is old, and prices should rise."
    found = plain_modals(sentence, 100)
    assert [(sentence[h.start - 100 : h.end - 100], h.phrase.text, h.frame) for h in found] == [
        ("will", "will", RELATIVE),
        ("should", "should", ""),
    ]
    assert all(h.kind == "modal" for h in found)


def test_modal_proposition_in_the_condition_is_doubted():
    statement, doubts = modal_proposition("the bank cuts", -5, "will", "will")
    assert statement == "the bank cuts"
    assert doubts == ("the modal is in the condition, not in the main clause",)
