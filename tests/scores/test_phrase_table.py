"""The phrase table counts each scored forecast under the phrase of the estimate it opened
with (kept by the live scores, so it counts a resolution the moment it commits)."""

import datetime as dt

import pytest

from forecasts.models import Basis
from forecasts.scores.sums import scope_phrase_table
from tests.factories import EstimateFactory, ForecastFactory, ResolutionFactory

pytestmark = pytest.mark.django_db

MADE = dt.date(2024, 1, 10)


def _forecast(*estimates, outcome="YES"):
    """A resolved forecast with ``estimates``: (days after made_on, phrase or None)."""
    forecast = ForecastFactory(estimate=None, made_on=MADE)
    for days, phrase in estimates:
        EstimateFactory(
            forecast=forecast,
            probability=0.2 if phrase else 0.6,
            basis=Basis.PHRASE if phrase else Basis.NUMBER,
            phrase=phrase or "",
            made_on=MADE + dt.timedelta(days=days),
        )
    ResolutionFactory(forecast=forecast, outcome=outcome)
    return forecast


def _counts():
    return {
        row.phrase: (row.count, row.happened) for row in scope_phrase_table(kind="all", scope_id=0)
    }


def test_a_forecast_that_opened_with_a_number_is_not_counted_under_a_later_phrase():
    _forecast((0, None), (30, "unlikely"))
    assert _counts() == {}


def test_a_forecast_counts_under_the_phrase_it_opened_with_not_a_later_one():
    _forecast((0, "unlikely"), (30, "likely"), (60, None), outcome="NO")
    assert _counts() == {"unlikely": (1, 0)}


def test_estimates_made_the_same_day_are_taken_in_the_order_they_were_recorded():
    # The number was recorded first (lower id), so it is the opening estimate even
    # though the phrase carries the same date.
    _forecast((0, None), (0, "unlikely"))
    _forecast((0, "likely"), (0, None))
    assert _counts() == {"likely": (1, 1)}


def test_the_first_estimate_is_found_by_date_not_by_the_order_of_recording():
    forecast = _forecast((30, "likely"))
    EstimateFactory(forecast=forecast, probability=0.6, basis=Basis.NUMBER, phrase="", made_on=MADE)
    assert _counts() == {}


def test_a_negated_opening_phrase_is_not_counted_under_its_phrase():
    forecast = ForecastFactory(estimate=None, made_on=MADE)
    EstimateFactory(
        forecast=forecast,
        probability=0.8,
        basis=Basis.PHRASE,
        phrase="unlikely",
        negated=True,
        made_on=MADE,
    )
    EstimateFactory(
        forecast=forecast,
        probability=0.2,
        basis=Basis.PHRASE,
        phrase="unlikely",
        made_on=MADE + dt.timedelta(days=5),
    )
    ResolutionFactory(forecast=forecast, outcome="YES")
    assert _counts() == {}


def test_an_opening_phrase_stated_once_the_outcome_was_known_is_not_counted():
    _forecast((30, "unlikely"))
    # Its only phrase was written the day the outcome became known: not scored, and not
    # in the table (hindsight is not a forecast).
    late = ForecastFactory(estimate=None, made_on=MADE)
    EstimateFactory(
        forecast=late, probability=0.8, basis=Basis.PHRASE, phrase="likely", made_on=MADE
    )
    ResolutionFactory(forecast=late, outcome="YES", known_on=MADE)
    assert _counts() == {"unlikely": (1, 1)}
