"""``ingest_article`` from a URL or a saved HTML page (issue 18): drafts proposed from the
page's main text, the source titled, attributed and dated from its metadata unless the
options say otherwise; refusals are a CommandError with nothing stored."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from forecasts.models import Forecast, Source
from tests.page_server import (
    ARTICLE_AUTHOR,
    ARTICLE_SENTENCES,
    ARTICLE_SITE,
    ARTICLE_TITLE,
    FOOTER,
    article_html,
)

pytestmark = pytest.mark.django_db

CANONICAL = "https://news.example.org/2025/03/bank-outlook"


def ingest(article, **options):
    call_command("ingest_article", str(article), **options)


def nothing_stored():
    return Source.objects.count() == 0 and Forecast.objects.count() == 0


def test_a_fetched_page_becomes_a_source_with_its_drafts(page_server, capsys):
    url = page_server.url("/article.html")
    ingest(url)
    source = Source.objects.get()
    assert (source.url, source.title, source.author, source.publisher) == (
        url,
        ARTICLE_TITLE,
        ARTICLE_AUTHOR,
        ARTICLE_SITE,
    )
    assert source.published_on == dt.date(2025, 3, 4)
    assert source.text.split("\n\n")[-4:] == list(ARTICLE_SENTENCES)
    assert FOOTER not in source.text
    drafts = Forecast.objects.filter(source=source)
    cut = drafts.get(quote__startswith="The bank is likely to cut rates")
    assert cut.resolve_by == dt.date(2025, 6, 30)
    assert cut.made_on == dt.date(2025, 3, 4)
    assert cut.latest_estimate().phrase == "likely"
    assert source.text[cut.quote_start : cut.quote_end] == cut.quote
    inflation = drafts.get(quote__startswith="Inflation is unlikely to fall")
    assert inflation.resolve_by == dt.date(2026, 12, 31)
    assert {draft.forecaster.name for draft in drafts} == {ARTICLE_AUTHOR}
    assert all(draft.published_at is None for draft in drafts)
    out = capsys.readouterr().out
    assert f"Fetching {url} …" in out
    assert (
        f"Read text/html from {url}: “{ARTICLE_TITLE}”, by {ARTICLE_AUTHOR}, "
        f"published 2025-03-04, on {ARTICLE_SITE};"
    ) in out
    assert f"Source “{ARTICLE_TITLE}” stored; {drafts.count()} draft forecast(s) proposed" in out


def test_the_options_win_over_the_page(page_server):
    ingest(
        page_server.url("/redirect"),
        title="Spring outlook",
        published="2025-03-05",
        author="Desk",
        forecaster="Harbour Gazette economics desk",
        url=CANONICAL,
    )
    source = Source.objects.get()
    assert (source.url, source.title, source.author) == (CANONICAL, "Spring outlook", "Desk")
    assert source.published_on == dt.date(2025, 3, 5)
    assert {f.forecaster.name for f in source.forecasts.all()} == {"Harbour Gazette economics desk"}


def test_a_redirected_address_is_stored_where_it_led_and_not_twice(page_server, capsys):
    ingest(page_server.url("/redirect"))
    first = set(Forecast.objects.values_list("pk", flat=True))
    ingest(page_server.url("/article.html"))
    assert Source.objects.get().url == page_server.url("/article.html")
    assert set(Forecast.objects.values_list("pk", flat=True)) == first
    assert "already stored; 0 draft forecast(s) proposed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/big.html", r"Nothing was stored: The page is larger than 0\.2 MB"),
        ("/paper.pdf", r"Nothing was stored: Not an HTML or text page \(application/pdf\)"),
        ("/slow.html", r"Nothing was stored: Timed out after 0\.5 s"),
        ("/links.html", "Nothing was stored: No article text was found"),
        (
            "/plain.txt",
            r"does not say when it was published: give its publication date "
            r"\(--published YYYY-MM-DD\)",
        ),
    ],
)
def test_pages_that_cannot_be_ingested_store_nothing(page_server, path, message):
    with pytest.raises(CommandError, match=message):
        ingest(page_server.url(path))
    assert nothing_stored()


def test_a_private_address_is_refused_when_the_setting_is_off(page_server, settings):
    settings.SOURCE_FETCH_ALLOW_PRIVATE = False
    for host, message in [
        ("127.0.0.1", r"Refused: 127\.0\.0\.1 is a loopback address"),
        ("localhost", r"Refused: localhost resolves to 127\.0\.0\.1, a loopback address"),
    ]:
        with pytest.raises(CommandError, match=message):
            ingest(page_server.url("/article.html", host=host))
    assert page_server.requests == []
    assert nothing_stored()


def test_other_schemes_are_refused():
    with pytest.raises(CommandError, match="only http and https addresses are fetched"):
        ingest("ftp://files.example.org/article.html")
    assert nothing_stored()


def test_a_plain_text_page_with_its_date_given(page_server):
    ingest(page_server.url("/plain.txt"), published="2025-02-01")
    source = Source.objects.get()
    assert source.title == "Plain outlook"
    assert source.forecasts.get().resolve_by == dt.date(2025, 6, 30)
    # Nobody is named: the site is held to account.
    assert source.forecasts.get().forecaster.name == "127.0.0.1"


# --- A saved page, offline ----------------------------------------------------------


def test_a_saved_page_is_ingested_under_its_canonical_address(tmp_path):
    saved = tmp_path / "outlook.html"
    saved.write_text(article_html(canonical=CANONICAL), encoding="utf-8")
    ingest(saved)
    source = Source.objects.get()
    assert (source.url, source.title, source.published_on) == (
        CANONICAL,
        ARTICLE_TITLE,
        dt.date(2025, 3, 4),
    )
    assert source.forecasts.filter(quote__startswith="The bank is likely to cut").exists()


def test_a_saved_page_without_an_address_needs_one(tmp_path):
    saved = tmp_path / "outlook.htm"
    saved.write_text(article_html(), encoding="utf-8")
    with pytest.raises(CommandError, match=r"names no address of its own: give its URL \(--url\)"):
        ingest(saved)
    assert nothing_stored()
    ingest(saved, url=CANONICAL)
    assert Source.objects.get().url == CANONICAL


def test_a_text_file_still_needs_its_address_and_date(tmp_path):
    article = tmp_path / "outlook.txt"
    article.write_text("Outlook\n\nThe bank is likely to cut rates by June 2025.\n")
    with pytest.raises(CommandError, match="--url is required for a text file"):
        ingest(article, published="2025-01-01")
    with pytest.raises(CommandError, match="--published is required for a text file"):
        ingest(article, url=CANONICAL)
    assert nothing_stored()
