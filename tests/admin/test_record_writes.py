"""Sources, forecasters, tags, estimates, reviewer assignments and subscribers are written
through their services from the admin too: add and change forms, deleting (one at a time
and the "delete selected" action). Each test asserts what only the service does."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from forecasts.core import services as core_services
from forecasts.core.changes import public_version
from forecasts.models import (
    Forecaster,
    ReviewerAssignment,
    Source,
    Subscriber,
    SubscriberStatus,
    Tag,
)
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    SourceFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TEXT = "Officials were upbeat. A deal is likely by June, one said. Others doubted it."
QUOTE = "A deal is likely by June, one said."


@pytest.fixture
def editor(client):
    user = UserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def url(name, *args):
    return reverse(f"admin:forecasts_{name}", args=args)


def source_form(source, **changes):
    return {
        "title": source.title,
        "key": source.key,
        "url": source.url,
        "publisher": source.publisher,
        "author": source.author,
        "published_on": source.published_on.isoformat(),
        "published_precision": source.published_precision,
        "text": source.text,
    } | changes


class TestSources:
    def test_a_changed_text_moves_the_quotes(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        forecast = ForecastFactory(source=SourceFactory(text=TEXT), quote=QUOTE)
        core_services.source_text_attach(source=forecast.source, text=TEXT)
        new_text = "Updated 2 May. " + TEXT
        before = public_version()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url("source_change", forecast.source_id),
                source_form(forecast.source, text=new_text),
            )
        assert response.status_code == 302, response.content.decode()[:3000]
        forecast.refresh_from_db()
        assert new_text[forecast.quote_start : forecast.quote_end] == QUOTE
        assert forecast.quote_start == 15 + 23
        assert public_version() > before

    def test_a_text_without_a_forecasts_quote_is_a_form_error(self, client, editor):
        forecast = ForecastFactory(source=SourceFactory(text=TEXT), quote=QUOTE)
        source = forecast.source
        data = source_form(source, title="Renamed", text="A different article altogether.")
        response = client.post(url("source_change", source.pk), data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "The quote is not in the source text" in html
        assert forecast.statement in html
        source.refresh_from_db()
        assert (source.title, source.text) != ("Renamed", "A different article altogether.")

    def test_adding_a_source_bumps_the_pages(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        before = public_version()
        data = source_form(SourceFactory.build(key="new", url="https://example.org/new"))
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url("source_add"), data).status_code == 302
        assert Source.objects.get(key="new").title == data["title"]
        assert public_version() > before

    def test_a_cited_source_is_protected_an_unused_one_deleted(self, client, editor):
        cited, unused = ForecastFactory().source, SourceFactory()
        page = client.get(url("source_delete", cited.pk)).content.decode()
        assert "<title>Cannot delete source" in page
        client.post(url("source_delete", cited.pk), {"post": "yes"})
        assert client.post(url("source_delete", unused.pk), {"post": "yes"}).status_code == 302
        assert list(Source.objects.all()) == [cited]


class TestForecastersAndTags:
    def test_renaming_a_forecaster_bumps_the_pages(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        forecaster = ForecasterFactory()
        data = {"name": "Renamed", "slug": forecaster.slug, "kind": "outlet", "url": ""}
        before = public_version()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url("forecaster_change", forecaster.pk), data)
        assert response.status_code == 302
        assert Forecaster.objects.get().name == "Renamed"
        assert public_version() > before

    def test_renaming_a_tag_bumps_the_pages(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        tag = TagFactory()
        before = public_version()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url("tag_change", tag.pk), {"name": "Trade", "slug": tag.slug})
        assert response.status_code == 302
        assert Tag.objects.get().name == "Trade"
        assert public_version() > before

    def test_a_tag_of_published_forecasts_is_never_deleted(self, client, editor):
        kept, unused = TagFactory(), TagFactory()
        ForecastFactory().tags.add(kept)
        assert client.post(url("tag_delete", kept.pk), {"post": "yes"}).status_code == 403
        assert client.post(url("tag_delete", unused.pk), {"post": "yes"}).status_code == 302
        assert list(Tag.objects.all()) == [kept]

    def test_a_forecaster_with_forecasts_is_kept(self, client, editor):
        forecaster = ForecastFactory().forecaster
        client.post(url("forecaster_delete", forecaster.pk), {"post": "yes"})
        assert Forecaster.objects.filter(pk=forecaster.pk).exists()


class TestEstimates:
    def test_an_added_estimate_is_recorded_by_the_editor(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        forecast = ForecastFactory()
        data = {
            "forecast": forecast.pk,
            "made_on": "2024-03-01",
            "probability": "0.4",
            "basis": "number",
        }
        before = public_version()
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url("estimate_add"), data).status_code == 302
        latest = forecast.latest_estimate()
        assert (latest.probability, latest.recorded_by) == (0.4, editor)
        assert public_version() > before

    def test_the_recorder_cannot_be_chosen(self, client, editor):
        forecast, other = ForecastFactory(), UserFactory()
        data = {
            "forecast": forecast.pk,
            "made_on": "2024-03-01",
            "probability": "0.4",
            "basis": "number",
            "recorded_by": other.pk,
        }
        assert client.post(url("estimate_add"), data).status_code == 302
        assert forecast.latest_estimate().recorded_by == editor

    def test_deleting_only_a_drafts_estimate_while_another_remains(self, client, editor):
        published = ForecastFactory().estimates.get()
        draft = ForecastFactory(published_at=None)
        only = draft.estimates.get()
        for refused in (published, only):
            assert (
                client.post(url("estimate_delete", refused.pk), {"post": "yes"}).status_code == 403
            )
        second = EstimateFactory(forecast=draft, probability=0.2)
        assert client.post(url("estimate_delete", only.pk), {"post": "yes"}).status_code == 302
        assert list(draft.estimates.all()) == [second]
        assert published.forecast.estimates.count() == 1


class TestReviewerAssignments:
    @pytest.fixture
    def rita(self):
        user = UserFactory(username="rita", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="view_forecast"))
        return user

    def resolve(self, client, rita, forecast):
        client.force_login(rita)
        return client.post(
            url("forecast_resolve", forecast.pk),
            {"outcome": "NO", "known_on": "2025-01-02", "note": "It did not happen."},
        )

    def test_an_assigned_reviewer_can_resolve_until_the_assignment_is_deleted(
        self, client, editor, rita
    ):
        forecast = ForecastFactory()
        data = {"forecast": forecast.pk, "reviewer": rita.pk}
        assert client.post(url("reviewerassignment_add"), data).status_code == 302
        assignment = ReviewerAssignment.objects.get()
        assert client.post(url("reviewerassignment_delete", assignment.pk), {"post": "yes"})
        assert not ReviewerAssignment.objects.exists()
        assert self.resolve(client, rita, forecast).status_code == 403
        client.force_login(editor)
        assert client.post(url("reviewerassignment_add"), data).status_code == 302
        assert self.resolve(client, rita, forecast).status_code == 302

    def test_an_assignment_is_dated_when_it_is_made(self, client, editor, rita):
        data = {
            "forecast": ForecastFactory().pk,
            "reviewer": rita.pk,
            "assigned_at_0": "2020-01-01",
            "assigned_at_1": "12:00:00",
        }
        assert client.post(url("reviewerassignment_add"), data).status_code == 302
        assigned_at = ReviewerAssignment.objects.get().assigned_at
        assert timezone.now() - assigned_at < dt.timedelta(minutes=1)

    def test_an_inactive_account_is_a_form_error(self, client, editor):
        forecast = ForecastFactory()
        gone = UserFactory(username="gone", is_active=False)
        data = {"forecast": forecast.pk, "reviewer": gone.pk}
        response = client.post(url("reviewerassignment_add"), data)
        assert response.status_code == 200
        assert "gone cannot review: the account is inactive." in response.content.decode()
        assert not ReviewerAssignment.objects.exists()

    def test_an_assignment_is_never_rewritten(self, client, editor, rita):
        assignment = ReviewerAssignment.objects.create(forecast=ForecastFactory(), reviewer=rita)
        other = ForecastFactory()
        change = url("reviewerassignment_change", assignment.pk)
        assert client.get(change).status_code == 200  # viewable
        response = client.post(change, {"forecast": other.pk, "reviewer": rita.pk})
        assert response.status_code == 403
        assignment.refresh_from_db()
        assert assignment.forecast_id != other.pk


class TestSubscribers:
    def form(self, **changes):
        return {"email": "sub@example.org", "cadence": "weekly", "status": "pending"} | changes

    @pytest.mark.parametrize("status", ["pending", "unsubscribed"])
    def test_staff_never_confirm_an_address_nor_pause_one(self, client, editor, status):
        # An unsubscribed address keeps the confirmed_at of its old subscription.
        subscriber = Subscriber.objects.create(
            email="sub@example.org", status=status, confirmed_at=timezone.now()
        )
        for refused in ("confirmed", "paused"):
            response = client.post(
                url("subscriber_change", subscriber.pk), self.form(status=refused)
            )
            assert response.status_code == 200
            assert "Only the subscriber can confirm" in response.content.decode()
        subscriber.refresh_from_db()
        assert subscriber.status == status

    def test_unsubscribing_is_stamped_and_resubscribing_retires_old_links(self, client, editor):
        subscriber = Subscriber.objects.create(
            email="sub@example.org", status="confirmed", confirmed_at=timezone.now()
        )
        change = url("subscriber_change", subscriber.pk)
        assert client.post(change, self.form(status="unsubscribed")).status_code == 302
        subscriber.refresh_from_db()
        assert subscriber.unsubscribed_at is not None
        assert client.post(change, self.form(status="pending")).status_code == 302
        subscriber.refresh_from_db()
        assert (subscriber.status, subscriber.token_version) == ("pending", 2)

    def test_a_paused_subscription_resumes_with_its_failures_forgiven(self, client, editor):
        subscriber = Subscriber.objects.create(
            email="sub@example.org",
            status=SubscriberStatus.PAUSED,
            confirmed_at=timezone.now(),
            permanent_failures=3,
        )
        response = client.post(
            url("subscriber_change", subscriber.pk), self.form(status="confirmed")
        )
        assert response.status_code == 302
        subscriber.refresh_from_db()
        assert (subscriber.status, subscriber.permanent_failures) == ("confirmed", 0)

    def test_deleting_a_subscriber_with_no_digest(self, client, editor):
        subscriber = Subscriber.objects.create(email="sub@example.org")
        posted = {"post": "yes"}
        assert client.post(url("subscriber_delete", subscriber.pk), posted).status_code == 302
        assert not Subscriber.objects.exists()


class TestRefusalsFoundLate:
    """A service may refuse what the admin offered (another editor changed the data in
    between): the message, not a server error, and nothing written."""

    @pytest.fixture
    def offered(self, monkeypatch):
        # As if the admin's check had run before the tag came to be used.
        monkeypatch.setattr(core_services, "tag_delete_check", lambda **kwargs: None)
        tag = TagFactory(name="Trade")
        ForecastFactory().tags.add(tag)
        return tag

    def test_deleting_one(self, client, editor, offered):
        response = client.post(url("tag_delete", offered.pk), {"post": "yes"}, follow=True)
        assert response.status_code == 200
        assert "rename it rather than delete it" in response.content.decode()
        assert Tag.objects.filter(pk=offered.pk).exists()

    def test_deleting_a_selection_deletes_none(self, client, editor, offered):
        unused = TagFactory()
        posted = {
            "action": "delete_selected",
            "_selected_action": [unused.pk, offered.pk],
            "post": "yes",
        }
        response = client.post(url("tag_changelist"), posted, follow=True)
        html = response.content.decode()
        assert "Nothing was done" in html
        assert "rename it rather than delete it" in html
        assert Tag.objects.count() == 2

    def test_a_service_refusal_on_save_shows_on_the_form(self, client, editor, monkeypatch):
        def refuse(**kwargs):
            raise ValidationError({"name": "Taken a moment ago.", "slug": "Also taken."})

        monkeypatch.setattr(core_services, "tag_save", refuse)
        response = client.post(url("tag_add"), {"name": "Trade", "slug": "trade"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Taken a moment ago." in html
        assert "Also taken." in html
        assert 'value="Trade"' in html
        assert not Tag.objects.exists()


def test_bulk_delete_of_estimates_refused_for_published_forecasts(client, editor):
    estimate = ForecastFactory().estimates.get()
    posted = {"action": "delete_selected", "_selected_action": [estimate.pk], "post": "yes"}
    assert client.post(url("estimate_changelist"), posted).status_code == 403
    assert estimate.forecast.estimates.exists()
