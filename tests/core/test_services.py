"""Writes: creating forecasts, recording estimates, resolving and correcting."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from forecasts.core import services as core_services
from forecasts.models import Estimate, Forecast, Resolution, ReviewerAssignment
from tests.factories import (
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MAY_1 = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def on_the_day_it_was_made(time_machine):
    """The forecasts below are recorded the day their source made them."""
    time_machine.move_to(MAY_1, tick=False)


def create(**overrides):
    fields = {
        "slug": "rain-tomorrow",
        "source": SourceFactory(),
        "forecaster": ForecasterFactory(),
        "statement": "It rains in Berlin on 2 May 2024.",
        "resolution_criteria": "YES if the DWD records rain at Tempelhof.",
        "made_on": dt.date(2024, 5, 1),
        "resolve_by": dt.date(2024, 5, 2),
        "publish": True,
        "probability": 0.6,
    }
    fields.update(overrides)
    return core_services.forecast_create(**fields)


@pytest.mark.usefixtures("on_the_day_it_was_made")
def test_forecast_with_a_stated_number():
    forecast = create()
    estimate = forecast.estimates.get()
    assert (estimate.probability, estimate.basis, estimate.phrase) == (0.6, "number", "")


@pytest.mark.usefixtures("on_the_day_it_was_made")
def test_forecast_with_a_phrase_that_qualified_the_opposite():
    forecast = create(probability=None, phrase="very likely", negated=True)
    estimate = forecast.estimates.get()
    assert estimate.basis == "phrase"
    assert estimate.negated
    # ICD 203 "very likely" is 80–95 % (point 0.875): the proposition gets 1 − that.
    assert estimate.probability == pytest.approx(0.125)
    assert estimate.low == pytest.approx(0.05)
    assert estimate.high == pytest.approx(0.2)


@pytest.mark.usefixtures("on_the_day_it_was_made")
def test_unknown_phrase_is_a_clear_error_and_nothing_is_stored():
    with pytest.raises(ValidationError, match="unknown probability phrase 'sorta maybe'"):
        create(probability=None, phrase="sorta maybe")
    assert Forecast.objects.count() == 0


@pytest.mark.usefixtures("on_the_day_it_was_made")
def test_both_or_neither_probability_and_phrase_is_refused():
    with pytest.raises(ValidationError, match="either a stated probability or a verbal phrase"):
        create(phrase="likely")
    with pytest.raises(ValidationError, match="either a stated probability or a verbal phrase"):
        create(probability=None)
    assert Forecast.objects.count() == 0


@pytest.mark.usefixtures("on_the_day_it_was_made")
def test_bad_probability_leaves_no_half_written_forecast():
    with pytest.raises(ValidationError, match="from 0 to 1"):
        create(probability=1.5)
    assert Forecast.objects.count() == 0
    assert Estimate.objects.count() == 0


@pytest.mark.usefixtures("on_the_day_it_was_made")
def test_estimate_cannot_predate_the_forecast():
    # Recorded today (1 May), for a forecast said to be made on 10 May.
    with pytest.raises(ValidationError, match="cannot predate the forecast"):
        create(made_on=dt.date(2024, 5, 10), resolve_by=dt.date(2024, 5, 12))
    assert Forecast.objects.count() == 0


@pytest.mark.usefixtures("on_the_day_it_was_made")
def test_an_estimate_is_never_back_dated():
    forecast = create()
    with pytest.raises(ValidationError, match="would back-date it"):
        core_services.estimate_record(
            forecast=forecast, probability=0.3, made_on=dt.date(2024, 4, 30)
        )
    assert forecast.estimates.count() == 1


@pytest.mark.usefixtures("on_the_day_it_was_made")
def test_a_later_estimate_stands(time_machine):
    forecast = create()
    time_machine.move_to(MAY_1 + dt.timedelta(days=1), tick=False)
    estimate = core_services.estimate_record(forecast=forecast, probability=0.3)
    assert estimate.made_on == dt.date(2024, 5, 2)
    assert forecast.latest_estimate().probability == 0.3


class TestResolve:
    def test_resolve_then_correct_keeps_history(self):
        forecast = ForecastFactory()
        reviewer = UserFactory()
        ReviewerAssignment.objects.create(forecast=forecast, reviewer=reviewer)
        first = core_services.forecast_resolve(
            forecast=forecast,
            outcome="YES",
            known_on=forecast.resolve_by,
            evidence_url="https://example.org/a",
            resolved_by=reviewer,
        )
        second = core_services.forecast_resolve(
            forecast=forecast,
            outcome="NO",
            known_on=forecast.resolve_by,
            note="The first report was wrong.",
            correction_reason="Misread the source.",
        )
        first.refresh_from_db()
        assert not first.is_current
        assert second.is_current
        assert second.supersedes == first
        assert forecast.current_resolution() == second
        assert Resolution.objects.filter(forecast=forecast).count() == 2

    def test_resolving_twice_without_a_reason_is_refused(self):
        resolution = core_services.forecast_resolve(
            forecast=ForecastFactory(),
            outcome="YES",
            known_on=dt.date(2024, 12, 31),
            note="x",
        )
        with pytest.raises(ValidationError, match="already resolved; to correct it"):
            core_services.forecast_resolve(
                forecast=resolution.forecast,
                outcome="NO",
                known_on=dt.date(2024, 12, 31),
                note="y",
            )
        assert Resolution.objects.get().outcome == "YES"

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"outcome": "MAYBE"}, "must be YES, NO or ANNULLED"),
            ({"known_on": dt.date(2023, 1, 1)}, "cannot be known before the forecast was made"),
            ({"note": ""}, "needs evidence"),
            ({"correction_reason": "oops"}, "Nothing to correct"),
            ({"evidence_url": "not a url"}, "Enter a valid URL"),
        ],
    )
    def test_bad_resolutions_are_refused_with_a_clear_message(self, changes, message):
        forecast = ForecastFactory()
        arguments = {
            "forecast": forecast,
            "outcome": "YES",
            "known_on": forecast.resolve_by,
            "note": "Reported.",
        } | changes
        with pytest.raises(ValidationError, match=message):
            core_services.forecast_resolve(**arguments)
        assert not Resolution.objects.exists()

    def test_drafts_cannot_be_resolved(self):
        draft = ForecastFactory(published_at=None)
        with pytest.raises(ValidationError, match="draft cannot be resolved"):
            core_services.forecast_resolve(
                forecast=draft, outcome="YES", known_on=draft.resolve_by, note="x"
            )


def test_source_text_attach_locates_quotes():
    forecast = ForecastFactory(quote="It will rain.")
    changed = core_services.source_text_attach(
        source=forecast.source, text="Forecast: It will rain. Or not."
    )
    forecast.refresh_from_db()
    assert changed == 1
    assert (forecast.quote_start, forecast.quote_end) == (10, 23)


def test_empty_source_text_is_refused():
    forecast = ForecastFactory()
    with pytest.raises(ValidationError, match="empty"):
        core_services.source_text_attach(source=forecast.source, text="  \n")


def test_a_user_who_is_not_a_reviewer_cannot_resolve():
    forecast = ForecastFactory()
    with pytest.raises(PermissionDenied):
        core_services.forecast_resolve(
            forecast=forecast,
            outcome="YES",
            known_on=forecast.resolve_by,
            note="x",
            resolved_by=UserFactory(is_staff=True),
        )
    assert not Resolution.objects.exists()


def test_outcome_cannot_be_known_in_the_future():
    forecast = ForecastFactory()
    with pytest.raises(ValidationError, match="future date"):
        core_services.forecast_resolve(
            forecast=forecast, outcome="YES", known_on=dt.date(2999, 1, 1), note="x"
        )


class TestExtend:
    def test_extension_moves_the_deadline_and_records_who_and_why(self):
        forecast = ForecastFactory(resolve_by=dt.date(2024, 6, 1))
        reviewer = UserFactory()
        ReviewerAssignment.objects.create(forecast=forecast, reviewer=reviewer)
        extension = core_services.forecast_extend(
            forecast=forecast,
            new_resolve_by=dt.date(2024, 12, 31),
            reason="The vote was postponed.",
            extended_by=reviewer,
        )
        forecast.refresh_from_db()
        assert forecast.resolve_by == dt.date(2024, 12, 31)
        assert (extension.previous_resolve_by, extension.extended_by) == (
            dt.date(2024, 6, 1),
            reviewer,
        )

    @pytest.mark.parametrize(
        ("new", "reason", "message"),
        [
            (dt.date(2024, 5, 1), "Later.", "must move the deadline later"),
            (dt.date(2024, 12, 31), "  ", "Say why"),
        ],
    )
    def test_bad_extensions_are_refused(self, new, reason, message):
        forecast = ForecastFactory(resolve_by=dt.date(2024, 6, 1))
        with pytest.raises(ValidationError, match=message):
            core_services.forecast_extend(
                forecast=forecast, new_resolve_by=new, reason=reason, extended_by=None
            )
        forecast.refresh_from_db()
        assert forecast.resolve_by == dt.date(2024, 6, 1)

    def test_resolved_forecasts_cannot_be_extended(self):
        forecast = ResolutionFactory().forecast
        with pytest.raises(ValidationError, match="resolved forecast"):
            core_services.forecast_extend(
                forecast=forecast, new_resolve_by=dt.date(2030, 1, 1), reason="x", extended_by=None
            )
