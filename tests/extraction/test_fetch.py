"""Fetching an article (issue 18): pages from a local server, read to their main text and
metadata; private addresses, other schemes, oversized, slow and non-HTML pages refused
with a message that says why."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest

from forecasts.extraction import fetch
from forecasts.extraction.fetch import FetchPolicy, FetchRefused, address_refusal
from forecasts.extraction.html_article import article_from_html, html_decode
from tests.page_server import (
    ARTICLE_AUTHOR,
    ARTICLE_SENTENCES,
    ARTICLE_SITE,
    ARTICLE_TITLE,
    FOOTER,
    MENU,
    article_html,
)


def test_an_article_is_read_to_its_main_text_and_metadata(page_server):
    page, article = fetch.article_fetch(page_server.url("/article.html"))
    assert page.url == page_server.url("/article.html")
    assert page.content_type == "text/html"
    assert article.title == ARTICLE_TITLE
    assert article.author == ARTICLE_AUTHOR
    assert article.sitename == ARTICLE_SITE
    assert article.published_on == dt.date(2025, 3, 4)
    paragraphs = article.text.split("\n\n")
    assert paragraphs[-4:] == list(ARTICLE_SENTENCES)
    assert MENU not in article.text
    assert FOOTER not in article.text
    # The request named the page's host, and said what it accepts.
    assert page_server.requests == [("/article.html", f"127.0.0.1:{page_server.port}")]


def test_the_charset_the_server_declares_is_the_one_read(page_server):
    _page, article = fetch.article_fetch(page_server.url("/latin1.html"))
    assert article.text.endswith("Café prices rose again.")


def test_a_compressed_page_reads_as_the_plain_one(page_server):
    _page, plain = fetch.article_fetch(page_server.url("/article.html"))
    _page, gzipped = fetch.article_fetch(page_server.url("/gzipped.html"))
    assert gzipped.text == plain.text


def test_redirects_are_followed_and_the_final_address_kept(page_server):
    page, article = fetch.article_fetch(page_server.url("/redirect-twice"))
    assert page.url == page_server.url("/article.html")
    assert article.title == ARTICLE_TITLE
    assert [path for path, _host in page_server.requests] == [
        "/redirect-twice",
        "/redirect",
        "/article.html",
    ]


def test_redirects_are_bounded(page_server):
    with pytest.raises(FetchRefused, match="more than 3 redirects"):
        fetch.page_fetch(page_server.url("/loop"))
    assert len(page_server.requests) == 4  # the first request and three redirects


def test_a_redirect_to_another_scheme_is_refused(page_server):
    with pytest.raises(FetchRefused, match="only http and https addresses are fetched"):
        fetch.page_fetch(page_server.url("/to-ftp"))


def test_every_redirect_is_vetted_before_it_is_followed(page_server, settings, monkeypatch):
    # The local server stands for the public internet here; where it redirects to (the
    # cloud metadata address) is refused before any connection is made.
    settings.SOURCE_FETCH_ALLOW_PRIVATE = False
    monkeypatch.setattr(
        fetch, "address_refusal", lambda a: None if a == "127.0.0.1" else address_refusal(a)
    )
    connections = []
    real_connect = fetch._connect

    def connect(target, *args, **kwargs):
        connections.append(target.host)
        return real_connect(target, *args, **kwargs)

    monkeypatch.setattr(fetch, "_connect", connect)
    with pytest.raises(FetchRefused, match=r"Refused: 169\.254\.169\.254 is a link-local address"):
        fetch.page_fetch(page_server.url("/to-metadata"))
    assert connections == ["127.0.0.1"]


def test_the_connection_goes_to_the_address_that_was_checked(page_server, monkeypatch):
    # A second DNS answer (rebinding to another address) is never asked for: the fetcher
    # connects to the address it resolved and vetted, naming the host in the request.
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "192.0.2.1"])
    asked = []

    def resolve(host, port, *args, **kwargs):
        if host != "news.test":
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(fetch.socket, "getaddrinfo", resolve)
    page = fetch.page_fetch(page_server.url("/article.html", host="news.test"))
    assert page.url == f"http://news.test:{page_server.port}/article.html"
    assert asked == ["news.test"]
    assert page_server.requests == [("/article.html", f"news.test:{page_server.port}")]


def test_a_host_name_lookup_counts_against_the_time_limit(page_server, monkeypatch):
    # The system resolver takes no timeout; a lookup that hangs is not waited for.
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == "slow-dns.test":
            time.sleep(5)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(fetch.socket, "getaddrinfo", resolve)
    began = time.monotonic()
    with pytest.raises(FetchRefused, match=r"Timed out after 0\.5 s"):
        fetch.page_fetch(page_server.url("/article.html", host="slow-dns.test"))
    assert time.monotonic() - began < 4.5  # the lookup was not waited for (5 s)
    assert page_server.requests == []


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("127.0.0.1", "Refused: 127.0.0.1 is a loopback address"),
        ("localhost", "Refused: localhost resolves to 127.0.0.1, a loopback address"),
    ],
)
def test_private_addresses_are_refused_unless_the_setting_allows_them(
    page_server, settings, host, message
):
    settings.SOURCE_FETCH_ALLOW_PRIVATE = False
    with pytest.raises(FetchRefused, match=message):
        fetch.page_fetch(page_server.url("/article.html", host=host))
    assert page_server.requests == []  # refused before connecting
    settings.SOURCE_FETCH_ALLOW_PRIVATE = True
    assert fetch.page_fetch(page_server.url("/article.html", host=host)).text


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.0.0.5", "a private address"),
        ("172.16.4.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104
        ("::", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("100.64.0.1", "not a public address"),
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_which_addresses_are_refused(address, kind):
    assert address_refusal(address) == kind


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https addresses are fetched"),
        ("ftp://files.example.org/a.html", "only http and https addresses are fetched"),
        ("gopher://127.0.0.1:6379/_INFO", "only http and https addresses are fetched"),
        ("example.org/article", "only http and https addresses are fetched"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http:///nohost", "names no host"),
        ("http://example.org:99999/", "not a valid address"),
        ("http://2130706433/", r"2130706433 resolves to 127\.0\.0\.1, a loopback address"),
        ("http://[::ffff:192.168.0.1]/", "is a private address"),
    ],
)
def test_addresses_that_are_not_fetched(url, message):
    with pytest.raises(FetchRefused, match=message):
        fetch.page_fetch(url, policy=FetchPolicy())


@pytest.mark.parametrize("path", ["/big.html", "/endless.html", "/bomb.html"])
def test_pages_over_the_size_limit_are_refused(page_server, path):
    # Announced (Content-Length), streamed without a length, and 20 MB gzipped into 20 kB.
    with pytest.raises(FetchRefused, match=r"The page is larger than 0\.2 MB"):
        fetch.page_fetch(page_server.url(path))


def test_the_size_limit_reads_as_the_setting_says(page_server, settings):
    settings.SOURCE_FETCH_MAX_BYTES = 5_000_000
    assert FetchPolicy.from_settings().max_bytes == 5_000_000
    with pytest.raises(FetchRefused, match=r"The page is larger than 5 MB"):
        fetch._body(
            _Announced(6_000_000),
            fetch._target("http://x.test/"),
            _NoConnection(),
            policy=FetchPolicy.from_settings(),
            deadline=time.monotonic() + 1,
        )


class _Announced:
    """A response announcing more than the limit, whose body is never read."""

    def __init__(self, length: int) -> None:
        self.length = length

    def getheader(self, name: str) -> str | None:
        return str(self.length) if name == "Content-Length" else None

    def read1(self, n: int) -> bytes:
        raise AssertionError("the body was read")


class _NoConnection:
    sock = None


@pytest.mark.parametrize("path", ["/slow.html", "/drip.html"])
def test_a_slow_page_times_out(page_server, path):
    # One that says nothing for 3 s, and one that trickles a few bytes every 50 ms forever:
    # the limit is on the whole fetch, not on each read.
    began = time.monotonic()
    with pytest.raises(FetchRefused, match=r"Timed out after 0\.5 s"):
        fetch.page_fetch(page_server.url(path))
    # Not before the limit, and not as long as the slow page would have taken (3 s).
    assert 0.4 < time.monotonic() - began < 2.9


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/paper.pdf", r"Not an HTML or text page \(application/pdf\)"),
        ("/untyped", r"Not an HTML or text page \(no content type given\)"),
        ("/gone.html", "The server answered 410 Gone"),
        ("/nowhere", "The server answered 404 Not Found"),
        ("/links.html", "No article text was found"),
    ],
)
def test_pages_that_are_not_articles_are_refused(page_server, path, message):
    with pytest.raises(FetchRefused, match=message):
        fetch.article_fetch(page_server.url(path))


def test_a_plain_text_page_is_its_own_text(page_server):
    page, article = fetch.article_fetch(page_server.url("/plain.txt"))
    assert page.content_type == "text/plain"
    assert article.title == "Plain outlook"
    assert "likely to cut rates by the end of June 2025" in article.text
    assert article.published_on is None


def test_nothing_listens_there():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = FetchPolicy(allow_private=True, connect_timeout=0.5, timeout=0.5)
    with pytest.raises(FetchRefused, match=f"Could not connect to 127.0.0.1 port {port}"):
        fetch.page_fetch(f"http://127.0.0.1:{port}/", policy=policy)


# --- Saved pages, offline --------------------------------------------------------------


def test_a_saved_page_is_read_as_a_fetched_one(tmp_path):
    saved = tmp_path / "article.html"
    saved.write_text(article_html(canonical="https://news.example.org/2025/03/outlook"))
    article = fetch.html_file_read(saved, max_bytes=1_000_000)
    assert (article.title, article.author, article.published_on) == (
        ARTICLE_TITLE,
        ARTICLE_AUTHOR,
        dt.date(2025, 3, 4),
    )
    assert article.url == "https://news.example.org/2025/03/outlook"
    assert article.text.split("\n\n")[-4:] == list(ARTICLE_SENTENCES)


def test_a_saved_page_without_an_address_of_its_own_has_none(tmp_path):
    saved = tmp_path / "article.htm"
    saved.write_text(article_html())
    assert fetch.html_file_read(saved, max_bytes=1_000_000).url == ""


def test_a_saved_page_over_the_limit_is_refused(tmp_path):
    saved = tmp_path / "article.html"
    saved.write_text(article_html())
    with pytest.raises(FetchRefused, match=r"larger than 0\.001 MB"):
        fetch.html_file_read(saved, max_bytes=1_000)


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ('<meta charset="windows-1252"><p>Café</p>'.encode("cp1252"), "", "Café"),
        (
            "<meta http-equiv='Content-Type' content='text/html; charset=ISO-8859-1'>é".encode(
                "latin-1"
            ),
            "",
            "é",
        ),
        ("<p>Café</p>".encode(), "", "Café"),
        ("<p>Café</p>".encode("cp1252"), "", "Café"),  # not UTF-8, unlabelled
        ("\ufeff<p>Café</p>".encode("utf-16"), "", "Café"),
        ("<p>Café</p>".encode("koi8-r", "replace"), "no-such-charset", "Caf"),
        ("<p>Привет</p>".encode("koi8-r"), "KOI8-R", "Привет"),
    ],
)
def test_html_is_decoded_by_what_it_declares(data, charset, expected):
    assert expected in html_decode(data, charset=charset)


def test_a_page_with_no_metadata_says_so():
    article = article_from_html(
        "<html><body><article>"
        + "<p>The bank is likely to cut rates next year, analysts said on Monday.</p>" * 3
        + "</article></body></html>"
    )
    assert (article.title, article.author, article.published_on, article.url) == ("", "", None, "")
    assert "likely to cut rates" in article.text


def test_the_defaults_fetch_only_public_pages_within_limits():
    # Without the tests' local-server settings (page_server), as deployed by default.
    assert FetchPolicy.from_settings() == FetchPolicy(
        connect_timeout=5, timeout=15, max_bytes=5_000_000, max_redirects=5, allow_private=False
    )
