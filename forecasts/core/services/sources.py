"""Sources: their full text, and the positions of their forecasts' quotes in it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from forecasts.core.changes import public_pages_changed
from forecasts.core.models import Source
from forecasts.core.services.quotes import quote_offsets


@transaction.atomic
def source_text_attach(*, source: Source, text: str) -> int:
    """Store a source's full text and locate each of its forecasts' quotes in it.

    Returns the number of forecasts whose quote position was (re)computed. A
    quote missing from the text is an error: nothing is stored.
    """
    if not text.strip():
        raise ValidationError({"text": "The source text is empty."})
    forecasts = list(source.forecasts.exclude(quote=""))
    offsets = {forecast.pk: quote_offsets(text, forecast.quote) for forecast in forecasts}
    changed = 0
    for forecast in forecasts:
        if (forecast.quote_start, forecast.quote_end) != offsets[forecast.pk]:
            forecast.quote_start, forecast.quote_end = offsets[forecast.pk]
            forecast.save(update_fields=["quote_start", "quote_end", "updated_at"])
            changed += 1
    if source.text != text:
        source.text = text
        source.save(update_fields=["text"])
    transaction.on_commit(public_pages_changed)
    return changed
