"""Sources: adding and changing them, their full text and the positions of their forecasts'
quotes in it, deleting one nothing cites."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from forecasts.core.changes import public_pages_changed
from forecasts.core.models import Forecast, Source
from forecasts.core.services.quotes import quote_missing, quote_place


@transaction.atomic
def source_save(
    *,
    source: Source | None = None,
    key: str,
    title: str,
    url: str,
    publisher: str,
    author: str,
    published_on: dt.date,
    published_precision: str,
    text: str,
) -> Source:
    """Add a source, or change ``source``; returns the saved source.

    When the text changes, its forecasts' quotes are placed in the new text (a
    position still pointing at its quote is kept); a quote the new text lacks refuses
    the change. Without a text, no quote has a position.
    """
    record = Source() if source is None else Source.objects.select_for_update().get(pk=source.pk)
    text_changed = record.pk is not None and record.text != text
    record.key, record.title, record.url = key, title, url
    record.publisher, record.author = publisher, author
    record.published_on, record.published_precision = published_on, published_precision
    record.text = text
    record.full_clean()
    record.save()
    if text_changed:
        _quotes_place(record, text)
    transaction.on_commit(public_pages_changed)
    return record


@transaction.atomic
def source_text_attach(*, source: Source, text: str) -> int:
    """Store a source's full text and locate each of its forecasts' quotes in it.

    Returns the number of forecasts whose quote position was (re)computed. A
    quote missing from the text is an error: nothing is stored.
    """
    if not text.strip():
        raise ValidationError({"text": "The source text is empty."})
    changed = _quotes_place(source, text)
    if source.text != text:
        source.text = text
        source.save(update_fields=["text"])
    transaction.on_commit(public_pages_changed)
    return changed


def _quotes_place(source: Source, text: str) -> int:
    """Place the quotes of the source's forecasts in ``text``; how many moved."""
    forecasts = list(Forecast.objects.select_for_update().filter(source=source).exclude(quote=""))
    placed = {
        forecast.pk: quote_place(
            text, forecast.quote, current=(forecast.quote_start, forecast.quote_end)
        )
        for forecast in forecasts
    }
    missing = [forecast for forecast in forecasts if placed[forecast.pk] is None]
    if missing:
        raise ValidationError(
            {
                "text": [
                    f"“{forecast}”: {quote_missing(forecast.quote)} Correct its quote first."
                    for forecast in missing
                ]
            }
        )
    changed = 0
    for forecast in forecasts:
        offsets = placed[forecast.pk]
        if offsets is not None and (forecast.quote_start, forecast.quote_end) != offsets:
            forecast.quote_start, forecast.quote_end = offsets
            forecast.save(update_fields=["quote_start", "quote_end", "updated_at"])
            changed += 1
    return changed


def source_delete_check(*, source: Source) -> None:
    """Raise ``ValidationError`` if :func:`source_delete` would refuse."""
    if Forecast.objects.filter(source_id=source.pk).exists():
        raise ValidationError(f"Forecasts cite “{source}”: a source is kept while any does.")


@transaction.atomic
def source_delete(*, source: Source) -> None:
    """Delete a source no forecast cites (one added by mistake, say)."""
    source_delete_check(source=source)
    source.delete()
    transaction.on_commit(public_pages_changed)
