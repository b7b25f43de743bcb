"""A reader finds their way around (issue 17): one header and footer on every public page,
the feeds named in every head, forecast pages that link onward, index pages of the
forecasters, sources and topics, and an API root that answers."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecasts.core.changes import public_pages_changed
from forecasts.models import Forecast
from tests.factories import ForecasterFactory, ForecastFactory, SourceFactory, TagFactory

pytestmark = pytest.mark.django_db


class Links(HTMLParser):
    """The links of a page, by the element they sit in (header, footer, head, main)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.anchors: dict[str, list[tuple[str, str]]] = {}  # region -> [(href, text)]
        self.alternates: list[dict[str, str | None]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def region(self) -> str:
        for tag in reversed(self.open):
            if tag in ("header", "footer", "main", "head"):
                return tag
        return "body"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "alternate":
            self.alternates.append(attributes)
        if tag == "a":
            self._href, self._text = attributes.get("href"), []
        if tag not in ("link", "meta", "br", "img", "input"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            text = " ".join("".join(self._text).split())
            self.anchors.setdefault(self.region(), []).append((self._href, text))
            self._href = None
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


HEADER = [
    ("/", "Forecast tracker"),
    ("/forecasts/", "Forecasts"),
    ("/forecasters/", "Forecasters"),
    ("/sources/", "Sources"),
    ("/tags/", "Topics"),
    ("/method/", "Method"),
    ("/digests/subscribe/", "Subscribe"),
]
FOOTER = {
    "/method/#lexicon",
    "/feeds/forecasts.atom",
    "/feeds/resolutions.atom",
    "/export/forecasts.csv",
    "/api/docs",
    "/method/",
}
PUBLIC_PAGES = [
    "/",
    "/forecasts/",
    "/forecasts/trump-wins-second-term/",
    "/forecasters/",
    "/sources/",
    "/tags/",
    "/method/",
    "/scores/",
    "/leaderboards/forecasters/",
    "/digests/subscribe/",
]


def test_every_public_page_has_the_same_header_footer_and_feed_links(client, seeded):
    for url in PUBLIC_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        page = links(response.content.decode())
        assert page.anchors["header"] == HEADER, url
        assert {href for href, _ in page.anchors["footer"]} >= FOOTER, url
        feeds = [(a["type"], a["href"]) for a in page.alternates]
        assert feeds == [
            ("application/atom+xml", "/feeds/forecasts.atom"),
            ("application/atom+xml", "/feeds/resolutions.atom"),
        ], url
        lexicon = [text for href, text in page.anchors["footer"] if href == "/method/#lexicon"]
        assert lexicon == ["a cited lexicon"], url


def test_the_footer_links_lead_somewhere(client, seeded):
    for href in FOOTER | {"/"}:
        assert client.get(href.split("#")[0]).status_code == 200, href


def test_signed_in_readers_also_see_my_reviews(client, seeded):
    user = get_user_model().objects.create_user("reviewer", password="a long test password")
    client.force_login(user)
    header = links(client.get("/forecasts/").content.decode()).anchors["header"]
    assert header == [*HEADER, ("/review/", "My reviews")]


def test_the_current_section_is_marked_in_the_header(client, seeded):
    html = client.get("/forecasters/").content.decode()
    assert '<a href="/forecasters/" aria-current="page">Forecasters</a>' in html


def test_a_forecast_page_links_its_forecaster_source_and_topics(client, seeded):
    forecast = Forecast.objects.get(slug="trump-wins-second-term")
    html = client.get(forecast.get_absolute_url()).content.decode()
    main = links(html).anchors["main"]
    assert (f"/forecasters/{forecast.forecaster.slug}/", forecast.forecaster.name) in main
    assert (f"/sources/{forecast.source.key}/", forecast.source.title) in main
    tags = list(forecast.tags.all())
    assert tags
    for tag in tags:
        assert (f"/tags/{tag.slug}/", tag.name) in main
    for href, _ in main:  # and each of those pages exists
        if href.startswith(("/forecasters/", "/sources/", "/tags/")):
            assert client.get(href).status_code == 200, href


def test_a_forecast_without_a_quote_still_names_its_source(client):
    forecast = ForecastFactory(quote="")
    main = links(client.get(forecast.get_absolute_url()).content.decode()).anchors["main"]
    assert (f"/sources/{forecast.source.key}/", forecast.source.title) in main


def test_scope_pages_link_each_forecasts_forecaster_and_source(client):
    tag = TagFactory()
    forecast = ForecastFactory()
    forecast.tags.set([tag])
    forecaster, source = forecast.forecaster, forecast.source
    on_tag = links(client.get(f"/tags/{tag.slug}/").content.decode()).anchors["main"]
    assert (f"/forecasters/{forecaster.slug}/", forecaster.name) in on_tag
    assert (f"/sources/{source.key}/", source.title) in on_tag
    on_forecaster = links(client.get(f"/forecasters/{forecaster.slug}/").content.decode())
    assert (f"/sources/{source.key}/", source.title) in on_forecaster.anchors["main"]
    on_source = links(client.get(f"/sources/{source.key}/").content.decode())
    assert (f"/forecasters/{forecaster.slug}/", forecaster.name) in on_source.anchors["main"]


# --- The index pages ---------------------------------------------------------------------


def test_the_index_pages_list_only_scopes_with_a_published_forecast_with_counts(client):
    shown_forecaster = ForecasterFactory(name="Ada Shown")
    hidden_forecaster = ForecasterFactory(name="Bea Hidden")
    shown_source = SourceFactory(title="A published article")
    hidden_source = SourceFactory(title="A draft-only article")
    shown_tag, hidden_tag = TagFactory(name="Elections"), TagFactory(name="Secret topic")
    for _ in range(3):
        published = ForecastFactory(forecaster=shown_forecaster, source=shown_source)
        published.tags.set([shown_tag])
    draft = ForecastFactory(forecaster=hidden_forecaster, source=hidden_source, published_at=None)
    draft.tags.set([hidden_tag])

    for url, shown, hidden, key in (
        ("/forecasters/", shown_forecaster.name, hidden_forecaster.name, shown_forecaster.slug),
        ("/sources/", shown_source.title, hidden_source.title, shown_source.key),
        ("/tags/", shown_tag.name, hidden_tag.name, shown_tag.slug),
    ):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert hidden not in html, url
        rows = [line for line in html.split("<tr>") if f'href="{url}{key}/">{shown}</a>' in line]
        assert len(rows) == 1, url
        assert '<td class="num">3</td>' in rows[0], url
        assert "1 " in html.split('class="count">')[1][:3], url  # "1 forecaster ..."
    # the scope rule stands: a scope with drafts alone has no page either
    assert client.get(f"/forecasters/{hidden_forecaster.slug}/").status_code == 404
    assert client.get(f"/sources/{hidden_source.key}/").status_code == 404
    assert client.get(f"/tags/{hidden_tag.slug}/").status_code == 404


def test_an_empty_index_says_so(client):
    response = client.get("/tags/")
    assert response.status_code == 200
    assert "None yet" in response.content.decode()


def test_the_index_pages_are_paged_in_order(client):
    forecasters = [ForecasterFactory(name=f"Forecaster {n:03}") for n in range(55)]
    for forecaster in forecasters:
        ForecastFactory(forecaster=forecaster)
    first = client.get("/forecasters/").content.decode()
    second = client.get("/forecasters/?page=2").content.decode()
    assert "page 1 of 2" in first
    assert 'rel="next" href="?page=2"' in first
    names = [f.name for f in forecasters]  # already in name order
    assert all(name in first for name in names[:50])
    assert not any(name in first for name in names[50:])
    assert all(name in second for name in names[50:])
    assert first.index(names[0]) < first.index(names[49])
    assert client.get("/forecasters/?page=3").status_code == 400
    assert client.get("/forecasters/?page=x").status_code == 400


def test_sources_are_listed_newest_first(client):
    old = SourceFactory(title="Older piece", published_on=dt.date(2019, 1, 1))
    new = SourceFactory(title="Newer piece", published_on=dt.date(2024, 5, 1))
    ForecastFactory(source=old)
    ForecastFactory(source=new)
    html = client.get("/sources/").content.decode()
    assert html.index("Newer piece") < html.index("Older piece")


def test_the_index_pages_are_cached_until_the_record_changes(client):
    ForecastFactory(forecaster=ForecasterFactory(name="First pundit"))
    public_pages_changed()
    assert "First pundit" in client.get("/forecasters/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/forecasters/?utm_source=x")  # an unread parameter: same page
    assert again.status_code == 200
    assert not any("forecasts_forecaster" in q["sql"] for q in queries)
    ForecastFactory(forecaster=ForecasterFactory(name="Second pundit"))
    public_pages_changed()
    assert "Second pundit" in client.get("/forecasters/").content.decode()


# --- The API's root and docs ---------------------------------------------------------------


def test_the_api_root_lists_every_endpoint_with_links(client, settings):
    settings.SITE_URL = "https://tracker.example.org"
    response = client.get("/api/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    index = response.json()
    assert index["docs"] == "https://tracker.example.org/api/docs"
    assert index["openapi"] == "https://tracker.example.org/api/openapi.json"
    schema = client.get("/api/openapi.json").json()
    assert [e["path"] for e in index["endpoints"]] == list(schema["paths"])
    listed = {e["path"]: e for e in index["endpoints"]}
    assert listed["/api/ledger/head"]["url"] == "https://tracker.example.org/api/ledger/head"
    assert all(e["method"] == "GET" and e["description"] for e in index["endpoints"])
    assert "/api/" not in listed  # the index is not an endpoint of the schema


def test_the_api_docs_show_no_header_above_swagger(client):
    html = client.get("/api/docs").content.decode()
    body = html.split("<body>")[1]
    before_swagger = body.split('<div id="swagger-ui">')[0]
    # Only what readers without JavaScript see (Swagger draws its own title and paths).
    assert before_swagger.strip().startswith("<noscript>")
    assert "<h1>" in before_swagger.split("</noscript>")[0]
    assert "<h1>" not in before_swagger.split("</noscript>")[1]
