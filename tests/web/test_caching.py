"""Public pages are cached for anonymous readers and invalidated by the writes that change them."""

import datetime as dt
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forecasts.core import services as core_services
from forecasts.models import Forecast
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = ["/", "/forecasts/", "/scores/", "/forecasts/trump-wins-second-term/"]


@pytest.mark.parametrize("url", PAGES)
def test_a_second_view_runs_no_query_and_sends_cache_headers(
    client, seeded, url, django_assert_num_queries
):
    first = client.get(url)
    assert first.status_code == 200
    assert "public" in first["Cache-Control"]
    assert "max-age=60" in first["Cache-Control"]
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.content == first.content


def test_a_resolution_invalidates_the_pages(client, seeded, django_capture_on_commit_callbacks):
    url = reverse("forecasts:detail", args=["dprk-concessions-during-campaign"])
    assert "awaits a reviewer's verdict" in client.get(url).content.decode()
    forecast = Forecast.objects.get(slug="dprk-concessions-during-campaign")
    with django_capture_on_commit_callbacks(execute=True):
        core_services.forecast_resolve(
            forecast=forecast, outcome="NO", known_on=dt.date(2020, 11, 4), note="None offered."
        )
    html = client.get(url).content.decode()
    assert "awaits a reviewer's verdict" not in html
    assert "None offered." in html


def test_a_new_resolution_invalidates_the_scorecard(
    client, seeded, django_capture_on_commit_callbacks
):
    assert "10 resolved" in client.get("/").content.decode()
    unresolved = Forecast.objects.unresolved().order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        core_services.forecast_resolve(
            forecast=unresolved, outcome="NO", known_on=timezone.localdate(), note="It did not."
        )
    html = client.get("/").content.decode()
    assert "11 resolved" in html
    assert "Their Brier score" in html


def test_logged_in_users_are_not_served_the_cache(client, seeded, django_assert_max_num_queries):
    client.get("/forecasts/")
    client.force_login(UserFactory(username="rita"))
    response = client.get("/forecasts/")
    assert "My reviews" in response.content.decode()
    assert "public" not in response.get("Cache-Control", "")


def test_errors_are_not_cached(client, seeded):
    assert client.get("/forecasts/", {"status": "bogus"}).status_code == 400
    assert client.get("/forecasts/", {"status": "bogus"}).status_code == 400


def test_while_one_request_renders_a_changed_page_others_get_the_previous_version(
    client, seeded, django_assert_max_num_queries
):
    from django.core.cache import cache

    from forecasts.core.changes import public_pages_changed, public_version

    before = client.get("/").content
    public_pages_changed()
    # Another worker has just started rendering the new version.
    path = hashlib.sha256(b"/").hexdigest()
    assert cache.add(f"public-page-render:{path}:{public_version()}", 1)
    with django_assert_max_num_queries(0):
        assert client.get("/").content == before  # served at once, not rendered again
    public_pages_changed()
    with CaptureQueriesContext(connection) as rendering:
        assert client.get("/").status_code == 200  # nobody rendering: this one does
    assert len(rendering.captured_queries) > 0


@pytest.mark.parametrize(
    ("url", "same_as"),
    [
        ("/?junk=1", "/"),
        ("/?utm_source=feed&period=12m", "/?period=12m"),
        (
            "/leaderboards/forecasters/?page=1&sort=brier&x=y",
            "/leaderboards/forecasters/?sort=brier&page=1",
        ),
        ("/forecasts/?status=due&junk=2", "/forecasts/?status=due"),
        (
            "/forecasts/?sort=-brier&utm_source=feed&q=Trump&tag=north-korea",
            "/forecasts/?tag=north-korea&q=Trump&sort=-brier",
        ),
        ("/api/forecasts?limit=5&junk=3", "/api/forecasts?limit=5"),
    ],
)
def test_parameters_a_page_does_not_read_make_no_page_of_their_own(
    client, seeded, url, same_as, django_assert_num_queries
):
    """Issue 16 (3): each /?junk=N was a full render and a cache entry of its own, a way to
    fill the cache. The page is keyed by the parameters it reads, in any order; the
    others never reach the view."""
    first = client.get(same_as)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.status_code == 200
    assert second.content == first.content
    for junk in ("junk", "utm_source", "x=y"):
        assert junk not in second.content.decode()


def test_a_parameter_a_page_reads_still_makes_its_own_page(client, seeded):
    everything = client.get("/").content.decode()
    filtered = client.get("/?period=12m").content.decode()
    assert filtered != everything
    resolved = client.get("/forecasts/?status=resolved").content.decode()
    assert resolved != client.get("/forecasts/").content.decode()
    for read in ("q=Trump", "sort=-deadline", "tag=north-korea", "resolve_by_after=2020-01-01"):
        assert client.get(f"/forecasts/?{read}").content.decode() != resolved, read
        assert client.get(f"/forecasts/?status=resolved&{read}").content.decode() != resolved
