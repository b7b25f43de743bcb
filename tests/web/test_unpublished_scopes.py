"""Nothing unpublished is public: a forecaster, source or tag whose forecasts are all
drafts (waiting, or rejected) has no page, no API scope, no place in a list, feed,
export or digest form, and a source's stored text is never shown for it."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from forecasts.scores import services as score_services
from tests.factories import ForecasterFactory, ForecastFactory, SourceFactory, TagFactory

pytestmark = pytest.mark.django_db

SECRET_TEXT = "Embargoed analysis: the summit will be cancelled."
DRAFTS = {
    "draft": {"published_at": None},
    "rejected draft": {"published_at": None, "rejected_at": dt.datetime(2026, 1, 5, tzinfo=dt.UTC)},
}


def _scopes(**draft_fields):
    """A forecaster, a source (with stored text) and a tag that only a draft names."""
    forecaster = ForecasterFactory(name="Hidden Pundit", slug="hidden-pundit")
    source = SourceFactory(key="hidden-source", title="Hidden Source", text=SECRET_TEXT)
    tag = TagFactory(name="Hidden Topic", slug="hidden-topic")
    draft = ForecastFactory(
        forecaster=forecaster,
        source=source,
        statement="The summit is cancelled.",
        quote="the summit will be cancelled",
        **draft_fields,
    )
    draft.tags.add(tag)
    return {"forecaster": forecaster, "source": source, "tag": tag, "draft": draft}


def _pages(scopes):
    return {
        "forecaster": reverse("forecasts:forecaster", args=[scopes["forecaster"].slug]),
        "source": reverse("forecasts:source", args=[scopes["source"].key]),
        "tag": reverse("forecasts:tag", args=[scopes["tag"].slug]),
    }


@pytest.mark.parametrize("state", list(DRAFTS))
def test_a_scope_page_with_only_drafts_is_404(client, state):
    scopes = _scopes(**DRAFTS[state])
    for kind, url in _pages(scopes).items():
        response = client.get(url)
        assert response.status_code == 404, (kind, state)
        body = response.content.decode()
        assert "Hidden" not in body
        assert SECRET_TEXT not in body


@pytest.mark.parametrize("state", list(DRAFTS))
@pytest.mark.parametrize("path", ["/api/phrases", "/api/snapshots"])
def test_an_api_scope_with_only_drafts_is_404_with_the_usual_error(client, state, path):
    scopes = _scopes(**DRAFTS[state])
    for kind in ("forecaster", "source", "tag"):
        scope_id = scopes[kind].pk
        response = client.get(path, {"scope_kind": kind, "scope_id": scope_id})
        assert response.status_code == 404, (kind, state)
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"detail": f"No {kind} with id {scope_id}."}


def test_once_a_forecast_is_published_every_door_opens(client):
    scopes = _scopes(published_at=timezone.now())
    for kind, url in _pages(scopes).items():
        assert client.get(url).status_code == 200, kind
    assert SECRET_TEXT in client.get(_pages(scopes)["source"]).content.decode()
    for kind in ("forecaster", "source", "tag"):
        params = {"scope_kind": kind, "scope_id": scopes[kind].pk}
        for path in ("/api/phrases", "/api/snapshots"):
            response = client.get(path, params)
            assert response.status_code == 200, (path, kind)
            assert response.json()["scope"]["name"].startswith("Hidden")
    assert ("hidden-topic", "Hidden Topic") in _tag_options(client)


def test_a_published_forecast_opens_its_scopes_despite_other_drafts(client):
    scopes = _scopes(published_at=None)
    ForecastFactory(forecaster=scopes["forecaster"], source=scopes["source"])
    pages = _pages(scopes)
    assert client.get(pages["forecaster"]).status_code == 200
    assert client.get(pages["source"]).status_code == 200
    assert client.get(pages["tag"]).status_code == 404  # the tag is still on a draft alone


def _tag_options(client):
    html = client.get("/").content.decode()
    select = html[html.index('<select id="board-tag"') :].split("</select>")[0]
    return re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', select)


@pytest.mark.parametrize("state", list(DRAFTS))
def test_lists_feeds_exports_and_forms_leave_draft_only_scopes_out(client, state):
    _scopes(**DRAFTS[state])
    shown = ForecastFactory(statement="A published event happens.")
    score_services.scores_snapshot(as_of=dt.date(2026, 11, 28))
    assert _tag_options(client) == []
    response = client.get("/", {"tag": "hidden-topic"})
    assert response.status_code == 400
    assert "There is no tag &#x27;hidden-topic&#x27;." in response.content.decode()
    for url in (
        "/",
        reverse("forecasts:scores"),
        reverse("forecasts:leaderboard", args=["forecasters"]),
        reverse("forecasts:leaderboard", args=["sources"]),
        reverse("forecasts:leaderboard", args=["tags"]),
        reverse("forecasts:list"),
        "/api/forecasters",
        "/api/sources",
        "/api/scores",
        "/api/forecasts",
        reverse("feed-forecasts"),
        reverse("feed-resolutions"),
        reverse("export-forecasts-csv"),
        reverse("forecasts:digest-subscribe"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response) if response.streaming else response.content
        text = body.decode()
        assert "Hidden" not in text, url
        assert SECRET_TEXT not in text, url
    assert shown.statement in client.get(reverse("forecasts:list")).content.decode()
