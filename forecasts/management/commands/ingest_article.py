"""Store an article and propose its predictions as draft forecasts (thin adapter).

The article is a URL (fetched under the limits of :mod:`forecasts.extraction.fetch`), a
saved HTML page (read the same way, offline) or a UTF-8 text file. From a page, its
title, author, site and publication date come from its metadata unless given here.

No time limit on the reading, unlike the admin's extraction task: it is bounded by the
text, not by what is in it (its time grows in proportion to the text, and sentences over
``MAX_SENTENCE_CHARS`` are skipped: about 10 s at the 1 MB limit), then each draft stored
takes some milliseconds. The operator sees it run and may stop it; ``source_ingest`` is
one transaction, so a stopped run stores nothing.
"""

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator

from forecasts.core.models import Forecast
from forecasts.extraction import fetch, ingest
from forecasts.extraction.html_article import Article
from forecasts.extraction.ingest import MAX_ARTICLE_BYTES, NO_DEADLINE_NOTE

#: The option that supplies each field a page may not name.
_OPTIONS = {"url": "--url", "published_on": "--published YYYY-MM-DD", "title": "--title"}


class Command(BaseCommand):
    help = (
        "Store an article (with its text) and its candidate forecasts as drafts. The "
        "article is a URL, a saved .html/.htm page or a UTF-8 .txt file. "
        "Re-ingesting the same URL proposes nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "article", help="the article's http(s) URL, or an .html/.htm or UTF-8 .txt file"
        )
        parser.add_argument(
            "--url",
            default="",
            help="the article's URL (its identity); required for a .txt file, "
            "else defaults to the address fetched or the page's canonical address",
        )
        parser.add_argument(
            "--title", default="", help="defaults to the page's title or the first line"
        )
        parser.add_argument(
            "--published",
            default="",
            help="publication date, YYYY-MM-DD; required for a .txt file, "
            "else defaults to the page's date",
        )
        parser.add_argument("--author", default="", help="defaults to the page's author")
        parser.add_argument(
            "--forecaster",
            default="",
            help="who is accountable; defaults to the source's author, publisher or site",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        published = _date(options["published"])
        url = options["url"]
        if url:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except ValidationError:
                raise CommandError(f"--url {url!r} is not an http(s) URL.") from None
        where: str = options["article"]
        try:
            if _is_address(where):
                self.stdout.write(f"Fetching {where} …")
                page, article = fetch.article_fetch(where)
                self.stdout.write(f"Read {page.content_type} from {page.url}: {_about(article)}")
                url = url or page.url
            else:
                article = self._file_article(Path(where), url=url, published=published)
            fields = ingest.article_source_fields(
                article=article,
                url=url,
                title=options["title"],
                published_on=published,
                author=options["author"],
            )
            report = ingest.source_ingest(**fields, forecaster_name=options["forecaster"])
        except fetch.FetchRefused as exc:
            raise CommandError(f"Nothing was stored: {exc}") from None
        except ValidationError as exc:
            raise CommandError("Nothing was stored: " + _refusal(exc)) from None
        self.stdout.write(str(report))
        for forecast in sorted(report.created, key=lambda f: -(f.extraction_confidence or 0)):
            self.stdout.write("  " + _line(forecast))

    def _file_article(self, path: Path, *, url: str, published: dt.date | None) -> Article:
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        if path.suffix.lower() in fetch.HTML_SUFFIXES:
            article = fetch.html_file_read(
                path, max_bytes=fetch.FetchPolicy.from_settings().max_bytes
            )
            self.stdout.write(f"Read {path}: {_about(article)}")
            return article
        # A text file says nothing of itself: the address and date are the operator's.
        if not url:
            raise CommandError(f"--url is required for a text file ({path}).")
        if published is None:
            raise CommandError(f"--published is required for a text file ({path}).")
        if path.stat().st_size > MAX_ARTICLE_BYTES:
            raise CommandError(
                f"{path} is {path.stat().st_size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,}."
            )
        try:
            text = ingest.article_text_decode(data=path.read_bytes(), name=str(path))
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        return Article(text=text, title=text.strip().splitlines()[0][:300])


def _date(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--published {value!r} is not a date (use YYYY-MM-DD).") from None


def _is_address(value: str) -> bool:
    """Whether the argument is meant as an address ("ftp://…" too: refused by the fetcher)
    rather than a file name."""
    return "://" in value and len(urlsplit(value).scheme) > 1


def _about(article: Article) -> str:
    said = [
        f"“{article.title}”" if article.title else "no title",
        f"by {article.author}" if article.author else "no author",
        f"published {article.published_on}" if article.published_on else "no date",
    ]
    if article.sitename:
        said.append(f"on {article.sitename}")
    return f"{', '.join(said)}; {len(article.text):,} characters of text."


def _refusal(exc: ValidationError) -> str:
    """The service's messages, each with the option that would supply what it lacks."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return " ".join(
        f"{message.rstrip('.')} ({_OPTIONS[field]})." if field in _OPTIONS else message
        for field, messages in exc.message_dict.items()
        for message in messages
    )


def _line(forecast: Forecast) -> str:
    estimate = forecast.latest_estimate()
    probability = f"{estimate.probability:.0%}" if estimate else "?"
    deadline = (
        "no deadline in the text"
        if forecast.resolve_by_note.startswith(NO_DEADLINE_NOTE)
        else f"by {forecast.resolve_by}"
    )
    condition = f" [if: {forecast.condition}]" if forecast.condition else ""
    return (
        f"[{forecast.extraction_confidence or 0:.2f}] {probability:>4} {deadline}: "
        f"{forecast.statement}{condition}"
    )
