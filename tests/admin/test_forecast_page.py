"""The forecast change page as an editor and a reviewer meet it (issue 17, 9, 10, 12):
which buttons a draft and a published forecast offer, the Publish button and its
refusals, the due list's columns, and the resolution forms' starting values."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from forecasts.core import services as core_services
from forecasts.core.services.publication import EXTRACTION_PLACEHOLDER
from forecasts.models import Forecast, ReviewerAssignment
from tests.factories import ForecastFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
CHANGELIST = reverse("admin:forecasts_forecast_changelist")


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def editor(client):
    user = UserFactory(username="edith", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def change_url(forecast):
    return reverse("admin:forecasts_forecast_change", args=[forecast.pk])


def publish_url(forecast):
    return reverse("admin:forecasts_forecast_publish", args=[forecast.pk])


def resolve_url(forecast):
    return reverse("admin:forecasts_forecast_resolve", args=[forecast.pk])


def extend_url(forecast):
    return reverse("admin:forecasts_forecast_extend", args=[forecast.pk])


def tools(html):
    return re.search(r'<ul class="object-tools">(.*?)</ul>', html, re.S).group(1)


class TestButtons:
    def test_a_draft_offers_publish_not_resolve_extend_or_view_on_site(self, client, editor):
        draft = ForecastFactory(
            published_at=None, made_on=dt.date(2020, 1, 10), resolve_by=dt.date(2020, 11, 3)
        )
        ReviewerAssignment.objects.create(forecast=draft, reviewer=editor)
        html = tools(client.get(change_url(draft)).content.decode())
        assert f'action="{publish_url(draft)}"' in html
        assert 'name="csrfmiddlewaretoken"' in html
        assert resolve_url(draft) not in html
        assert extend_url(draft) not in html
        assert "View on site" not in html
        assert "History" in html

    def test_a_published_forecast_offers_resolve_and_view_on_site_not_publish(self, client, editor):
        forecast = ForecastFactory(made_on=dt.date(2020, 1, 10), resolve_by=dt.date(2020, 11, 3))
        ReviewerAssignment.objects.create(forecast=forecast, reviewer=editor)
        html = tools(client.get(change_url(forecast)).content.decode())
        assert publish_url(forecast) not in html
        assert resolve_url(forecast) in html
        assert extend_url(forecast) in html
        assert "View on site" in html

    def test_a_rejected_draft_offers_no_publish(self, client, editor):
        rejected = ForecastFactory(published_at=None, rejected_at=NOW)
        assert publish_url(rejected) not in client.get(change_url(rejected)).content.decode()


class TestPublishButton:
    def test_publishes_under_the_slug_of_the_statement(self, client, editor):
        draft = ForecastFactory(
            published_at=None,
            slug="rates-outlook-the-pivot-is-coming-x147",
            statement="The Fed cuts rates at its March 2025 meeting.",
        )
        response = client.post(publish_url(draft), follow=True)
        assert response.redirect_chain[-1][0] == change_url(draft)
        draft.refresh_from_db()
        assert draft.published_at is not None
        assert draft.slug == "the-fed-cuts-rates-at-its-march-2025-meeting"
        html = response.content.decode()
        assert "Published “The Fed cuts rates" in html
        assert "/forecasts/the-fed-cuts-rates-at-its-march-2025-meeting/" in html

    def test_an_unmade_draft_is_refused_with_a_message_naming_what_to_fix(self, client, editor):
        draft = ForecastFactory(
            published_at=None,
            slug="outlook-x12",
            statement="A recession in 2027 is unlikely.",
            resolution_criteria=f"YES if a recession starts in 2027. {EXTRACTION_PLACEHOLDER}",
        )
        response = client.post(publish_url(draft), follow=True)
        html = response.content.decode()
        assert 'class="error"' in html
        assert "Not published." in html
        assert "the hedge “unlikely”" in html
        assert "resolution criteria are still the ones extraction proposed" in html
        draft.refresh_from_db()
        assert (draft.published_at, draft.slug) == (None, "outlook-x12")

    def test_get_is_not_allowed_and_publishes_nothing(self, client, editor):
        draft = ForecastFactory(published_at=None)
        assert client.get(publish_url(draft)).status_code == 405
        assert Forecast.objects.get(pk=draft.pk).published_at is None

    def test_needs_csrf(self, editor):
        draft = ForecastFactory(published_at=None)
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(editor)
        assert strict.post(publish_url(draft)).status_code == 403
        assert Forecast.objects.get(pk=draft.pk).published_at is None

    def test_staff_who_may_only_view_cannot_publish(self, client):
        viewer = UserFactory(username="vic", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_forecast"))
        client.force_login(viewer)
        draft = ForecastFactory(published_at=None)
        assert publish_url(draft) not in client.get(change_url(draft)).content.decode()
        assert client.post(publish_url(draft)).status_code == 403
        assert Forecast.objects.get(pk=draft.pk).published_at is None

    def test_the_publish_box_on_saving_shows_the_refusal_on_the_field(self, client, editor):
        from tests.admin.test_forecast_writes import change_form

        draft = ForecastFactory(published_at=None, statement="Typed.")
        data = change_form(draft, statement="Rates will probably fall.", publish="on")
        response = client.post(change_url(draft), data)
        assert response.status_code == 200
        assert "the hedge “probably”" in response.content.decode()
        assert Forecast.objects.get(pk=draft.pk).published_at is None

    def test_the_bulk_action_names_the_unmade_drafts_it_left(self, client, editor):
        made = ForecastFactory(published_at=None, statement="Rates fall below 3 per cent.")
        unmade = ForecastFactory(published_at=None, statement="Rates will probably fall.")
        response = client.post(
            CHANGELIST,
            {"action": "publish", "_selected_action": [made.pk, unmade.pk]},
            follow=True,
        )
        html = response.content.decode()
        assert "Published 1 forecast(s)." in html
        assert "Not published, their terms are unmade: “Rates will probably fall.”" in html
        assert Forecast.objects.get(pk=unmade.pk).published_at is None


class TestDueList:
    def test_the_due_list_leaves_out_what_says_nothing_of_a_due_forecast(self, client, editor):
        ForecastFactory(
            statement="Overdue.", made_on=dt.date(2020, 1, 10), resolve_by=dt.date(2020, 11, 3)
        )
        due = client.get(CHANGELIST, {"status": "due"}).content.decode()
        everything = client.get(CHANGELIST).content.decode()
        for column in ("status_display", "outcome_display", "confidence_display", "source"):
            assert f"column-{column}" in everything
            assert f"column-{column}" not in due
        for column in ("statement", "resolve_by", "days_overdue", "last_prompted"):
            assert f"column-{column}" in due


class TestResolveForms:
    def test_the_admin_correction_starts_from_the_current_resolution(self, client, editor):
        forecast = ForecastFactory(made_on=dt.date(2020, 1, 10), resolve_by=dt.date(2020, 11, 3))
        ReviewerAssignment.objects.create(forecast=forecast, reviewer=editor)
        core_services.forecast_resolve(
            forecast=forecast,
            outcome="NO",
            known_on=dt.date(2020, 11, 7),
            evidence_url="https://example.org/result",
            note="Certified result.",
        )
        html = client.get(resolve_url(forecast)).content.decode()
        assert re.search(r'name="outcome" value="NO"[^>]*checked', html)
        assert re.search(r'name="known_on" value="2020-11-07"', html)
        assert 'value="https://example.org/result"' in html
        assert re.search(r">\s*Certified result\.</textarea>", html)
        reason = re.search(r'<textarea[^>]*name="correction_reason"[^>]*>([^<]*)<', html)
        assert reason.group(1).strip() == ""
        response = client.post(
            resolve_url(forecast),
            {"outcome": "YES", "known_on": "2020-11-07", "note": "Recount."},
        )
        assert "This field is required." in response.content.decode()
        assert forecast.resolutions.count() == 1

    def test_the_bulk_resolve_starts_at_a_shared_passed_deadline(self, client, editor):
        old = [
            ForecastFactory(made_on=dt.date(2020, 1, 10), resolve_by=dt.date(2020, 11, 3))
            for _ in range(2)
        ]
        for forecast in old:
            ReviewerAssignment.objects.create(forecast=forecast, reviewer=editor)
        html = client.post(
            CHANGELIST,
            {"action": "resolve_selected", "_selected_action": [f.pk for f in old]},
        ).content.decode()
        assert re.search(r'name="known_on" value="2020-11-03"', html)


def test_digest_deliveries_are_named_in_english(client, editor):
    html = client.get(reverse("admin:index")).content.decode()
    assert "Digest deliveries" in html
    assert "deliverys" not in html
