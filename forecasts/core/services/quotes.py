"""Where a forecast's quote stands in its source's text."""

from __future__ import annotations

Offsets = tuple[int | None, int | None]

UNPLACED: Offsets = (None, None)


def quote_place(text: str, quote: str, *, current: Offsets = UNPLACED) -> Offsets | None:
    """The quote's offsets in ``text``, or None when the text lacks the quote.

    ``current`` is kept while it still points at the quote: a text may repeat a quote
    (pull-quotes), and extraction placed it at the occurrence it came from. Otherwise
    the first occurrence. Without a text or a quote there is nothing to place.
    """
    if not text or not quote:
        return UNPLACED
    start, end = current
    if start is not None and end is not None and text[start:end] == quote:
        return current
    found = text.find(quote)
    if found < 0:
        return None
    return found, found + len(quote)


def quote_missing(quote: str) -> str:
    return f"The quote is not in the source text: {quote[:80]!r}…"
