"""The invariants the database guards, and the lifecycle derived from data."""

import datetime as dt
import math

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from forecasts.core import services as core_services
from forecasts.models import Estimate, Forecast, Resolution, Status
from tests.factories import EstimateFactory, ForecastFactory, ResolutionFactory

pytestmark = pytest.mark.django_db


def assert_rejected_by_database(obj):
    """Saving without validation must fail in the database itself, leaving nothing behind."""
    model = type(obj)
    before = model.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        obj.save()
    assert model.objects.count() == before


@pytest.mark.parametrize("probability", [1.5, -0.1, math.nan, math.inf])
def test_estimate_probability_outside_unit_interval_is_rejected(probability):
    forecast = ForecastFactory()
    estimate = Estimate(
        forecast=forecast, probability=probability, basis="number", made_on=forecast.made_on
    )

    with pytest.raises(ValidationError) as excinfo:
        estimate.full_clean()
    assert "A probability must be a number from 0 to 1" in str(excinfo.value)
    assert_rejected_by_database(estimate)


@pytest.mark.parametrize("probability", [0.0, 0.5, 1.0])
def test_estimate_probability_at_the_edges_is_accepted(probability):
    forecast = ForecastFactory(estimate=None)
    estimate = Estimate(
        forecast=forecast, probability=probability, basis="number", made_on=forecast.made_on
    )
    estimate.full_clean()
    estimate.save()
    assert Estimate.objects.get(pk=estimate.pk).probability == probability


def test_estimate_range_must_bracket_the_probability():
    forecast = ForecastFactory()
    estimate = Estimate(
        forecast=forecast,
        probability=0.7,
        low=0.8,
        high=0.9,
        basis="number",
        made_on=forecast.made_on,
    )
    with pytest.raises(ValidationError, match="0 ≤ low ≤ probability ≤ high ≤ 1"):
        estimate.full_clean()
    assert_rejected_by_database(estimate)


def test_phrase_estimate_must_name_its_phrase():
    forecast = ForecastFactory()
    estimate = Estimate(
        forecast=forecast, probability=0.2, basis="phrase", phrase="", made_on=forecast.made_on
    )
    with pytest.raises(ValidationError, match="names its phrase"):
        estimate.full_clean()
    assert_rejected_by_database(estimate)


def test_deadline_before_the_forecast_was_made_is_rejected():
    forecast = ForecastFactory.build(
        made_on=dt.date(2024, 5, 1),
        resolve_by=dt.date(2024, 4, 30),
        source=ForecastFactory().source,
        forecaster=ForecastFactory().forecaster,
    )
    with pytest.raises(
        ValidationError, match="deadline cannot be before the date the forecast was made"
    ):
        forecast.full_clean()
    assert_rejected_by_database(forecast)


def test_deadline_on_the_day_it_was_made_is_allowed():
    forecast = ForecastFactory(made_on=dt.date(2024, 5, 1), resolve_by=dt.date(2024, 5, 1))
    assert forecast.pk


def test_second_current_resolution_is_rejected():
    first = ResolutionFactory()
    second = Resolution(
        forecast=first.forecast,
        outcome="NO",
        known_on=first.known_on,
        evidence_note="Changed my mind.",
    )
    with pytest.raises(ValidationError, match="already has a current resolution"):
        second.full_clean()
    assert_rejected_by_database(second)
    assert first.forecast.resolutions.filter(is_current=True).get() == first


def test_superseded_resolutions_do_not_count_against_the_rule():
    first = ResolutionFactory(is_current=False)
    second = ResolutionFactory(forecast=first.forecast, outcome="NO")
    assert {r.pk for r in first.forecast.resolutions.all()} == {first.pk, second.pk}


def test_resolution_outcome_must_be_yes_no_or_annulled():
    forecast = ForecastFactory()
    resolution = Resolution(
        forecast=forecast, outcome="MAYBE", known_on=forecast.resolve_by, evidence_note="x"
    )
    with pytest.raises(ValidationError, match="not a valid choice"):
        resolution.full_clean()
    assert_rejected_by_database(resolution)


def test_resolution_needs_evidence():
    forecast = ForecastFactory()
    resolution = Resolution(forecast=forecast, outcome="YES", known_on=forecast.resolve_by)
    with pytest.raises(ValidationError, match="needs evidence"):
        resolution.full_clean()
    assert_rejected_by_database(resolution)


def test_correction_must_give_a_reason():
    first = ResolutionFactory(is_current=False)
    correction = Resolution(
        forecast=first.forecast,
        outcome="NO",
        known_on=first.known_on,
        evidence_note="x",
        supersedes=first,
    )
    with pytest.raises(ValidationError, match="correction must give its reason"):
        correction.full_clean()
    assert_rejected_by_database(correction)


def test_quote_offsets_must_be_consistent():
    forecast = ForecastFactory()
    forecast.quote_start, forecast.quote_end = 10, 5
    with pytest.raises(ValidationError, match="end after start"):
        forecast.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        forecast.save()


class TestLifecycle:
    AT = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)

    @pytest.fixture
    def forecasts(self):
        return {
            "draft": ForecastFactory(published_at=None, resolve_by=dt.date(2024, 5, 1)),
            "open": ForecastFactory(resolve_by=dt.date(2024, 6, 1)),  # deadline is today
            "due": ForecastFactory(resolve_by=dt.date(2024, 5, 31)),
            "resolved": ResolutionFactory(
                outcome="NO", forecast__resolve_by=dt.date(2024, 5, 1)
            ).forecast,
            "annulled": ResolutionFactory(outcome="ANNULLED").forecast,
        }

    def test_each_state_has_its_queryset(self, forecasts):
        at = self.AT
        assert list(Forecast.objects.drafts()) == [forecasts["draft"]]
        assert list(Forecast.objects.open(at=at)) == [forecasts["open"]]
        assert list(Forecast.objects.due(at=at)) == [forecasts["due"]]
        assert list(Forecast.objects.resolved()) == [forecasts["resolved"]]
        assert list(Forecast.objects.annulled()) == [forecasts["annulled"]]

    def test_annotated_status_agrees_with_the_querysets(self, forecasts):
        statuses = {f.pk: f.status for f in Forecast.objects.with_status(at=self.AT)}
        assert statuses == {forecast.pk: name for name, forecast in forecasts.items()}
        for name in Status.values:
            assert {f.pk for f in Forecast.objects.with_state(name, at=self.AT)} == {
                forecasts[name].pk
            }

    def test_a_correction_changes_the_state(self, forecasts):
        resolved = forecasts["resolved"]
        # A correction is a new resolution superseding the current one (never an update).
        core_services.forecast_resolve(
            forecast=resolved,
            outcome="ANNULLED",
            known_on=resolved.current_resolution().known_on,
            note="The question was void.",
            correction_reason="Annulled on review.",
        )
        assert (
            Forecast.objects.with_status(at=self.AT).get(pk=resolved.pk).status == Status.ANNULLED
        )

    def test_due_is_measured_in_the_site_time_zone(self, settings):
        settings.TIME_ZONE = "Pacific/Auckland"  # UTC+12 in June
        forecast = ForecastFactory(resolve_by=dt.date(2024, 6, 1))
        late_utc_evening = dt.datetime(2024, 6, 1, 13, tzinfo=dt.UTC)  # already 2 June in Auckland
        assert list(Forecast.objects.due(at=late_utc_evening)) == [forecast]
        settings.TIME_ZONE = "UTC"
        assert list(Forecast.objects.due(at=late_utc_evening)) == []

    def test_standing_probability_is_the_latest_estimate(self):
        forecast = ForecastFactory()
        EstimateFactory(forecast=forecast, probability=0.4, made_on=dt.date(2024, 3, 1))
        EstimateFactory(forecast=forecast, probability=0.9, made_on=dt.date(2024, 2, 1))
        assert Forecast.objects.with_status(at=self.AT).get(pk=forecast.pk).probability == 0.4

    def test_unknown_state_is_a_clear_error(self):
        with pytest.raises(ValueError, match="Unknown status 'pending'"):
            Forecast.objects.with_state("pending", at=self.AT)


def test_a_forecast_cannot_be_moved_after_its_own_estimates():
    forecast = ForecastFactory(made_on=dt.date(2024, 1, 10))  # its estimate is of that day
    forecast.made_on = dt.date(2024, 2, 1)
    with pytest.raises(ValidationError) as refused:
        forecast.full_clean()
    assert "before 2024-02-01" in refused.value.message_dict["made_on"][0]
    forecast.made_on = dt.date(2024, 1, 1)  # earlier is fine
    forecast.full_clean()
