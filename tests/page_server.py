"""A local web server for the fetching tests: an article, redirects, an oversized page, a
slow one, a PDF… served from 127.0.0.1 on a free port, in a thread.

Use the ``page_server`` fixture (import it into the test module); it also lets the fetcher
reach 127.0.0.1 (``SOURCE_FETCH_ALLOW_PRIVATE``) and keeps its time limits short.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ARTICLE_TITLE = "Central bank outlook for the spring"
ARTICLE_AUTHOR = "Jane Roe"
ARTICLE_DATE = "2025-03-04"
ARTICLE_SITE = "Harbour Gazette"
#: Sentences the article's main text holds (and its menus and footer do not).
ARTICLE_SENTENCES = (
    "The central bank meets again next month, and the mood among traders has shifted.",
    "The bank is likely to cut rates by the end of June 2025, judging by the Gazette’s "
    "reading of recent inflation data.",
    "Inflation is unlikely to fall below two percent by the end of 2026, given the "
    "stubborn rise in services prices.",
    "Wages kept growing through the winter, and the labour market remains tight in most "
    "regions of the country.",
)
MENU = "Subscribe to our newsletter"
FOOTER = "Copyright 2025 Harbour Gazette. All rights reserved."


def article_html(*, canonical: str = "", charset: str = "utf-8", extra: str = "") -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "\n".join(f"<p>{sentence}</p>" for sentence in ARTICLE_SENTENCES)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="{charset}">
<title>{ARTICLE_TITLE} | {ARTICLE_SITE}</title>
<meta property="og:title" content="{ARTICLE_TITLE}">
<meta name="author" content="{ARTICLE_AUTHOR}">
<meta property="og:site_name" content="{ARTICLE_SITE}">
<meta property="article:published_time" content="{ARTICLE_DATE}T08:00:00Z">
{link}
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/subscribe">{MENU}</a></li></ul></nav>
<article><h1>{ARTICLE_TITLE}</h1>
{paragraphs}
{extra}
</article>
<footer><p>{FOOTER}</p></footer>
</body></html>
"""


LINKS_ONLY = """<!DOCTYPE html><html><head><title>Index</title></head><body>
<nav><a href="/a">A</a> <a href="/b">B</a></nav></body></html>"""

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    server: PageServer

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        route = self.server.routes.get(self.path.split("?")[0])
        if route is None:
            self.send(404, "text/html", b"<html><body>Not here</body></html>")
        else:
            route(self)

    def send(self, status: int, content_type: str, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet in test output
        pass


def _stream_forever(handler: Handler, *, pause: float, chunk: bytes) -> None:
    """A body with no length that never ends (until the client hangs up)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.end_headers()
    try:
        handler.wfile.write(b"<html><body><article>")
        while True:
            handler.wfile.write(chunk)
            handler.wfile.flush()
            if pause:
                time.sleep(pause)
    except OSError:
        return  # the fetcher gave up, as it should


def _slow(handler: Handler) -> None:
    time.sleep(3)
    try:
        handler.send(200, "text/html", article_html().encode())
    except OSError:
        return


class PageServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping does not hold the test up

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str]] = []
        self.routes: dict[str, Route] = {
            "/article.html": lambda h: h.send(
                200, "text/html; charset=utf-8", article_html().encode("utf-8")
            ),
            "/latin1.html": lambda h: h.send(
                200,
                "text/html; charset=iso-8859-1",
                article_html(charset="iso-8859-1", extra="<p>Café prices rose again.</p>").encode(
                    "latin-1", "replace"
                ),
            ),
            "/gzipped.html": lambda h: h.send(
                200,
                "text/html; charset=utf-8",
                gzip.compress(article_html().encode("utf-8")),
                Content_Encoding="gzip",
            ),
            "/redirect": lambda h: h.redirect("/article.html"),
            "/redirect-twice": lambda h: h.redirect(self.url("/redirect"), 301),
            "/loop": lambda h: h.redirect("/loop"),
            "/to-ftp": lambda h: h.redirect("ftp://files.example.org/article.txt"),
            "/to-metadata": lambda h: h.redirect("http://169.254.169.254/latest/meta-data/"),
            "/plain.txt": lambda h: h.send(
                200,
                "text/plain; charset=utf-8",
                (b"Plain outlook\n\nThe bank is likely to cut rates by the end of June 2025.\n"),
            ),
            "/paper.pdf": lambda h: h.send(200, "application/pdf", b"%PDF-1.7\n%\xe2\xe3\n"),
            "/untyped": lambda h: h.send(200, "", b"<html></html>"),
            "/links.html": lambda h: h.send(200, "text/html", LINKS_ONLY.encode()),
            "/big.html": lambda h: h.send(
                200, "text/html", b"<html><body>" + b"x" * 300_000 + b"</body></html>"
            ),
            "/endless.html": lambda h: _stream_forever(h, pause=0, chunk=b"<p>more</p>" * 1000),
            "/bomb.html": lambda h: h.send(
                200,
                "text/html",
                gzip.compress(b"<html><body>" + b"0" * 20_000_000),
                Content_Encoding="gzip",
            ),
            "/slow.html": _slow,
            "/drip.html": lambda h: _stream_forever(h, pause=0.05, chunk=b"<p>a</p>"),
            "/gone.html": lambda h: h.send(410, "text/html", b"<html><body>Gone</body></html>"),
        }

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


#: The limits the tests fetch under: short, so the slow pages cost half a second.
FAST_LIMITS = {
    "SOURCE_FETCH_ALLOW_PRIVATE": True,
    "SOURCE_FETCH_CONNECT_TIMEOUT": 0.5,
    "SOURCE_FETCH_TIMEOUT": 0.5,
    "SOURCE_FETCH_MAX_BYTES": 200_000,
    "SOURCE_FETCH_MAX_REDIRECTS": 3,
}


@pytest.fixture
def page_server(settings) -> Iterator[PageServer]:
    for name, value in FAST_LIMITS.items():
        setattr(settings, name, value)
    server = PageServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
