"""Ingesting article text and turning extracted candidates into draft forecasts.

The command (``ingest_article``), the admin's "Add source from URL", the extraction task
the admin's "Extract forecasts" queues (:mod:`forecasts.extraction.tasks`) and the
admin's "Accept" and "Reject" call these; the reading itself is
:mod:`forecasts.extraction` (pure), the fetching :mod:`forecasts.extraction.fetch`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.text import slugify

from forecasts.core.models import (
    LATEST_DATE,
    DatePrecision,
    Forecast,
    Forecaster,
    ForecastQuerySet,
    Source,
)
from forecasts.core.services import (
    forecast_create,
    forecaster_save,
    forecasts_publish,
    source_save,
    source_text_attach,
)
from forecasts.core.services.publication import EXTRACTION_PLACEHOLDER
from forecasts.extraction import fetch
from forecasts.extraction import pipeline as extraction
from forecasts.extraction.html_article import Article

#: Articles larger than this are refused (a long feature is ~100 kB of UTF-8).
MAX_ARTICLE_BYTES = 1_000_000
#: Drafts whose text named no deadline carry this note until an editor sets one;
#: accepting them is refused while it stands.
NO_DEADLINE_NOTE = "NO DEADLINE IN THE TEXT"
_PLACEHOLDER_DAYS = 365
# The Source columns' lengths: what a page says of itself is cut to fit.
URL_MAX_LENGTH = Source._meta.get_field("url").max_length or 500
TITLE_MAX_LENGTH = Source._meta.get_field("title").max_length or 300
NAME_MAX_LENGTH = Source._meta.get_field("author").max_length or 200


def article_text_decode(*, data: bytes, name: str = "the article") -> str:
    """UTF-8 text from uploaded or read bytes, or a ``ValidationError`` saying why not."""
    if len(data) > MAX_ARTICLE_BYTES:
        raise ValidationError(
            f"{name} is {len(data):,} bytes; the limit is {MAX_ARTICLE_BYTES:,} bytes."
        )
    if not data.strip():
        raise ValidationError(f"{name} is empty.")
    if b"\x00" in data:
        raise ValidationError(f"{name} is not text (it contains NUL bytes: a binary file?).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{name} is not UTF-8 text (invalid byte at position {exc.start}); "
            "convert it to UTF-8 first."
        ) from None
    return article_text_check(text=text, name=name)


def article_text_check(*, text: str, name: str = "the article") -> str:
    """Refuse empty, oversized or control-character-laden text; normalise line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValidationError(f"{name} is empty.")
    if len(text.encode("utf-8")) > MAX_ARTICLE_BYTES:
        raise ValidationError(f"{name} is over the limit of {MAX_ARTICLE_BYTES:,} bytes.")
    controls = sum(1 for char in text if unicodedata.category(char) == "Cc" and char not in "\n\t")
    if controls > max(2, len(text) // 1000):
        raise ValidationError(f"{name} is not text ({controls} control characters).")
    return text


@dataclass(frozen=True)
class ExtractReport:
    created: list[Forecast]
    # Sentences longer than extraction.MAX_SENTENCE_CHARS, skipped unread.
    sentences_skipped: int

    def __str__(self) -> str:
        return f"{len(self.created)} draft forecast(s) proposed{_skipped(self)}."


@dataclass(frozen=True)
class IngestReport:
    source: Source
    source_created: bool
    created: list[Forecast]
    already_present: int
    sentences_skipped: int = 0

    def __str__(self) -> str:
        verb = "stored" if self.source_created else "already stored"
        return (
            f"Source “{self.source}” {verb}; {len(self.created)} draft forecast(s) proposed, "
            f"{self.already_present} already present{_skipped(self)}."
        )


def _skipped(report: ExtractReport | IngestReport) -> str:
    if not report.sentences_skipped:
        return ""
    return (
        f"; {report.sentences_skipped} sentence(s) over "
        f"{extraction.MAX_SENTENCE_CHARS:,} characters skipped unread"
    )


@transaction.atomic
def source_ingest(
    *,
    text: str,
    url: str,
    title: str,
    published_on: dt.date,
    forecaster_name: str = "",
    author: str = "",
    publisher: str = "",
    min_confidence: float = extraction.PROPOSE_AT,
) -> IngestReport:
    """Store an article (with its text) and its candidates as drafts; idempotent per URL
    (see :func:`source_store`)."""
    stored = source_store(
        text=text,
        url=url,
        title=title,
        published_on=published_on,
        author=author,
        publisher=publisher,
    )
    source = stored.source
    forecaster = (
        forecaster_for_name(name=forecaster_name)
        if forecaster_name
        else forecaster_for_source(source=source)
    )
    before = source.forecasts.count()
    extracted = source_extract(source=source, forecaster=forecaster, min_confidence=min_confidence)
    return IngestReport(
        source=source,
        source_created=stored.created,
        created=extracted.created,
        already_present=before,
        sentences_skipped=extracted.sentences_skipped,
    )


@dataclass(frozen=True)
class Stored:
    source: Source
    created: bool


@transaction.atomic
def source_store(
    *,
    text: str,
    url: str,
    title: str,
    published_on: dt.date,
    author: str = "",
    publisher: str = "",
) -> Stored:
    """Store an article with its text, once per URL and once per text.

    Storing the same URL again with the same text returns its source; with a
    different text it is refused, so a source's quotes never point into a text
    other than the one stored. The same text already stored without a URL (a
    source entered by hand, like the seed) is that source: it gets the URL. The
    same text under another URL is refused, so a syndicated copy cannot score
    the same forecasts twice.
    """
    text = article_text_check(text=text)
    if not url:
        raise ValidationError({"url": "The article's URL is required."})
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(
            {
                "url": f"The article's address is {len(url):,} characters long; "
                f"the limit is {URL_MAX_LENGTH}."
            }
        )
    source = Source.objects.select_for_update().filter(url=url).first()
    if source is None:
        source = _same_text_source(text=text, url=url)
    created = source is None
    if source is None:
        source = source_save(
            key=_source_key(url=url, title=title),
            title=_truncate(title, TITLE_MAX_LENGTH) or url[:TITLE_MAX_LENGTH],
            url=url,
            publisher=_truncate(publisher, NAME_MAX_LENGTH),
            author=_truncate(author, NAME_MAX_LENGTH),
            published_on=published_on,
            published_precision=DatePrecision.DAY,
            text=text,
        )
    elif source.text and source.text != text:
        raise ValidationError(
            f"{url} was already ingested (source “{source}”) with a different text. "
            "Edit that source in the admin if the article changed."
        )
    elif not source.text:
        source_text_attach(source=source, text=text)
    return Stored(source=source, created=created)


def source_from_page(
    *,
    url: str,
    title: str = "",
    published_on: dt.date | None = None,
    author: str = "",
) -> Stored:
    """Fetch the page at ``url`` (:func:`~forecasts.extraction.fetch.article_fetch`, its
    refusals raised as ``FetchRefused``) and store it with :func:`source_store` under the
    address the fetch ended at; the page's own title, author and date fill what is not
    given. The fetch runs before the transaction: no lock is held while a server answers."""
    page, article = fetch.article_fetch(url)
    return source_store(
        **article_source_fields(
            article=article, url=page.url, title=title, published_on=published_on, author=author
        )
    )


def article_source_fields(
    *,
    article: Article,
    url: str = "",
    title: str = "",
    published_on: dt.date | None = None,
    author: str = "",
) -> dict[str, Any]:
    """What :func:`source_store` is given for an article read from a page: what the
    person asking said, else what the page says of itself; refused (under the missing
    field's name) when neither names the address or the publication date."""
    url = url or article.url
    if not url:
        raise ValidationError({"url": "The page names no address of its own: give its URL."})
    published_on = published_on or article.published_on
    if published_on is None:
        raise ValidationError(
            {
                "published_on": "The page does not say when it was published: "
                "give its publication date."
            }
        )
    first_line = article.text.strip().splitlines()[0] if article.text.strip() else ""
    return {
        "text": article.text,
        "url": url,
        "title": title or article.title or first_line,
        "published_on": published_on,
        "author": author or article.author,
        "publisher": article.sitename,
    }


def _same_text_source(*, text: str, url: str) -> Source | None:
    """The source already holding exactly ``text`` with no URL, given ``url`` now."""
    source = Source.objects.select_for_update().filter(text=text).order_by("pk").first()
    if source is None:
        return None
    if source.url:
        raise ValidationError(
            f"This text was already ingested from {source.url} (source “{source}”). "
            "A copy of an article under another address would "
            "score its forecasts twice."
        )
    return source_save(
        source=source,
        key=source.key,
        title=source.title,
        url=url,
        publisher=source.publisher,
        author=source.author,
        published_on=source.published_on,
        published_precision=source.published_precision,
        text=source.text,
    )


def _source_key(*, url: str, title: str) -> str:
    digest = hashlib.sha256(url.encode()).hexdigest()[:10]
    stem = slugify(title)[:150] or "article"
    return f"{stem}-{digest}"


def forecaster_for_name(*, name: str, kind: str = Forecaster.Kind.PERSON) -> Forecaster:
    """The forecaster of that name (whatever its case), added when there is none."""
    name = name.strip()
    existing = Forecaster.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    return forecaster_save(
        name=name, slug=_unique_forecaster_slug(name), kind=kind, url="", description=""
    )


def forecaster_for_source(*, source: Source) -> Forecaster:
    """Who is held to account when nobody is named: whoever most of the source's forecasts
    name already, else the author, else the publisher or site."""
    if source.pk is not None:
        usual = (
            Forecaster.objects.filter(forecasts__source=source)
            .annotate(named=Count("forecasts"))
            .order_by("-named", "pk")
            .first()
        )
        if usual is not None:
            return usual
    if source.author:
        return forecaster_for_name(name=source.author)
    outlet = source.publisher or urlsplit(source.url).hostname or "Unattributed source"
    return forecaster_for_name(name=outlet, kind=Forecaster.Kind.OUTLET)


def _unique_forecaster_slug(name: str) -> str:
    base = slugify(name)[:190] or "forecaster"
    slug, n = base, 1
    while Forecaster.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def source_extract(
    *,
    source: Source,
    forecaster: Forecaster | None = None,
    min_confidence: float = extraction.PROPOSE_AT,
) -> ExtractReport:
    """Propose the source text's candidates as draft forecasts: the new ones, and how many
    sentences were too long to read.

    Idempotent: a candidate already stored for this source (draft, published or
    rejected) is never proposed again, so running it twice creates nothing. Nor is
    one whose quote overlaps a quote the source's forecasts already carry. One
    transaction: stopped part way (a task's time limit), it leaves no draft behind.
    """
    if not source.text.strip():
        raise ValidationError(f"“{source}” has no text to extract forecasts from.")
    if forecaster is None:
        forecaster = forecaster_for_source(source=source)
    stored = Forecast.objects.filter(source=source)
    present = set(stored.values_list("slug", flat=True))
    # Quotes an editor already made forecasts of (entered by hand or accepted earlier).
    covered = [
        (start, stop)
        for start, stop in stored.values_list("quote_start", "quote_end")
        if start is not None and stop is not None
    ]
    created = []
    found = extraction.run(source.text, source.published_on)
    for candidate in found.candidates:
        if candidate.confidence < min_confidence:
            continue
        slug = _candidate_slug(source, candidate)
        end = candidate.start + len(candidate.quote)
        overlaps = any(candidate.start < stop and start < end for start, stop in covered)
        if slug in present or overlaps:
            continue
        created.append(_draft_create(source, forecaster, candidate, slug))
        present.add(slug)
    return ExtractReport(created=created, sentences_skipped=found.sentences_skipped)


def _candidate_slug(source: Source, candidate: extraction.Candidate) -> str:
    return f"{source.key[:180]}-x{candidate.start}"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _draft_create(
    source: Source, forecaster: Forecaster, candidate: extraction.Candidate, slug: str
) -> Forecast:
    # A far-off year in the text ("by 9999") is no deadline the tracker can hold.
    if candidate.deadline is not None and candidate.deadline <= LATEST_DATE:
        resolve_by = candidate.deadline
        note = candidate.deadline_note
    else:
        resolve_by = source.published_on + dt.timedelta(days=_PLACEHOLDER_DAYS)
        note = (
            f"{NO_DEADLINE_NOTE}: placeholder one year after publication. "
            "Set the deadline and replace this note before accepting."
        )
    statement = _truncate(candidate.statement, 500)
    criteria = f"YES if: {statement.rstrip('.')} (by {resolve_by:%d %B %Y})."
    if candidate.conditional:
        criteria += f" Conditional on: {candidate.condition} Annulled if that never holds."
    criteria += f" {EXTRACTION_PLACEHOLDER}"  # publication is refused while it stands
    quote = candidate.quote[:1000]
    # A number the text states is stored as that number (basis "number", already FOR the
    # statement); a verbal hedge as its phrase, which the lexicon reads.
    stated = candidate.stated_probability is not None
    return forecast_create(
        slug=slug,
        source=source,
        forecaster=forecaster,
        statement=statement,
        quote=quote,
        resolution_criteria=criteria,
        made_on=source.published_on,
        made_on_precision=source.published_precision,
        resolve_by=resolve_by,
        resolve_by_note=_truncate(note, 300),
        condition=_truncate(candidate.condition, 500),
        probability=candidate.probability if stated else None,
        phrase="" if stated else candidate.phrase,
        negated=candidate.negated and not stated,
        estimate_note=_estimate_note(candidate),
        # The text may repeat a quote (pull-quotes): point at the one it came from.
        quote_start=candidate.start,
        extraction_confidence=candidate.confidence,
    )


def _estimate_note(candidate: extraction.Candidate) -> str:
    stated = candidate.stated_probability
    if stated is None:
        parts = [f"Extracted: “{candidate.matched}” read as '{candidate.phrase}'"]
        if candidate.negated:
            parts.append("it qualifies the opposite of the statement, so P = 1 − p")
    else:
        parts = [f"Extracted: the number stated in “{candidate.matched}” ({_percent(stated)})"]
        if candidate.negated:
            parts.append(
                f"it is the chance of the opposite of the statement, so P = 1 − {_percent(stated)}"
                f" = {_percent(candidate.probability)}"
            )
    if candidate.weak:
        parts.append("weak evidence (comparative, superlative, modal or vague)")
    parts.append(f"confidence {candidate.confidence:.2f}")
    if candidate.reasons:
        parts.append("notes: " + "; ".join(candidate.reasons))
    return ". ".join(parts) + "."


def _percent(probability: float) -> str:
    return f"{probability * 100:.3g} %"


@dataclass(frozen=True)
class AcceptReport:
    published: int
    needs_deadline: list[Forecast]


@transaction.atomic
def candidates_accept(
    *, forecasts: ForecastQuerySet, accepted_by: User | None = None
) -> AcceptReport:
    """Publish the selected drafts that are not rejected and have a real deadline."""
    waiting = forecasts.candidates()
    needs_deadline = list(waiting.filter(resolve_by_note__startswith=NO_DEADLINE_NOTE))
    ready = waiting.exclude(pk__in=[forecast.pk for forecast in needs_deadline])
    return AcceptReport(
        published=forecasts_publish(
            forecasts=Forecast.objects.filter(pk__in=ready.values("pk")), published_by=accepted_by
        ),
        needs_deadline=needs_deadline,
    )
