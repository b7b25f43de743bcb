from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from forecasts.core.seed import seed_forecasts_load


class Command(BaseCommand):
    help = "Store the seed article's forecasts (idempotent: a second run changes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--text",
            type=Path,
            help="The seed article's text file; stored with the source so quotes can be located.",
        )

    def handle(self, *args: Any, text: Path | None, **options: Any) -> None:
        article = None
        if text is not None:
            try:
                article = text.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"Cannot read the article text {text}: {exc}") from None
        try:
            report = seed_forecasts_load(text=article)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Seed forecasts: {report}.")
