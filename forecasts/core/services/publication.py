"""What a draft needs before it goes public, and the address it gets then.

Extraction proposes drafts half-made on purpose: its resolution criteria end with a
placeholder sentence for an editor to replace, and its statement may still carry the
hedge it was read from ("A recession in 2027 is unlikely."). Published like that, the
forecast's terms would be fixed (amendable only with a recorded reason), so every
publishing door refuses such a draft, naming what to fix.
"""

from __future__ import annotations

from django.utils.text import slugify

from forecasts.core import phrases
from forecasts.core.models import Forecast

#: The sentence extraction ends its proposed resolution criteria with
#: (:mod:`forecasts.extraction.ingest`): while it stands, the draft is not published.
EXTRACTION_PLACEHOLDER = "Proposed by extraction: an editor should make this precise."

#: Room for a readable address; the model allows 200 characters.
_SLUG_WORDS_MAX = 70


def publication_refusals(forecast: Forecast) -> dict[str, str]:
    """Why ``forecast`` (a draft, as typed) may not be published yet: a message for each
    term to fix, keyed by its field; empty when it may."""
    refusals: dict[str, str] = {}
    if EXTRACTION_PLACEHOLDER in forecast.resolution_criteria:
        refusals["resolution_criteria"] = (
            "The resolution criteria are still the ones extraction proposed: make them "
            f"precise and remove “{EXTRACTION_PLACEHOLDER}” before publishing."
        )
    hedges = phrases.phrases_in(forecast.statement)
    if hedges:
        found = ", ".join(f"“{forecast.statement[start:end]}”" for start, end, _ in hedges)
        refusals["statement"] = (
            f"The statement still contains the hedge {found} (a verbal probability from "
            "the lexicon): state the outcome itself, the estimate carries the probability."
        )
    return refusals


def refusal_sentence(forecast: Forecast, refusals: dict[str, str]) -> str:
    """The refusals of one draft as one sentence naming it, for a list of several."""
    return f"“{forecast.statement}”: " + " ".join(refusals.values())


def publication_slug(forecast: Forecast) -> str:
    """The address a draft is published under: made from its statement as it stands,
    numbered when another forecast already has it (published addresses never change)."""
    base = slugify(forecast.statement)[:_SLUG_WORDS_MAX]
    if "-" in base and len(slugify(forecast.statement)) > _SLUG_WORDS_MAX:
        base = base.rsplit("-", 1)[0]  # whole words only
    base = base.strip("-") or "forecast"
    taken = set(
        Forecast.objects.filter(slug__startswith=base)
        .exclude(pk=forecast.pk)
        .values_list("slug", flat=True)
    )
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug
