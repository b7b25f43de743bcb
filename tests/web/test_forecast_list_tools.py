"""The forecast list's search, sorts and filters (issue 17, 3): the page, ``/api/forecasts``
and the CSV export take the same parameters and list the same forecasts in the same order,
each checked against an order or a selection computed here, in Python."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape
from typing import get_args
from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecasts.core import services
from forecasts.core.search import full_text_available, statement_matches
from forecasts.models import Forecast
from forecasts.web.filters import SORT_LABELS, Sort
from forecasts.web.selectors import FILTER_CHOICES
from tests.conftest import require_postgresql
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    SourceFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
STATEMENTS = [
    "A recession begins in Germany before the end of 2026.",
    "Inflation in the euro area falls below two percent.",
    "The central bank cuts rates twice, easing the recession fears.",
    "Recessions hit three large economies at once.",
    "Unemployment in Spain falls below ten percent.",
    "The election is won by the incumbent party.",
    "Oil prices rise above 100 dollars a barrel.",
    "The trade deal is signed before the summit.",
]


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def world():
    """Eight published forecasts with distinct deadlines, made-on days, probabilities and
    outcomes (some resolved, one annulled, some open or due), two forecasters, two sources,
    two tags, and a draft that no list may show."""
    economy, politics = TagFactory(slug="economy", name="Economy"), TagFactory(slug="politics")
    alice = ForecasterFactory(slug="alice", name="Alice Analyst")
    bob = ForecasterFactory(slug="bob", name="Bob Pundit")
    weekly, daily = SourceFactory(key="weekly"), SourceFactory(key="daily")
    outcomes = ["YES", "NO", None, "NO", "ANNULLED", "YES", None, "NO"]
    for number, statement in enumerate(STATEMENTS):
        forecast = ForecastFactory(
            slug=f"f-{number}",
            statement=statement,
            forecaster=alice if number % 2 else bob,
            source=weekly if number % 3 else daily,
            # Deadlines and made-on days in orders of their own; two made on one day.
            made_on=dt.date(2025, 1, 1 + (number * 5) % 8 if number != 7 else 1),
            resolve_by=dt.date(2025, 6, 1) + dt.timedelta(days=97 * ((number * 3) % 8)),
            estimate=None,
        )
        forecast.tags.set([economy] if number < 5 else [politics])
        EstimateFactory(forecast=forecast, probability=0.1 + 0.1 * number, made_on=forecast.made_on)
        if number % 3 == 0:  # a later estimate: the standing probability differs
            EstimateFactory(
                forecast=forecast,
                probability=round(0.95 - 0.1 * number, 2),
                made_on=forecast.made_on + dt.timedelta(days=3),
            )
        if outcomes[number] is not None and forecast.resolve_by < NOW.date():
            services.forecast_resolve(
                forecast=forecast,
                outcome=outcomes[number],
                known_on=forecast.resolve_by,
                note="Reported.",
            )
    ForecastFactory(slug="a-draft", statement="A recession draft.", published_at=None)
    return {"economy": economy, "alice": alice, "weekly": weekly}


def _estimates(forecast: Forecast) -> list[float]:
    return [e.probability for e in forecast.estimates.order_by("made_on", "pk")]


def _brier(forecast: Forecast) -> float | None:
    resolution = forecast.resolutions.filter(is_current=True).first()
    if resolution is None or resolution.outcome not in ("YES", "NO"):
        return None
    return (_estimates(forecast)[0] - (1.0 if resolution.outcome == "YES" else 0.0)) ** 2


def expected_order(sort: str) -> list[str]:
    """The published forecasts in ``sort``'s order, computed from the rows one by one."""
    forecasts = list(Forecast.objects.filter(published_at__isnull=False))
    keys = {
        "deadline": lambda f: f.resolve_by,
        "made": lambda f: f.made_on,
        "probability": lambda f: _estimates(f)[-1],
        "brier": _brier,
    }
    key = keys[sort.removeprefix("-")]
    forecasts.sort(key=lambda f: (f.resolve_by, f.pk))  # the ties' order
    if sort == "-deadline":
        forecasts.reverse()
        return [f.slug for f in forecasts]
    valued = [f for f in forecasts if key(f) is not None]
    unvalued = [f for f in forecasts if key(f) is None]
    valued.sort(key=key, reverse=sort.startswith("-"))  # stable: ties keep their order
    return [f.slug for f in valued + unvalued]


def api_slugs(client, **params: str) -> list[str]:
    response = client.get("/api/forecasts", {**params, "limit": 100})
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["items"]]


def csv_slugs(client, **params: str) -> list[str]:
    response = client.get("/export/forecasts.csv", params)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return [row["slug"] for row in csv.DictReader(io.StringIO(text))]


def page_slugs(client, **params: str) -> list[str]:
    response = client.get("/forecasts/", params)
    assert response.status_code == 200, response.content
    rows = response.content.decode().split("<tbody>")[-1]
    return re.findall(r'<td data-label="Forecast">\s*<a href="/forecasts/([^/]+)/"', rows)


def everywhere(client, **params: str) -> list[str]:
    """The forecasts the page, the API and the CSV list for ``params``: the same, in order."""
    listed = page_slugs(client, **params)
    assert api_slugs(client, **params) == listed
    assert csv_slugs(client, **params) == listed
    return listed


def test_the_sorts_offered_are_the_sorts_taken():
    assert list(SORT_LABELS) == list(get_args(Sort))


@pytest.mark.parametrize("sort", [s for s in SORT_LABELS if s != "relevance"])
def test_each_sort_lists_in_its_order_on_the_page_api_and_csv(client, world, sort):
    expected = expected_order(sort)
    assert len(expected) == len(STATEMENTS)
    assert everywhere(client, sort=sort) == expected


def test_brier_sorts_put_the_unscored_last_either_way(client, world):
    scored = {f.slug for f in Forecast.objects.filter(published_at__isnull=False) if _brier(f)}
    for sort in ("brier", "-brier"):
        listed = everywhere(client, sort=sort)
        assert set(listed[: len(scored)]) == scored, sort
    assert everywhere(client) == expected_order("deadline")  # the default


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        ({"tag": "economy"}, lambda f: f.tags.filter(slug="economy").exists()),
        ({"forecaster": "alice"}, lambda f: f.forecaster.slug == "alice"),
        ({"source": "weekly"}, lambda f: f.source.key == "weekly"),
        ({"status": "resolved"}, lambda f: f.current_outcome in ("YES", "NO")),
        ({"status": "open"}, lambda f: f.current_outcome is None and f.resolve_by >= NOW.date()),
        (
            {"tag": "economy", "forecaster": "bob", "source": "weekly", "sort": "-probability"},
            lambda f: (
                f.tags.filter(slug="economy").exists()
                and f.forecaster.slug == "bob"
                and f.source.key == "weekly"
            ),
        ),
        ({"resolve_by_after": "2026-01-01"}, lambda f: f.resolve_by >= dt.date(2026, 1, 1)),
    ],
)
def test_each_filter_and_filters_combined(client, world, params, wanted):
    order = expected_order(params.get("sort", "deadline"))
    by_slug = {f.slug: f for f in Forecast.objects.filter(published_at__isnull=False)}
    expected = [slug for slug in order if wanted(by_slug[slug])]
    assert 0 < len(expected) < len(order)
    assert everywhere(client, **params) == expected


def test_search_finds_a_substring_without_full_text_search(client, world):
    if full_text_available():
        pytest.skip("On PostgreSQL a search is full-text (test_search_finds_word_stems).")
    # "recession" is in three statements, one of them as "Recessions"; never the draft.
    assert set(everywhere(client, q="RECESSION")) == {"f-0", "f-2", "f-3"}
    assert everywhere(client, q="cession fears") == ["f-2"]


def test_search_finds_word_stems_on_postgresql(client, world):
    require_postgresql("full-text search")
    # "recessions" and "recession" share a stem; a substring ("cession") is no word.
    assert set(everywhere(client, q="recessions")) == {"f-0", "f-2", "f-3"}
    assert everywhere(client, q="cession") == []
    # websearch syntax: a quoted phrase, "or", a word left out.
    assert everywhere(client, q='"falls below ten"') == ["f-4"]
    assert set(everywhere(client, q="inflation or unemployment")) == {"f-1", "f-4"}
    assert set(everywhere(client, q="recession -germany")) == {"f-2", "f-3"}
    assert everywhere(client, q="the") == []  # stop words alone match nothing


def test_relevance_puts_the_best_match_first_on_postgresql(client, world):
    require_postgresql("ranked full-text search")
    best = ForecastFactory(
        slug="best",
        statement="Recession, recession: the recession deepens.",
        resolve_by=dt.date(2030, 1, 1),
    )
    listed = everywhere(client, q="recession", sort="relevance")
    assert listed[0] == best.slug
    assert set(listed) == {"best", "f-0", "f-2", "f-3"}


def test_the_search_reads_the_gin_index_on_postgresql(world):
    require_postgresql("the GIN index of migration 0019")
    matching = Forecast.objects.filter(statement_matches("recession")).values("pk")
    sql, params = matching.query.sql_with_params()
    with connection.cursor() as cursor:
        # A handful of rows: left to itself the planner reads them all. With plain
        # scans off it may still walk another index in the list's order and filter
        # (it did when the suite ran in another order, with other statistics); only an
        # index that answers the search itself, through a bitmap scan, is left.
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "forecast_statement_search" in plan, plan


def test_relevance_without_full_text_search_is_the_deadline_order(client, world):
    if full_text_available():
        pytest.skip("Ranked on PostgreSQL (test_relevance_puts_the_best_match_first).")
    order = expected_order("deadline")
    assert everywhere(client, q="e", sort="relevance") == [
        slug for slug in order if "e" in Forecast.objects.get(slug=slug).statement.lower()
    ]


def test_the_page_says_what_it_shows_and_links_the_same_list_elsewhere(client, world):
    params = {"q": "recession", "tag": "economy", "forecaster": "bob", "sort": "-made"}
    response = client.get("/forecasts/", params)
    html = unescape(response.content.decode())
    listed = page_slugs(client, **params)
    assert f"{len(listed)} forecast" in html
    assert (
        f"{len(listed)} forecast{'s' if len(listed) != 1 else ''} matching “recession”, "
        "tagged Economy, by Bob Pundit, sorted by date made, latest first." in html
    )
    for path in ("/export/forecasts.csv", "/api/forecasts"):
        link = re.search(rf'href="{re.escape(path)}\?([^"]+)"', html).group(1)
        assert dict(parse_qsl(link)) == params, path
    assert 'href="/forecasts/">Clear filters</a>' in html
    # The form shows the filters in force, each input labelled.
    assert 'value="recession"' in html
    assert '<option value="economy" selected>Economy</option>' in html
    assert '<option value="-made" selected>' in html
    for input_id in re.findall(r'<(?:input|select) [^>]*id="([^"]+)"', html):
        assert f'<label for="{input_id}">' in html, input_id


def test_the_choices_are_the_public_ones(client, world):
    hidden = ForecasterFactory(slug="drafts-only", name="Drafts Only")
    ForecastFactory(forecaster=hidden, published_at=None)
    html = client.get("/forecasts/").content.decode()
    assert '<option value="alice">Alice Analyst</option>' in html
    assert "drafts-only" not in html
    assert 'value="weekly"' in html
    assert 'value="economy"' in html


def test_a_chosen_forecaster_beyond_the_first_choices_is_still_offered(client, db):
    for number in range(FILTER_CHOICES + 1):
        ForecastFactory(forecaster=ForecasterFactory(name=f"A{number:04d}", slug=f"a-{number}"))
    last = f"a-{FILTER_CHOICES}"
    assert f'value="{last}"' not in client.get("/forecasts/").content.decode()
    html = client.get("/forecasts/", {"forecaster": last}).content.decode()
    assert f'<option value="{last}" selected>A{FILTER_CHOICES:04d}</option>' in html
    assert "1 forecast by A0200" in html


def test_an_empty_field_of_the_form_is_left_out_of_the_url(client, world):
    response = client.get(
        "/forecasts/", {"q": "", "status": "", "tag": "economy", "sort": "", "page": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == "/forecasts/?tag=economy"


def test_the_pager_keeps_the_filters(client, db):
    tag = TagFactory(slug="many")
    forecasts = [
        ForecastFactory(statement=f"Rates rise {n}.", resolve_by=dt.date(2027, 1, 1 + n))
        for n in range(28)
    ] + [ForecastFactory(statement=f"Rates fall {n}.") for n in range(40)]
    for forecast in forecasts:
        forecast.tags.set([tag])
    params = {"q": "rates", "tag": "many", "sort": "-deadline"}
    first = client.get("/forecasts/", params).content.decode()
    assert "68 forecasts matching “rates”, tagged" in first
    link = re.search(r'<a href="\?([^"]+)" rel="next">', first).group(1)
    assert dict(parse_qsl(unescape(link))) == {**params, "page": "2"}
    second = client.get("/forecasts/?" + unescape(link)).content.decode()
    assert 'rel="prev"' in second
    assert "Page 2 of 2" in second
    walked = page_slugs(client, **params) + page_slugs(client, **params, page="2")
    assert walked == csv_slugs(client, **params)
    assert len(set(walked)) == 68


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "sideways"}, "sort: Input should be 'deadline', '-deadline'"),
        ({"tag": "not a slug"}, "tag: String should match pattern"),
        ({"q": "x" * 201}, "q: String should have at most 200 characters"),
        ({"q": "nul\x00"}, "q: String should match pattern"),
        ({"forecaster": "ok", "sort": "up"}, "sort: Input should be"),
        ({"page": "two"}, "Page must be a whole number from 1, not 'two'."),
    ],
)
def test_bad_parameters_are_a_400_with_a_clear_message(client, world, params, message):
    page = client.get("/forecasts/", params)
    assert page.status_code == 400
    assert message in unescape(page.content.decode())
    if "page" in params:
        return  # the API and the CSV page by limit and offset
    api = client.get("/api/forecasts", params)
    assert api.status_code == 400
    assert message in api.json()["detail"]
    export = client.get("/export/forecasts.csv", params)
    assert export.status_code == 400
    assert message in export.content.decode()


def test_filtered_and_sorted_pages_are_cached_by_their_parameters(client, world):
    sorted_page = client.get("/forecasts/?sort=-brier&tag=economy").content
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/forecasts/?tag=economy&utm=x&sort=-brier")
    assert len(queries) == 0
    assert again.content == sorted_page
    assert client.get("/forecasts/?sort=brier&tag=economy").content != sorted_page
    assert client.get("/forecasts/?q=recession").content != client.get("/forecasts/").content
