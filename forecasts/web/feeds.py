"""Atom feeds of new forecasts and of resolutions (corrections included).

Entries link to the public pages by absolute URLs built from SITE_URL, and say
nothing about who resolved anything. Each feed carries the record's ledger head
(``<tracker:ledgerHead chain= seq= hash=/>``, in the namespace :data:`LEDGER_NS`), so a
reader who keeps it can later verify the ledger was not rewritten before it
(docs/LEDGER.md).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.xmlutils import SimplerXMLGenerator

from forecasts.core.ledger.selectors import Head, ledger_head
from forecasts.core.models import Forecast, Outcome, Resolution
from forecasts.core.selectors import FEED_ITEMS, feed_new_forecasts, recently_resolved

if TYPE_CHECKING:
    ForecastFeed = Feed[Forecast, None]
    ResolutionFeed = Feed[Resolution, None]
else:  # Feed is generic only in django-stubs.
    ForecastFeed = ResolutionFeed = Feed


LEDGER_NS = "https://forecast-tracker.example/ns/ledger"


class LedgerAtomFeed(Atom1Feed):
    """Atom with the ledger head as a feed-level extension element (Atom allows foreign
    markup in its own namespace, RFC 4287 section 6)."""

    def root_attributes(self) -> dict[str, str]:
        attributes: dict[str, str] = super().root_attributes()
        attributes["xmlns:tracker"] = LEDGER_NS
        return attributes

    def add_root_elements(self, handler: SimplerXMLGenerator) -> None:
        super().add_root_elements(handler)
        head: Head | None = self.feed.get("ledger_head")
        if head is not None:
            handler.addQuickElement(
                "tracker:ledgerHead",
                attrs={"chain": head.chain, "seq": str(head.seq), "hash": head.hash},
            )


class _LedgerHeadFeed:
    """Mixed into a feed: its generator gets the record's ledger head."""

    def feed_extra_kwargs(self, obj: Any) -> dict[str, Any]:
        return {"ledger_head": ledger_head()}


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _percent(probability: float | None) -> str:
    return "no estimate" if probability is None else f"{probability:.0%}"


class NewForecastsFeed(_LedgerHeadFeed, ForecastFeed):
    feed_type = LedgerAtomFeed
    title = "Forecast tracker: new forecasts"
    subtitle = "Forecasts as they are published, newest first."

    def link(self) -> str:
        return _absolute(reverse("forecasts:list"))

    def feed_url(self) -> str:
        return _absolute(reverse("feed-forecasts"))

    def items(self) -> list[Forecast]:
        return feed_new_forecasts(at=timezone.now())

    def item_title(self, item: Forecast) -> str:
        return item.statement

    def item_description(self, item: Forecast) -> SafeString:
        phrase = getattr(item, "published_phrase", "")
        basis = format_html(" (from “{}”)", phrase) if phrase else ""
        quote = format_html("<blockquote>{}</blockquote>", item.quote) if item.quote else ""
        return format_html(
            "<p>{} gives it {}{}; to be resolved by {}. Source: {}.</p>{}",
            item.forecaster.name,
            _percent(getattr(item, "published_probability", None)),
            basis,
            item.resolve_by.isoformat(),
            item.source.title,
            quote,
        )

    def item_link(self, item: Forecast) -> str:
        return _absolute(item.get_absolute_url())

    def item_pubdate(self, item: Forecast) -> dt.datetime | None:
        return item.published_at

    def item_updateddate(self, item: Forecast) -> dt.datetime:
        return item.updated_at

    def item_author_name(self, item: Forecast) -> str:
        return item.forecaster.name

    def item_categories(self, item: Forecast) -> list[str]:
        return [tag.name for tag in item.tags.all()]


class ResolutionsFeed(_LedgerHeadFeed, ResolutionFeed):
    feed_type = LedgerAtomFeed
    title = "Forecast tracker: resolutions"
    subtitle = "Forecasts as they are resolved or corrected, newest first, with the evidence."

    def link(self) -> str:
        return _absolute(reverse("forecasts:list") + "?status=resolved")

    def feed_url(self) -> str:
        return _absolute(reverse("feed-resolutions"))

    def items(self) -> list[Resolution]:
        return recently_resolved(limit=FEED_ITEMS)

    def item_title(self, item: Resolution) -> str:
        verdict = "Annulled" if item.outcome == Outcome.ANNULLED else item.outcome
        if item.supersedes is not None:
            verdict = f"Corrected to {verdict}"
        return f"{verdict}: {item.forecast.statement}"

    def item_description(self, item: Resolution) -> SafeString:
        parts = [format_html("<p>Known on {}.</p>", item.known_on.isoformat())]
        if item.evidence_url:
            parts.append(format_html('<p>Evidence: <a href="{0}">{0}</a></p>', item.evidence_url))
        if item.evidence_note:
            parts.append(format_html("<p>{}</p>", item.evidence_note))
        if item.supersedes is not None:
            parts.append(
                format_html(
                    "<p>Corrects the earlier outcome {}: {}</p>",
                    item.supersedes.outcome,
                    item.correction_reason,
                )
            )
        return format_html_join("", "{}", ((part,) for part in parts))

    def item_link(self, item: Resolution) -> str:
        return _absolute(item.forecast.get_absolute_url())

    def item_guid(self, item: Resolution) -> str:
        # Each resolution is its own entry: a correction is news, not an edit.
        return f"{self.item_link(item)}#resolution-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Resolution) -> dt.datetime:
        return item.resolved_at

    def item_updateddate(self, item: Resolution) -> dt.datetime:
        # Atom requires <updated> on every entry; a resolution is never edited.
        return item.resolved_at

    def item_categories(self, item: Resolution) -> list[str]:
        return [item.outcome]
