"""Fetching an article from its address, or reading it from a saved file.

An editor's address is fetched by the server, so the server must not become a way into
its own network: only http and https are fetched, every address the host name resolves
to must be public (private, loopback, link-local, multicast, reserved and unspecified
addresses are refused unless ``SOURCE_FETCH_ALLOW_PRIVATE`` is on), and the connection
goes to the address that was checked, not to whatever a second DNS answer says. Each
redirect is checked the same way, up to ``SOURCE_FETCH_MAX_REDIRECTS``. The whole fetch
is bounded in time (``SOURCE_FETCH_TIMEOUT``, each connection attempt by
``SOURCE_FETCH_CONNECT_TIMEOUT``) and in size (``SOURCE_FETCH_MAX_BYTES``, counted as
the body arrives, after decompression). Only HTML and plain-text pages are read.

Every refusal is a :class:`FetchRefused` whose message says what to do about it.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from email.message import Message
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

from forecasts.extraction.html_article import Article, article_from_html, html_decode

__all__ = [
    "FetchPolicy",
    "FetchRefused",
    "Page",
    "article_fetch",
    "article_from_page",
    "html_file_read",
    "page_fetch",
]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
#: Less main text than this is not an article (a menu, a cookie notice, a teaser).
MIN_ARTICLE_CHARS = 100
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
# Host-name lookups, each bounded by the time its fetch has left (a few at once at most).
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-dns")
_USER_AGENT = "Mozilla/5.0 (compatible; forecast-tracker/0.1; article fetcher)"


class FetchRefused(Exception):
    """The page was not fetched or not read; the message says why, for the person asking."""


@dataclass(frozen=True)
class FetchPolicy:
    """The limits a fetch runs under; :meth:`from_settings` reads them from the settings."""

    connect_timeout: float = 5
    timeout: float = 15
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    allow_private: bool = False

    @classmethod
    def from_settings(cls) -> FetchPolicy:
        return cls(
            connect_timeout=float(settings.SOURCE_FETCH_CONNECT_TIMEOUT),
            timeout=float(settings.SOURCE_FETCH_TIMEOUT),
            max_bytes=int(settings.SOURCE_FETCH_MAX_BYTES),
            max_redirects=int(settings.SOURCE_FETCH_MAX_REDIRECTS),
            allow_private=bool(settings.SOURCE_FETCH_ALLOW_PRIVATE),
        )


@dataclass(frozen=True)
class Page:
    #: Where the page was found, after redirects: the address it is stored under.
    url: str
    #: ``text/html``, ``application/xhtml+xml`` or ``text/plain``.
    content_type: str
    text: str

    @property
    def is_html(self) -> bool:
        return self.content_type in HTML_TYPES


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # IDNA-encoded, without brackets
    port: int
    path: str  # path and query, as sent


def article_fetch(url: str, *, policy: FetchPolicy | None = None) -> tuple[Page, Article]:
    """Fetch ``url`` and read its article; refused when it has no main text."""
    page = page_fetch(url, policy=policy)
    return page, article_from_page(page)


def article_from_page(page: Page) -> Article:
    if not page.is_html:
        lines = page.text.strip().splitlines()
        return Article(text=page.text, title=lines[0].strip()[:300] if lines else "")
    article = article_from_html(page.text, url=page.url)
    if len(article.text.strip()) < MIN_ARTICLE_CHARS:
        raise FetchRefused(
            f"No article text was found in {page.url} (only {len(article.text.strip())} "
            "characters of it): the page may be a list of links, need JavaScript to show "
            "its text, or sit behind a login. Save the article's text to a file and "
            "ingest that instead."
        )
    return article


def html_file_read(path: Path, *, max_bytes: int) -> Article:
    """A saved page, read as a fetched one would be (offline)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchRefused(f"{path} is larger than {_megabytes(max_bytes)}.")
        data = path.read_bytes()
    except OSError as exc:
        raise FetchRefused(f"Cannot read {path}: {exc.strerror or exc}.") from None
    page = Page(url=path.resolve().as_uri(), content_type="text/html", text=html_decode(data))
    article = article_from_page(page)
    # A file:// address is no page's identity: keep only a canonical address the page names.
    return replace(article, url=article.url if _is_web(article.url) else "")


def page_fetch(url: str, *, policy: FetchPolicy | None = None) -> Page:
    """The page at ``url`` (following redirects), decoded, within the policy's limits."""
    policy = policy or FetchPolicy.from_settings()
    deadline = time.monotonic() + policy.timeout
    for _hop in range(policy.max_redirects + 1):
        target = _target(url)
        addresses = _addresses(target, policy=policy, deadline=deadline)
        connection = _connect(target, addresses, policy=policy, deadline=deadline)
        try:
            response = _request(connection, target, policy=policy, deadline=deadline)
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchRefused(f"{url} redirects without saying where to.")
                url = urljoin(target.url, location.strip())
                continue
            if response.status != 200:
                raise FetchRefused(
                    f"The server answered {response.status} {response.reason} for {url}."
                )
            content_type, charset = _content_type(response)
            data = _body(response, target, connection, policy=policy, deadline=deadline)
        finally:
            connection.close()
        if content_type in HTML_TYPES:
            text = html_decode(data, charset=charset)
        else:
            text = _plain_decode(data, charset=charset)
        return Page(url=target.url, content_type=content_type, text=text)
    raise FetchRefused(f"Refused: more than {policy.max_redirects} redirects, the last to {url}.")


def _target(url: str) -> _Target:
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"{url!r} is not a valid address ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        shown = f"{scheme}:" if scheme else "no scheme"
        raise FetchRefused(
            f"Refused: only http and https addresses are fetched ({url!r} has {shown})."
        )
    if not parts.hostname:
        raise FetchRefused(f"{url!r} names no host.")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("Refused: addresses with a user name or password are not fetched.")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise FetchRefused(f"{parts.hostname!r} is not a valid host name.") from None
    # Non-ASCII or spaces in the path are sent percent-encoded; what is encoded stays so.
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return _Target(
        url=parts._replace(fragment="").geturl(),
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        path=path,
    )


def _addresses(target: _Target, *, policy: FetchPolicy, deadline: float) -> list[str]:
    """Every address the host resolves to, each of them public (or private allowed).

    The system resolver takes no timeout: it is asked in a thread of its own, and a
    lookup that outlasts the fetch's time is left to finish there, unwaited for."""
    lookup = _resolver.submit(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
    try:
        found = lookup.result(timeout=_left(deadline, policy))
    except FutureTimeout:
        raise _timed_out(policy) from None
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchRefused(f"Cannot resolve the host name {target.host!r} ({exc}).") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in found))
    if not addresses:
        raise FetchRefused(f"The host name {target.host!r} has no address.")
    if not policy.allow_private:
        for address in addresses:
            kind = address_refusal(address)
            if kind is not None:
                named = (
                    f"{address} is"
                    if address == target.host
                    else f"{target.host} resolves to {address},"
                )
                raise FetchRefused(
                    f"Refused: {named} {kind}; only pages on public addresses are fetched."
                )
    return addresses


def address_refusal(address: str) -> str | None:
    """Why ``address`` may not be fetched from (``"a private address"``…), or ``None``."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, test in (
        ("an unspecified address", ip.is_unspecified),
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a multicast address", ip.is_multicast),
        ("a reserved address", ip.is_reserved),
        ("a private address", ip.is_private),
    ):
        if test:
            return kind
    # Shared (carrier-grade NAT), 6to4 relays and the like: not private, not global either.
    return None if ip.is_global else "not a public address"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header still names the host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As :class:`_PinnedHTTPConnection`, with the certificate checked against the host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _connect(
    target: _Target, addresses: list[str], *, policy: FetchPolicy, deadline: float
) -> http.client.HTTPConnection:
    """A connection to the first of ``addresses`` that answers."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    failure = ""
    for address in addresses:
        timeout = min(policy.connect_timeout, _left(deadline, policy))
        connection = kind(target.host, target.port, address=address, timeout=timeout)
        try:
            connection.connect()
        except TimeoutError:
            failure = f"no answer within {_seconds(timeout)}"
        except ssl.SSLError as exc:
            connection.close()
            raise FetchRefused(
                f"The secure connection to {target.host} failed: {exc.reason or exc}."
            ) from None
        except OSError as exc:
            failure = exc.strerror or str(exc)
        else:
            return connection
        connection.close()
    raise FetchRefused(f"Could not connect to {target.host} port {target.port}: {failure}.")


def _request(
    connection: http.client.HTTPConnection,
    target: _Target,
    *,
    policy: FetchPolicy,
    deadline: float,
) -> http.client.HTTPResponse:
    headers = {
        "User-Agent": _USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9",
        "Accept-Encoding": "gzip, deflate",
        "Connection": "close",
    }
    try:
        _time_left(connection, deadline, policy)
        connection.request("GET", target.path, headers=headers)
        _time_left(connection, deadline, policy)
        return connection.getresponse()
    except TimeoutError:
        raise _timed_out(policy) from None
    except ssl.SSLError as exc:
        raise FetchRefused(f"The secure connection to {target.host} failed: {exc}.") from None
    except (http.client.HTTPException, OSError) as exc:
        why = str(exc) or type(exc).__name__
        raise FetchRefused(f"{target.host} gave no valid HTTP response ({why}).") from None


def _content_type(response: http.client.HTTPResponse) -> tuple[str, str]:
    header = Message()
    header["Content-Type"] = response.getheader("Content-Type") or ""
    content_type = header.get_content_type() if header["Content-Type"] else ""
    if content_type not in HTML_TYPES | TEXT_TYPES:
        shown = content_type or "no content type given"
        raise FetchRefused(f"Not an HTML or text page ({shown}).")
    return content_type, str(header.get_param("charset") or "")


def _body(
    response: http.client.HTTPResponse,
    target: _Target,
    connection: http.client.HTTPConnection,
    *,
    policy: FetchPolicy,
    deadline: float,
) -> bytes:
    """The body, decompressed, refused as soon as it passes the size limit."""
    too_large = FetchRefused(
        f"The page is larger than {_megabytes(policy.max_bytes)}; only pages up to that "
        "size are fetched."
    )
    length = response.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > policy.max_bytes:
        raise too_large
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding in {"gzip", "x-gzip"}:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflate = zlib.decompressobj()
    elif encoding == "identity":
        inflate = None
    else:
        raise FetchRefused(f"{target.host} sent the page in an unsupported encoding ({encoding}).")
    body = bytearray()
    try:
        while True:
            _time_left(connection, deadline, policy)
            # One receive at a time, so a page trickling in is stopped at the deadline.
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            if inflate is not None:
                # Never more than one byte past the limit, however well the data compresses.
                chunk = inflate.decompress(chunk, policy.max_bytes + 1 - len(body))
            body += chunk
            if len(body) > policy.max_bytes:
                raise too_large
    except TimeoutError:
        raise _timed_out(policy) from None
    except zlib.error:
        raise FetchRefused(f"{target.host} sent a page that does not decompress.") from None
    except (http.client.HTTPException, OSError) as exc:
        raise FetchRefused(f"The page from {target.host} was cut short ({exc}).") from None
    if response.length:  # fewer bytes came than the server announced
        raise FetchRefused(f"The page from {target.host} was cut short.")
    return bytes(body)


def _plain_decode(data: bytes, *, charset: str) -> str:
    if charset:
        try:
            return data.decode(charset, errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FetchRefused(
            "The text page declares no character set and is not UTF-8: save it as UTF-8 "
            "and ingest the file."
        ) from None


def _time_left(
    connection: http.client.HTTPConnection, deadline: float, policy: FetchPolicy
) -> None:
    """Let the next socket operation wait only as long as the whole fetch has left."""
    left = _left(deadline, policy)
    if connection.sock is not None:
        connection.sock.settimeout(left)


def _left(deadline: float, policy: FetchPolicy) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _timed_out(policy)
    return left


def _timed_out(policy: FetchPolicy) -> FetchRefused:
    return FetchRefused(f"Timed out after {_seconds(policy.timeout)}: the server is too slow.")


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:g} MB"


def _is_web(url: str) -> bool:
    return urlsplit(url).scheme in {"http", "https"}
