"""The CSV export and the Atom feeds: content, filters, escaping, streaming, privacy, speed."""

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from forecasts.core import selectors as core_selectors
from forecasts.core import services as core_services
from forecasts.models import Forecast
from forecasts.web import exports
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITE = "http://127.0.0.1:8000"


def export(client, **params):
    response = client.get("/export/forecasts.csv", params)
    assert response.status_code == 200, response.content
    assert response.streaming
    assert "public" in response["Cache-Control"]
    text = b"".join(response.streaming_content).decode("utf-8")
    return response, list(csv.DictReader(io.StringIO(text)))


def api_slugs(client, **params):
    response = client.get("/api/forecasts", {**params, "limit": 100})
    assert response.status_code == 200
    return [item["slug"] for item in response.json()["items"]]


# --- CSV -------------------------------------------------------------------------


def test_csv_has_every_seed_forecast_with_outcome_and_score(client, seeded):
    response, rows = export(client)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="forecasts.csv"'
    assert (
        list(rows[0])
        == exports.COLUMNS
        == [
            "slug",
            "statement",
            "forecaster",
            "source",
            "made_on",
            "resolve_by",
            "status",
            "published_probability",
            "probability",
            "phrase",
            "outcome",
            "known_on",
            "brier",
            "evidence_url",
            "url",
        ]
    )
    assert len(rows) == 13
    assert [row["slug"] for row in rows] == api_slugs(client)
    trump = next(row for row in rows if row["slug"] == "trump-wins-second-term")
    assert trump == {
        "slug": "trump-wins-second-term",
        "statement": "Donald Trump wins the 3 November 2020 U.S. presidential election.",
        "forecaster": "Unnamed analyst (seed article)",
        "source": "U.S. and North Korea: Restart of talks, but to what end?",
        "made_on": "2019-10-15",
        "resolve_by": "2020-11-03",
        "status": "resolved",
        "published_probability": "0.65",
        "probability": "0.65",
        "phrase": "appears poised",
        "outcome": "NO",
        "known_on": "2020-11-07",
        "brier": "0.4225",
        "evidence_url": "https://en.wikipedia.org/wiki/2020_United_States_presidential_election",
        "url": f"{SITE}/forecasts/trump-wins-second-term/",
    }
    api_items = client.get("/api/forecasts", {"limit": 100}).json()["items"]
    api_briers = {item["slug"]: item["brier"] for item in api_items}
    for row in rows:
        expected = api_briers[row["slug"]]
        assert row["brier"] == ("" if expected is None else str(round(expected, 6)))
    due = next(row for row in rows if row["slug"] == "dprk-concessions-during-campaign")
    assert (due["status"], due["outcome"], due["known_on"], due["brier"]) == ("due", "", "", "")


@pytest.mark.parametrize(
    "params",
    [
        {"status": "due"},
        {"status": "resolved"},
        {"status": "open"},
        {"forecaster": "seed-article-analyst"},
        {"source": "seed-000-67102e3550562e4c"},
        {"tag": "state-department"},
        {"resolve_by_after": "2020-11-03", "resolve_by_before": "2021-01-20"},
        {"q": "north korea"},
        {"tag": "north-korea", "status": "resolved", "q": "denuclearization"},
    ],
)
def test_csv_filters_match_the_api(client, seeded, params):
    _, rows = export(client, **params)
    assert [row["slug"] for row in rows] == api_slugs(client, **params)


def test_csv_filters_narrow_the_export(client, seeded):
    _, rows = export(client, status="due")
    assert {row["slug"] for row in rows} == {
        "north-korea-deal-sways-reelection",
        "state-department-changes-shift-stance",
        "dprk-concessions-during-campaign",
    }
    _, rows = export(client, tag="state-department", status="resolved")
    assert rows
    assert all(row["status"] == "resolved" for row in rows)
    assert "trump-wins-second-term" not in {row["slug"] for row in rows}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"status": "draft"}, "status"),
        ({"status": "whatever"}, "status"),
        ({"resolve_by_after": "2020-02-30"}, "resolve_by_after"),
        ({"resolve_by_before": "soon"}, "resolve_by_before"),
        ({"tag": "<script>"}, "tag"),
        ({"q": "\x00"}, "q"),
    ],
)
def test_csv_bad_parameters_are_a_400_text_message(client, params, param):
    response = client.get("/export/forecasts.csv", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    message = response.content.decode()
    assert message.startswith("Bad query parameter.")
    assert f"{param}:" in message


def test_csv_cells_cannot_run_as_spreadsheet_formulas(client):
    dangerous = {
        "formula-equals": '=HYPERLINK("http://evil.example","click")',
        "formula-plus": "+1+2 happens",
        "formula-minus": "-1 is the answer",
        "formula-at": "@SUM(A1:A9) happens",
        "formula-tab": "\t=1+1",
        # Issue 16 (9): after leading spaces, and fullwidth.
        "formula-after-space": " =1+1",
        "formula-after-spaces": "\u00a0 \u3000+1+1",
        "formula-fullwidth": "\uff1d1+1",
        "formula-fullwidth-at": "\uff20SUM(A1)",
        "plain-text": 'A "quoted", comma-separated\nmulti-line statement',
    }
    forecaster = ForecasterFactory(name="=cmd|'/c calc'!A1")
    for slug, statement in dangerous.items():
        ForecastFactory(slug=slug, statement=statement, forecaster=forecaster)
    _, rows = export(client)
    by_slug = {row["slug"]: row for row in rows}
    for slug, statement in dangerous.items():
        cell = by_slug[slug]["statement"]
        if slug == "plain-text":
            assert cell == statement  # quoting round-trips; nothing is prefixed
        else:
            assert cell == "'" + statement
        assert by_slug[slug]["forecaster"] == "'=cmd|'/c calc'!A1"


def test_csv_is_streamed_in_chunks_from_chunked_queries(
    client, monkeypatch, django_assert_num_queries
):
    # The Python path (SQLite's; on PostgreSQL the export streams from COPY, see
    # test_export_copy.py).
    monkeypatch.setattr(exports, "copy_available", lambda: False)
    ForecastFactory.create_batch(7)
    monkeypatch.setattr(exports, "ROWS_PER_CHUNK", 2)
    monkeypatch.setattr(exports, "EXPORT_CHUNK_ROWS", 3)
    # The ids, then the rows three at a time.
    with django_assert_num_queries(4):
        response = client.get("/export/forecasts.csv")
        chunks = list(response.streaming_content)
    # A header, seven rows two at a time, and the rest: no chunk holds the whole export.
    assert len(chunks) == 4
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert len(rows) == 8


def test_csv_has_no_drafts_and_no_resolver_identity(client):
    resolver = UserFactory(
        username="mallory-resolves-4412",
        email="mallory.private@reviewers.example.net",
        is_superuser=True,
    )
    forecast = ForecastFactory(statement="Published statement", estimate__recorded_by=resolver)
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="YES",
        known_on=forecast.made_on,
        resolved_by=resolver,
        evidence_url="https://news.example.org/yes",
    )
    ForecastFactory(published_at=None, slug="draft-one", statement="Draft statement")
    response = client.get("/export/forecasts.csv")
    text = b"".join(response.streaming_content).decode()
    assert "Published statement" in text
    assert "Draft statement" not in text
    assert "draft-one" not in text
    for secret in ("mallory", "reviewers.example", "@"):
        assert secret not in text


@pytest.mark.parametrize("count", [5, 50])
def test_csv_query_count_does_not_grow_with_data(client, django_assert_max_num_queries, count):
    tag = TagFactory()
    for number in range(count):
        forecast = ForecastFactory()
        forecast.tags.add(tag)
        EstimateFactory(forecast=forecast, probability=0.55, made_on=forecast.made_on)
        if number % 2:
            ResolutionFactory(forecast=forecast)
    with django_assert_max_num_queries(2):
        response = client.get("/export/forecasts.csv", {"tag": tag.slug})
        rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == count
    assert sum(1 for row in rows if row["outcome"] == "YES") == count // 2


# --- Atom feeds ------------------------------------------------------------------------


def atom(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "public" in response["Cache-Control"]
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed, not untrusted)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None, required
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{required}").text, required
        link = entry.find(f"{ATOM}link").get("href")
        assert link.startswith(f"{SITE}/forecasts/"), link
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert len(set(ids)) == len(ids)
    return root, entries, response.content.decode()


def test_new_forecasts_feed_lists_published_forecasts_newest_first(client, seeded):
    newest = ForecastFactory(
        slug="newest-forecast",
        statement="The newest <forecast> happens.",
        published_at=timezone.now() + dt.timedelta(minutes=1),
    )
    ForecastFactory(published_at=None, slug="feed-draft", statement="Draft in the feed")
    root, entries, text = atom(client, "/feeds/forecasts.atom")
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == f"{SITE}/feeds/forecasts.atom"
    assert len(entries) == 14
    first = entries[0]
    assert first.find(f"{ATOM}title").text == "The newest <forecast> happens."
    assert first.find(f"{ATOM}link").get("href") == f"{SITE}{newest.get_absolute_url()}"
    assert "70%" in first.find(f"{ATOM}summary").text
    assert "feed-draft" not in text
    assert "Draft in the feed" not in text
    published = [entry.find(f"{ATOM}published").text for entry in entries]
    assert published == sorted(published, reverse=True)
    trump = next(
        e for e in entries if "trump-wins-second-term" in e.find(f"{ATOM}link").get("href")
    )
    assert "65%" in trump.find(f"{ATOM}summary").text
    assert "appears poised" in trump.find(f"{ATOM}summary").text
    assert {c.get("term") for c in trump.findall(f"{ATOM}category")} == {"U.S. election 2020"}


def test_new_forecasts_feed_is_capped(client):
    ForecastFactory.create_batch(core_selectors.FEED_ITEMS + 3)
    _, entries, _ = atom(client, "/feeds/forecasts.atom")
    assert len(entries) == core_selectors.FEED_ITEMS


def test_resolutions_feed_has_current_resolutions_and_corrections(client, seeded):
    resolver = UserFactory(
        username="oscar-resolves-9912",
        email="oscar.private@reviewers.example.net",
        is_superuser=True,
    )
    forecast = Forecast.objects.get(slug="dprk-concessions-during-campaign")
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="NO",
        known_on=dt.date(2020, 11, 3),
        resolved_by=resolver,
        note="No concessions were reported.",
    )
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="ANNULLED",
        known_on=dt.date(2020, 11, 3),
        resolved_by=resolver,
        evidence_url="https://news.example.org/ambiguous?a=1&b=2",
        correction_reason="The question turned out to be ambiguous.",
    )
    ForecastFactory(published_at=None, slug="resolved-draft", statement="A resolved draft")

    _, entries, text = atom(client, "/feeds/resolutions.atom")
    assert len(entries) == 11  # ten seed resolutions and the correction; no superseded one
    first = entries[0]
    assert first.find(f"{ATOM}title").text == f"Corrected to Annulled: {forecast.statement}"
    summary = first.find(f"{ATOM}summary").text
    assert "The question turned out to be ambiguous." in summary
    assert "Corrects the earlier outcome NO" in summary
    assert "https://news.example.org/ambiguous?a=1&amp;b=2" in summary
    assert first.find(f"{ATOM}link").get("href") == f"{SITE}{forecast.get_absolute_url()}"
    assert "No concessions were reported." not in text  # the superseded resolution
    assert "resolved-draft" not in text
    assert "A resolved draft" not in text
    trump = next(
        e for e in entries if "trump-wins-second-term" in e.find(f"{ATOM}link").get("href")
    )
    assert trump.find(f"{ATOM}title").text.startswith("NO: Donald Trump wins")
    assert "Known on 2020-11-07" in trump.find(f"{ATOM}summary").text
    for secret in ("oscar", "reviewers.example", "<author>", "@"):
        assert secret not in text.lower()


@pytest.mark.parametrize("count", [5, 50])
# One query more than the items need: the ledger head each feed carries.
@pytest.mark.parametrize(("path", "queries"), [("forecasts", 3), ("resolutions", 2)])
def test_feed_query_count_does_not_grow_with_data(
    client, django_assert_max_num_queries, count, path, queries
):
    tags = TagFactory.create_batch(2)
    for _ in range(count):
        forecast = ForecastFactory()
        forecast.tags.set(tags)
        ResolutionFactory(forecast=forecast)
    with django_assert_max_num_queries(queries):
        _, entries, _ = atom(client, f"/feeds/{path}.atom")
    assert len(entries) == count
