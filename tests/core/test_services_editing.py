"""Editors' writes: a forecast's terms, its estimates as typed, sources and their text,
forecasters, tags, reviewer assignments, and what may be deleted."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from forecasts.core import services as core_services
from forecasts.core.changes import public_version
from forecasts.core.permissions import REVIEWERS_GROUP, can_resolve
from forecasts.models import (
    Estimate,
    Forecast,
    Forecaster,
    ReviewerAssignment,
    Source,
    Tag,
)
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    SourceFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TEXT = "Analysts agree. It will rain. Markets shrug. It will rain. The end."


def terms(forecast, **changes):
    """forecast_update's arguments for ``forecast`` as it stands, then ``changes``."""
    values = {
        "forecast": forecast,
        "slug": forecast.slug,
        "source": forecast.source,
        "forecaster": forecast.forecaster,
        "statement": forecast.statement,
        "quote": forecast.quote,
        "resolution_criteria": forecast.resolution_criteria,
        "made_on": forecast.made_on,
        "made_on_precision": forecast.made_on_precision,
        "resolve_by": forecast.resolve_by,
        "resolve_by_note": forecast.resolve_by_note,
        "condition": forecast.condition,
        "tags": list(forecast.tags.all()),
    }
    return values | changes


class TestForecastCreate:
    def arguments(self, **changes):
        return {
            "slug": "rain",
            "source": SourceFactory(text=TEXT),
            "forecaster": ForecasterFactory(),
            "statement": "It rains.",
            "resolution_criteria": "YES if it rains.",
            "made_on": dt.date(2024, 5, 1),
            "resolve_by": dt.date(2024, 5, 2),
            "quote": "It will rain.",
        } | changes

    def test_estimates_as_typed_are_recorded_with_who_recorded_them(self):
        editor = UserFactory()
        forecast = core_services.forecast_create(
            **self.arguments(),
            estimates=[
                {"probability": 0.6, "basis": "number"},
                {
                    "probability": 0.8,
                    "low": 0.7,
                    "high": 0.9,
                    "basis": "phrase",
                    "phrase": "very likely",
                    "made_on": timezone.localdate(),
                },
            ],
            recorded_by=editor,
        )
        rows = list(forecast.estimates.values_list("probability", "basis", "low", "recorded_by"))
        assert rows == [(0.6, "number", None, editor.pk), (0.8, "phrase", 0.7, editor.pk)]
        # Dated the day they are recorded, not the day the source made the forecast.
        assert set(forecast.estimates.values_list("made_on", flat=True)) == {timezone.localdate()}
        assert (forecast.quote_start, forecast.quote_end) == (16, 29)

    def test_a_forecast_without_an_estimate_is_refused(self):
        with pytest.raises(ValidationError, match="needs a first estimate"):
            core_services.forecast_create(**self.arguments())
        assert not Forecast.objects.exists()

    def test_estimates_and_a_probability_together_are_refused(self):
        with pytest.raises(ValidationError, match="not both"):
            core_services.forecast_create(
                **self.arguments(),
                probability=0.5,
                estimates=[{"probability": 0.6, "made_on": dt.date(2024, 5, 1)}],
            )
        assert not Forecast.objects.exists()

    def test_a_bad_estimate_leaves_nothing(self):
        # Back-dated to the day the source made the forecast: that is the historical
        # import's, not an editor's.
        with pytest.raises(ValidationError, match="is not today"):
            core_services.forecast_create(
                **self.arguments(), estimates=[{"probability": 0.6, "made_on": dt.date(2024, 5, 1)}]
            )
        assert not Forecast.objects.exists()
        assert not Estimate.objects.exists()

    def test_a_quote_the_source_text_lacks_is_refused(self):
        with pytest.raises(ValidationError, match="not in the source text"):
            core_services.forecast_create(**self.arguments(quote="It will snow."), probability=0.5)
        assert not Forecast.objects.exists()


class TestForecastUpdate:
    """A draft takes every term as typed; a published forecast only its tags."""

    def test_terms_change_and_the_public_pages_follow(self, django_capture_on_commit_callbacks):
        forecast = ForecastFactory(published_at=None)
        tag = TagFactory()
        before = public_version()
        with django_capture_on_commit_callbacks(execute=True):
            updated = core_services.forecast_update(
                **terms(forecast, statement="Rain in Berlin.", tags=[tag])
            )
        assert updated.statement == "Rain in Berlin."
        forecast.refresh_from_db()
        assert forecast.statement == "Rain in Berlin."
        assert list(forecast.tags.all()) == [tag]
        assert public_version() == before + 1

    def test_a_new_quote_is_placed_in_the_source_text(self):
        forecast = ForecastFactory(
            source=SourceFactory(text=TEXT), quote="Analysts agree.", published_at=None
        )
        core_services.forecast_update(**terms(forecast, quote="Markets shrug."))
        forecast.refresh_from_db()
        assert (forecast.quote_start, forecast.quote_end) == (30, 44)

    def test_a_quote_the_text_lacks_is_refused_and_nothing_changes(self):
        forecast = ForecastFactory(
            source=SourceFactory(text=TEXT), quote="Analysts agree.", published_at=None
        )
        with pytest.raises(ValidationError, match="not in the source text"):
            core_services.forecast_update(**terms(forecast, quote="Nobody agrees.", statement="x"))
        forecast.refresh_from_db()
        assert (forecast.quote, forecast.statement) != ("Nobody agrees.", "x")

    def test_an_unchanged_quote_keeps_its_position(self):
        # Placed at its second occurrence (a pull-quote), as extraction does.
        forecast = ForecastFactory(
            source=SourceFactory(text=TEXT),
            quote="It will rain.",
            quote_start=45,
            quote_end=58,
            published_at=None,
        )
        core_services.forecast_update(**terms(forecast, statement="Rain again."))
        forecast.refresh_from_db()
        assert (forecast.quote_start, forecast.quote_end) == (45, 58)

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"resolve_by": dt.date(2023, 1, 1)}, "deadline cannot be before"),
            ({"made_on": dt.date(2024, 6, 1)}, "before 2024-06-01"),
            ({"statement": ""}, "cannot be blank"),
        ],
    )
    def test_the_models_rules_hold(self, changes, message):
        forecast = ForecastFactory(published_at=None)
        with pytest.raises(ValidationError, match=message):
            core_services.forecast_update(**terms(forecast, **changes))

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"statement": "Quietly rewritten."}, "recorded amendment"),
            ({"made_on": dt.date(2024, 1, 1)}, "recorded amendment"),
            ({"resolve_by": dt.date(2027, 6, 30)}, "recorded extension"),
            ({"slug": "moved"}, "Fixed once the forecast is published"),
        ],
    )
    def test_a_published_forecasts_terms_are_refused_naming_the_way(self, changes, message):
        forecast = ForecastFactory(made_on=dt.date(2020, 6, 1), resolve_by=dt.date(2021, 1, 20))
        with pytest.raises(ValidationError, match=message):
            core_services.forecast_update(**terms(forecast, **changes))
        stored = Forecast.objects.get(pk=forecast.pk)
        assert (stored.statement, stored.slug, stored.resolve_by) == (
            forecast.statement,
            forecast.slug,
            dt.date(2021, 1, 20),
        )
        assert not stored.extensions.exists()

    def test_a_published_forecasts_tags_stay_editable_and_its_deadline_is_extended(self):
        forecast = ForecastFactory(made_on=dt.date(2020, 6, 1), resolve_by=dt.date(2021, 1, 20))
        tag = TagFactory()
        core_services.forecast_update(**terms(forecast, tags=[tag]))
        assert list(forecast.tags.all()) == [tag]
        core_services.forecast_extend(
            forecast=forecast,
            new_resolve_by=dt.date(2027, 6, 30),
            reason="The talks were postponed.",
            extended_by=None,
        )
        forecast.refresh_from_db()
        assert forecast.resolve_by == dt.date(2027, 6, 30)
        assert forecast.extensions.get().previous_resolve_by == dt.date(2021, 1, 20)

    def test_a_rejected_draft_cannot_be_published(self):
        draft = ForecastFactory(
            published_at=None, rejected_at=dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
        )
        with pytest.raises(ValidationError, match="A rejected draft is not published"):
            core_services.forecast_update(**terms(draft, publish=True))
        draft.refresh_from_db()
        assert draft.published_at is None


class TestSourceSave:
    def test_a_new_source(self, django_capture_on_commit_callbacks):
        before = public_version()
        with django_capture_on_commit_callbacks(execute=True):
            source = core_services.source_save(**self.fields())
        assert Source.objects.get() == source
        assert public_version() == before + 1

    def fields(self, **changes):
        return {
            "key": "an-article",
            "title": "An article",
            "url": "https://example.org/a",
            "publisher": "Example",
            "author": "",
            "published_on": dt.date(2024, 1, 10),
            "published_precision": "day",
            "text": "",
        } | changes

    def test_a_changed_text_moves_the_quotes_positions(self):
        forecast = ForecastFactory(source=SourceFactory(text=TEXT), quote="Markets shrug.")
        core_services.source_text_attach(source=forecast.source, text=TEXT)
        source = forecast.source
        new_text = "Preface. " + TEXT
        core_services.source_save(source=source, **self.fields(text=new_text))
        forecast.refresh_from_db()
        assert (forecast.quote_start, forecast.quote_end) == (39, 53)
        assert new_text[39:53] == "Markets shrug."

    def test_a_text_without_a_quote_is_refused_naming_the_forecast(self):
        forecast = ForecastFactory(source=SourceFactory(text=TEXT), quote="Markets shrug.")
        with pytest.raises(ValidationError, match=f"“{forecast.statement}”: The quote is not"):
            core_services.source_save(
                source=forecast.source, **self.fields(title="Renamed", text="Other words.")
            )
        forecast.source.refresh_from_db()
        assert (forecast.source.text, forecast.source.title) == (TEXT, forecast.source.title)

    def test_clearing_the_text_unplaces_the_quotes(self):
        forecast = ForecastFactory(source=SourceFactory(text=TEXT), quote="Markets shrug.")
        core_services.source_text_attach(source=forecast.source, text=TEXT)
        core_services.source_save(source=forecast.source, **self.fields(text=""))
        forecast.refresh_from_db()
        assert (forecast.quote_start, forecast.quote_end) == (None, None)

    def test_attaching_keeps_a_position_that_still_points_at_the_quote(self):
        forecast = ForecastFactory(
            source=SourceFactory(text=TEXT), quote="It will rain.", quote_start=45, quote_end=58
        )
        assert core_services.source_text_attach(source=forecast.source, text=TEXT + " More.") == 0
        forecast.refresh_from_db()
        assert forecast.quote_start == 45


def test_forecasters_and_tags_are_saved_with_the_models_rules():
    forecaster = core_services.forecaster_save(
        name="A pundit", slug="a-pundit", kind="person", url="", description=""
    )
    changed = core_services.forecaster_save(
        forecaster=forecaster,
        name="The pundit",
        slug="a-pundit",
        kind="outlet",
        url="",
        description="",
    )
    assert Forecaster.objects.get().name == changed.name == "The pundit"
    with pytest.raises(ValidationError, match="already exists"):
        core_services.forecaster_save(
            name="The pundit", slug="other", kind="person", url="", description=""
        )
    tag = core_services.tag_save(name="Trade", slug="trade")
    core_services.tag_save(tag=tag, name="Trade policy", slug="trade")
    assert Tag.objects.get().name == "Trade policy"
    with pytest.raises(ValidationError, match="slug"):
        core_services.tag_save(name="Bad", slug="not a slug")


class TestReviewers:
    def test_an_assigned_reviewer_may_resolve_until_unassigned(self):
        forecast, reviewer = ForecastFactory(), UserFactory()
        assert not can_resolve(reviewer, forecast)
        core_services.reviewer_assign(forecast=forecast, reviewer=reviewer)
        assert can_resolve(reviewer, forecast)
        assert core_services.reviewer_unassign(forecast=forecast, reviewer=reviewer)
        assert not can_resolve(reviewer, forecast)
        assert not core_services.reviewer_unassign(forecast=forecast, reviewer=reviewer)

    def test_a_member_of_reviewers_needs_the_resolve_permission_from_somewhere(self):
        """Each way the one-query check can say yes or no, against what Django's own
        ``has_perm`` says of the same user."""
        forecast, user = ForecastFactory(), UserFactory()
        resolve = Permission.objects.get(
            content_type__app_label="forecasts", codename="resolve_forecast"
        )
        reviewers, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
        other = Group.objects.create(name="Desk")

        def fresh():  # no permission cache, as in a new request
            return type(user).objects.get(pk=user.pk)

        reviewers.permissions.remove(resolve)
        user.user_permissions.add(resolve)
        assert not can_resolve(fresh(), forecast)  # the permission, not the membership
        user.user_permissions.remove(resolve)
        user.groups.add(reviewers)
        assert not can_resolve(fresh(), forecast)  # the membership, not the permission
        assert not fresh().has_perm("forecasts.resolve_forecast")
        user.user_permissions.add(resolve)
        assert can_resolve(fresh(), forecast)  # held directly
        user.user_permissions.remove(resolve)
        other.permissions.add(resolve)
        user.groups.add(other)
        assert can_resolve(fresh(), forecast)  # held through another group
        assert fresh().has_perm("forecasts.resolve_forecast")
        user.groups.remove(other)
        reviewers.permissions.add(resolve)
        assert can_resolve(fresh(), forecast)  # held through Reviewers itself
        assert can_resolve(fresh(), ForecastFactory())  # covers every forecast
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        assert not can_resolve(fresh(), forecast)

    def test_twice_or_an_inactive_account_is_refused(self):
        forecast, reviewer = ForecastFactory(), UserFactory()
        core_services.reviewer_assign(forecast=forecast, reviewer=reviewer)
        with pytest.raises(ValidationError, match="already exists"):
            core_services.reviewer_assign(forecast=forecast, reviewer=reviewer)
        with pytest.raises(ValidationError, match="inactive"):
            core_services.reviewer_assign(forecast=forecast, reviewer=UserFactory(is_active=False))
        assert ReviewerAssignment.objects.count() == 1


class TestDeleting:
    def test_a_draft_goes_with_its_estimates(self):
        draft = ForecastFactory(published_at=None)
        core_services.forecast_delete(forecast=draft)
        assert not Forecast.objects.exists()
        assert not Estimate.objects.exists()

    def test_a_published_forecast_is_never_deleted(self):
        forecast = ForecastFactory()
        with pytest.raises(ValidationError, match="never deleted"):
            core_services.forecast_delete(forecast=forecast)
        assert Forecast.objects.exists()

    def test_a_resolved_forecast_is_never_taken_back_to_draft_to_be_deleted(self):
        # Once "a draft with a resolution on record": the database now refuses the
        # step back to draft, so the resolved forecast stays published, and kept.
        forecast = ResolutionFactory().forecast
        with pytest.raises(IntegrityError), transaction.atomic():
            Forecast.objects.filter(pk=forecast.pk).update(published_at=None)
        with pytest.raises(ValidationError, match="never deleted"):
            core_services.forecast_delete(forecast=forecast)
        assert Forecast.objects.exists()

    def test_a_drafts_estimate_while_another_remains(self):
        draft = ForecastFactory(published_at=None)
        only = draft.estimates.get()
        with pytest.raises(ValidationError, match="only estimate"):
            core_services.estimate_delete(estimate=only)
        EstimateFactory(forecast=draft, probability=0.2)
        core_services.estimate_delete(estimate=only)
        assert list(draft.estimates.values_list("probability", flat=True)) == [0.2]

    def test_a_published_forecasts_estimate_is_never_deleted(self):
        forecast = ForecastFactory()
        EstimateFactory(forecast=forecast, probability=0.2)
        with pytest.raises(ValidationError, match="never deleted"):
            core_services.estimate_delete(estimate=forecast.estimates.first())
        assert forecast.estimates.count() == 2

    def test_sources_and_forecasters_are_kept_while_forecasts_cite_them(self):
        forecast = ForecastFactory()
        with pytest.raises(ValidationError, match="Forecasts cite"):
            core_services.source_delete(source=forecast.source)
        with pytest.raises(ValidationError, match="has forecasts"):
            core_services.forecaster_delete(forecaster=forecast.forecaster)
        core_services.source_delete(source=SourceFactory())
        core_services.forecaster_delete(forecaster=ForecasterFactory())
        assert (Source.objects.count(), Forecaster.objects.count()) == (1, 1)

    def test_a_tag_of_published_forecasts_is_kept(self):
        published, draft = ForecastFactory(), ForecastFactory(published_at=None)
        kept, dropped = TagFactory(), TagFactory()
        published.tags.add(kept)
        draft.tags.add(dropped)
        with pytest.raises(ValidationError, match="rename it rather than delete it"):
            core_services.tag_delete(tag=kept)
        core_services.tag_delete(tag=dropped)
        assert list(Tag.objects.all()) == [kept]
        assert not draft.tags.exists()
