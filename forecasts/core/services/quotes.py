"""Where a forecast's quote stands in its source's text."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def quote_offsets(text: str, quote: str) -> tuple[int, int]:
    start = text.find(quote)
    if start < 0:
        raise ValidationError({"quote": f"The quote is not in the source text: {quote[:80]!r}…"})
    return start, start + len(quote)
