"""Public pages render the seed forecasts; drafts never appear."""

import re

import pytest
from django.urls import reverse

from forecasts.models import Forecast
from tests.factories import ForecastFactory

pytestmark = pytest.mark.django_db


def test_list_shows_every_seed_forecast_with_status_probability_deadline_outcome(client, seeded):
    response = client.get(reverse("forecasts:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1>") == 1
    assert '<html lang="en">' in html
    for forecast in Forecast.objects.all():
        assert forecast.get_absolute_url() in html
    trump = Forecast.objects.get(slug="trump-wins-second-term")
    row = html[html.index(trump.get_absolute_url()) :].split("</tr>")[0]
    assert "Resolved" in row
    assert "65 %" in row
    assert "3 Nov 2020" in row
    assert "NO" in row
    assert "13 forecasts sorted by deadline, soonest first." in html


def test_list_filters_by_status(client, seeded):
    response = client.get(reverse("forecasts:list"), {"status": "due"})
    html = response.content.decode()
    assert "3 forecasts with status “due”, sorted by deadline, soonest first." in html
    assert reverse("forecasts:detail", args=["trump-wins-second-term"]) not in html
    assert reverse("forecasts:detail", args=["north-korea-deal-sways-reelection"]) in html


def test_bad_status_is_a_400_with_a_message(client, seeded):
    response = client.get(reverse("forecasts:list"), {"status": "<script>x</script>"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bad query parameter. status: Input should be &#x27;open&#x27;" in html
    assert "<script>x</script>" not in html


def test_detail_shows_quote_basis_and_resolution(client, seeded):
    response = client.get(reverse("forecasts:detail", args=["full-denuclearization-as-first-step"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "what is unlikely is that the deal will deliver full denuclearization" in html
    assert "from the phrase “unlikely”" in html
    assert "20 %" in html
    assert "No</strong>" in html
    assert "https://en.wikipedia.org/wiki/North_Korea" in html


def test_detail_of_a_due_forecast_says_it_waits_for_a_reviewer(client, seeded):
    html = client.get(
        reverse("forecasts:detail", args=["dprk-concessions-during-campaign"])
    ).content.decode()
    assert "awaits a reviewer's verdict" in html
    # Issue 17 (13): how long overdue, not only the date.
    assert re.search(r"the deadline, <time[^>]*>3 November 2020</time>, passed \d+\xa0years?", html)


def test_drafts_are_not_public(client):
    draft = ForecastFactory(published_at=None, statement="Secret draft statement")
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert "Secret draft statement" not in client.get(reverse("forecasts:list")).content.decode()


def test_text_is_escaped(client):
    forecast = ForecastFactory(statement="<img src=x onerror=alert(1)> happens")
    html = client.get(forecast.get_absolute_url()).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


def test_list_query_count_does_not_grow_with_forecasts(client, django_assert_max_num_queries):
    ForecastFactory.create_batch(30)
    # The count, the page's ids, rows and tags; the forecasters, sources and tags to filter by.
    with django_assert_max_num_queries(7):
        client.get(reverse("forecasts:list"))


def test_home_is_the_scorecard(client, seeded):
    response = client.get("/")
    assert response.status_code == 200
    assert "<h1>Who predicted well</h1>" in response.content.decode()


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
