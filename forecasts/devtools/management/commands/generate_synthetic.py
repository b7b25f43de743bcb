from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import reset_queries

from forecasts.devtools.synthetic import (
    synthetic_clear,
    synthetic_generate,
    synthetic_sizes_check,
)

NAME = "generate_synthetic"


class Command(BaseCommand):
    help = (
        "Fill the database with synthetic forecasts (flagged synthetic) for benchmarks and "
        "load tests. --clear removes earlier synthetic data (only flagged rows) first; "
        "with --forecasts 0 it only clears."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--forecasts", type=int, default=100_000)
        parser.add_argument(
            "--estimates",
            type=int,
            default=1_000_000,
            help="Total estimates, at least one per forecast.",
        )
        parser.add_argument("--forecasters", type=int, default=200)
        parser.add_argument("--sources", type=int, default=500)
        parser.add_argument("--tags", type=int, default=50)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Forecasts written (or deleted) per transaction.",
        )
        parser.add_argument(
            "--clear", action="store_true", help="Remove earlier synthetic data first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        forecasts: int = options["forecasts"]
        sizes = {
            "forecasts": forecasts,
            # With nothing to generate, the estimates default is moot.
            "estimates": options["estimates"] if forecasts else 0,
            "forecasters": options["forecasters"],
            "sources": options["sources"],
            "tags": options["tags"],
        }
        batch_size: int = options["batch_size"]
        try:
            # Checked before clearing, so a typo does not cost the existing data.
            synthetic_sizes_check(**sizes, batch_size=batch_size)
            if options["clear"]:
                cleared = synthetic_clear(
                    batch_size=batch_size, progress=_Progress(self._note, "cleared")
                )
                self.stdout.write(f"Synthetic data cleared: {cleared} forecasts deleted.")
            if forecasts == 0:
                if not options["clear"]:
                    self.stdout.write("Nothing to generate (--forecasts 0).")
                return
            report = synthetic_generate(
                **sizes,
                seed=options["seed"],
                batch_size=batch_size,
                progress=_Progress(self._note, "written"),
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"{report}.")

    def _note(self, line: str) -> None:
        # Plain text: progress is not an error, whatever stderr's default style.
        self.stderr.write(line, style_func=lambda text: text)
        self.stderr.flush()


class _Progress:
    """Prints a line each time another tenth of the work is done: readable in CI logs."""

    def __init__(self, write: Callable[[str], None], verb: str) -> None:
        self.write = write
        self.verb = verb
        self.tenths = 0

    def __call__(self, done: int, total: int) -> None:
        # Under DEBUG every statement's SQL is kept; bulk inserts would pile up.
        reset_queries()
        tenths = done * 10 // total if total else 10
        if tenths > self.tenths or done == total:
            self.tenths = tenths
            self.write(f"{NAME}: {self.verb} {done}/{total} forecasts ({done * 100 // total} %)")
