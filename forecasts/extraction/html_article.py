"""An article's main text and metadata from its HTML (pure: no Django, no network).

trafilatura finds the main text (leaving out menus, footers, comments and link lists) and
reads the title, author, site name, canonical address and publication date from the
page's metadata. The date is taken only from the metadata and the address, never guessed
from the text: a date an article merely mentions ("by June 2025") is not the day it was
published, and forecasts are dated by it.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass

import trafilatura

__all__ = ["Article", "article_from_html", "html_decode"]

# Where a page may declare its encoding: within its first bytes, as HTML5's sniffing looks.
_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Article:
    """What a page says about itself; empty strings (and ``None``) where it says nothing."""

    text: str
    title: str = ""
    author: str = ""
    published_on: dt.date | None = None
    sitename: str = ""
    #: The page's own (canonical) address, when it names one.
    url: str = ""


def html_decode(data: bytes, *, charset: str = "") -> str:
    """The page's characters: by its byte-order mark, else the charset the server declared,
    else a ``<meta charset>`` in its first bytes, else UTF-8 if it is valid UTF-8, else
    windows-1252 (what browsers assume of an unlabelled page)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    declared = _known(charset)
    if declared is None:
        found = _META_CHARSET.search(data[:_SNIFF_BYTES])
        declared = _known(found.group(1).decode("ascii")) if found else None
    if declared is not None:
        return data.decode(declared, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", errors="replace")


def _known(charset: str) -> str | None:
    charset = charset.strip().strip("\"'").lower()
    if not charset:
        return None
    # A page labelled latin-1 is windows-1252 in every browser (the WHATWG encoding list).
    if charset in {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"}:
        return "windows-1252"
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def article_from_html(html: str, *, url: str = "") -> Article:
    """The main text (one paragraph per block, blank lines between) and the metadata.

    ``url`` is where the page came from: it helps date the page (many addresses carry the
    date) and resolve a relative canonical address. The text is empty when the page has
    no main text trafilatura recognises.
    """
    document = trafilatura.bare_extraction(
        html,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None or isinstance(document, dict):  # dict only with as_dict=True
        return Article(text="")
    blocks = [line.strip() for line in (document.text or "").splitlines()]
    return Article(
        text="\n\n".join(block for block in blocks if block),
        title=_clean(document.title),
        author=_clean(document.author),
        published_on=_date(document.date),
        sitename=_clean(document.sitename),
        url=(document.url or "").strip(),
    )


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
