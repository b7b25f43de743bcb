"""Store an article and propose its predictions as draft forecasts (thin adapter).

No time limit here, unlike the admin's extraction task: the reading is bounded by the
text, not by what is in it (its time grows in proportion to the text, and sentences over
``MAX_SENTENCE_CHARS`` are skipped: about 10 s at the 1 MB limit), then each draft stored
takes some milliseconds. The operator sees it run and may stop it; ``source_ingest`` is
one transaction, so a stopped run stores nothing.
"""

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator

from forecasts.core.models import Forecast
from forecasts.extraction import ingest
from forecasts.extraction.ingest import MAX_ARTICLE_BYTES, NO_DEADLINE_NOTE


class Command(BaseCommand):
    help = (
        "Store an article (with its text) and its candidate forecasts as drafts. "
        "Re-ingesting the same URL proposes nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="UTF-8 text file of the article")
        parser.add_argument("--url", required=True, help="the article's URL (its identity)")
        parser.add_argument("--title", default="", help="defaults to the first line of the text")
        parser.add_argument("--published", required=True, help="publication date, YYYY-MM-DD")
        parser.add_argument(
            "--forecaster",
            default="",
            help="who is accountable; defaults to the source's author, publisher or site",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        try:
            published = dt.date.fromisoformat(options["published"])
        except ValueError:
            raise CommandError(
                f"--published {options['published']!r} is not a date (use YYYY-MM-DD)."
            ) from None
        url = options["url"]
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise CommandError(f"--url {url!r} is not an http(s) URL.") from None
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        if path.stat().st_size > MAX_ARTICLE_BYTES:
            raise CommandError(
                f"{path} is {path.stat().st_size:,} bytes; the limit is {MAX_ARTICLE_BYTES:,}."
            )
        try:
            text = ingest.article_text_decode(data=path.read_bytes(), name=str(path))
            title = options["title"] or text.strip().splitlines()[0][:300]
            report = ingest.source_ingest(
                text=text,
                url=url,
                title=title,
                published_on=published,
                forecaster_name=options["forecaster"],
            )
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        except ValidationError as exc:
            raise CommandError("Nothing was stored: " + " ".join(exc.messages)) from None
        self.stdout.write(str(report))
        for forecast in sorted(report.created, key=lambda f: -(f.extraction_confidence or 0)):
            self.stdout.write("  " + _line(forecast))


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
