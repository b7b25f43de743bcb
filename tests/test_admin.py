"""The admin: every model registered, useful lists and filters, resolutions via the service."""

import datetime as dt

import pytest
from django.contrib import admin
from django.urls import reverse

from forecasts.models import (
    Estimate,
    Forecast,
    Forecaster,
    Resolution,
    ReviewerAssignment,
    ScoreRecompute,
    ScoreSnapshot,
    Source,
    Tag,
)
from tests.factories import ForecastFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_every_model_is_registered():
    for model in (
        Source,
        Forecaster,
        Forecast,
        Estimate,
        Resolution,
        Tag,
        ReviewerAssignment,
        ScoreSnapshot,
        ScoreRecompute,
    ):
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize(
    "query",
    ["", "?status=due", "?status=resolved", "?status=draft", "?q=Biegun", "?tags__id__exact=1"],
)
def test_forecast_changelist_with_filters(client, staff, seeded, query):
    response = client.get(reverse("admin:forecasts_forecast_changelist") + query)
    assert response.status_code == 200


def test_status_filter_lists_only_due_forecasts(client, staff, seeded):
    html = client.get(
        reverse("admin:forecasts_forecast_changelist") + "?status=due"
    ).content.decode()
    assert "3 forecasts" in html
    assert "Trump wins the 3 November 2020" not in html


@pytest.mark.parametrize(
    "name",
    ["forecast", "source", "forecaster", "estimate", "resolution", "tag", "reviewerassignment"],
)
def test_every_changelist_and_add_page_renders(client, staff, seeded, name):
    assert client.get(reverse(f"admin:forecasts_{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:forecasts_{name}_add")).status_code == 200


@pytest.mark.parametrize("name", ["scoresnapshot", "scorerecompute"])
def test_computed_records_are_read_only(client, staff, seeded, name):
    from forecasts import services

    services.scores_snapshot(as_of=dt.date(2026, 1, 1))
    assert client.get(reverse(f"admin:forecasts_{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:forecasts_{name}_add")).status_code == 403


def test_forecast_change_page_renders(client, staff, seeded):
    forecast = Forecast.objects.get(slug="trump-wins-second-term")
    response = client.get(reverse("admin:forecasts_forecast_change", args=[forecast.pk]))
    assert response.status_code == 200
    assert "appears poised" in response.content.decode()


def test_resolving_in_the_admin_goes_through_the_service(client, staff):
    forecast = ForecastFactory()
    response = client.post(
        reverse("admin:forecasts_resolution_add"),
        {
            "forecast": forecast.pk,
            "outcome": "NO",
            "known_on": "2024-12-31",
            "evidence_url": "example.org/x",
        },
    )
    assert response.status_code == 302, response.content.decode()
    resolution = Resolution.objects.get()
    assert resolution.is_current
    assert resolution.resolved_by == staff
    assert resolution.evidence_url == "https://example.org/x"


def test_admin_shows_a_second_resolution_without_reason_as_a_form_error(client, staff, seeded):
    forecast = Forecast.objects.get(slug="trump-wins-second-term")
    response = client.post(
        reverse("admin:forecasts_resolution_add"),
        {
            "forecast": forecast.pk,
            "outcome": "YES",
            "known_on": "2020-11-07",
            "evidence_note": "Recount.",
        },
    )
    assert response.status_code == 200
    assert "already resolved; to correct it" in response.content.decode()
    assert forecast.resolutions.count() == 1


def test_admin_correction_with_a_reason_supersedes(client, staff, seeded):
    forecast = Forecast.objects.get(slug="trump-wins-second-term")
    response = client.post(
        reverse("admin:forecasts_resolution_add"),
        {
            "forecast": forecast.pk,
            "outcome": "ANNULLED",
            "known_on": "2020-11-07",
            "evidence_note": "Testing a correction.",
            "correction_reason": "Criteria were ambiguous.",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert forecast.resolutions.count() == 2
    assert forecast.current_resolution().outcome == "ANNULLED"


def test_publish_action(client, staff):
    draft = ForecastFactory(published_at=None)
    client.post(
        reverse("admin:forecasts_forecast_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.published_at is not None


def test_non_staff_cannot_reach_the_admin(client):
    client.force_login(UserFactory(username="reader"))
    response = client.get(reverse("admin:forecasts_forecast_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
