"""The method page: how forecasts are chosen, read, resolved, scored and recorded.

Every number the page states is read here, at request time, from the constant, setting
or function that the scoring, the extraction, the reviews and the ledger themselves use,
and each worked example is computed by that code: change a rule and the page follows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from forecasts.core import phrases
from forecasts.core.choices import Outcome
from forecasts.core.ledger.canonical import GENESIS_HASH, canonical_json, chain_hash
from forecasts.extraction import pipeline
from forecasts.scores import additive, maths
from forecasts.scores.forecast import brier
from forecasts.scores.ranking import min_resolved
from forecasts.scores.time_averaged import time_averaged_brier
from forecasts.web.caching import cached_public_page

# The ranking example: one forecast at this probability that came true, then this many.
LUCKY, STEADY = 0.8, 10

# The order the lexicon's scales are shown in: published scales first, our own last.
SCALES = (phrases.ICD, phrases.PROBLY, phrases.MAUBOUSSIN, phrases.KENT, phrases.HOUSE)


@dataclass(frozen=True)
class LexiconRow:
    """A lexicon entry with its numbers in percent, as the page shows them."""

    phrase: phrases.Phrase
    percent: float
    low: float
    high: float


@dataclass(frozen=True)
class Scale:
    name: str
    entries: list[LexiconRow]


def _percent(probability: float) -> float:
    return round(probability * 100, 1)


def lexicon_scales() -> list[Scale]:
    """The lexicon's entries grouped by the scale they come from, most probable first."""
    by_scale: dict[str, list[phrases.Phrase]] = {name: [] for name in SCALES}
    for entry in phrases.LEXICON.values():
        by_scale.setdefault(entry.scale, []).append(entry)
    return [
        Scale(
            name,
            [
                LexiconRow(
                    entry, _percent(entry.probability), _percent(entry.low), _percent(entry.high)
                )
                for entry in sorted(entries, key=lambda entry: (-entry.probability, entry.text))
            ],
        )
        for name, entries in by_scale.items()
        if entries
    ]


def _shrinkage_example(*, probability: float, count: int) -> float | None:
    """The ranking score of ``count`` forecasts at ``probability`` that all came true, by
    the function the live scores use."""
    one = brier(probability, Outcome.YES)
    assert one is not None
    sums = additive.Sums(count=count, yes=count, brier=additive.fixed(one) * count)
    return additive.means(sums).shrunk_brier


def _time_averaged_example() -> dict[str, object]:
    """A forecast at 60 % raised to 90 % halfway to its outcome (YES)."""
    start = dt.date(2024, 1, 1)
    raised, known = start + dt.timedelta(days=10), start + dt.timedelta(days=20)
    return {
        "first": 0.6,
        "second": 0.9,
        "days": (raised - start).days,
        "total_days": (known - start).days,
        "first_brier": brier(0.6, Outcome.YES),
        "second_brier": brier(0.9, Outcome.YES),
        "score": time_averaged_brier([(start, 0.6), (raised, 0.9)], 1, start, known),
        "at_publication": brier(0.6, Outcome.YES),
    }


def method_context() -> dict[str, object]:
    worst_log_loss = -math.log(maths.EPS)
    example_payload = canonical_json({"seq": 1, "kind": "example"})
    return {
        "scales": lexicon_scales(),
        "lexicon_size": len(phrases.LEXICON),
        "likely": _percent(phrases.lookup("likely").probability),
        "negated_likely": _percent(phrases.estimate("likely", negated=True).probability),
        "coin_flip": maths.COIN_FLIP,
        "coin_brier": brier(maths.COIN_FLIP, Outcome.YES),
        "certain_wrong_brier": brier(1.0, Outcome.NO),
        "coin_log_loss": maths.log_loss([maths.COIN_FLIP], [1]),
        "eps": maths.EPS,
        "worst_log_loss": worst_log_loss,
        "calibration_bins": additive.CALIBRATION_BINS,
        "pseudocount": additive.SHRINK_PSEUDOCOUNT,
        "prior": additive.SHRINK_PRIOR,
        "min_resolved": min_resolved(),
        "lucky_probability": LUCKY,
        "lucky_one": _shrinkage_example(probability=LUCKY, count=1),
        "lucky_one_brier": brier(LUCKY, Outcome.YES),
        "steady_count": STEADY,
        "steady_ten": _shrinkage_example(probability=LUCKY, count=STEADY),
        "time_averaged": _time_averaged_example(),
        "propose_at": pipeline.PROPOSE_AT,
        "reminder_days": settings.REVIEW_REMINDER_DAYS,
        "second_reminder_days": settings.REVIEW_SECOND_REMINDER_DAYS,
        "escalation_days": settings.REVIEW_ESCALATION_DAYS,
        "link_days": settings.REVIEW_LINK_MAX_AGE_DAYS,
        "genesis_hash": GENESIS_HASH,
        "example_payload": example_payload,
        "example_hash": chain_hash(GENESIS_HASH, example_payload),
    }


@require_safe
@cached_public_page(params=())
def method(request: HttpRequest) -> HttpResponse:
    return render(request, "forecasts/method.html", method_context())


def about(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Readers (and other sites) look for an about page; the method page is ours."""
    return HttpResponsePermanentRedirect(reverse("forecasts:method"))
