from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forecasts.scores.live import scores_rebuild
from forecasts.scores.verify import scores_verify


class Command(BaseCommand):
    help = (
        "Compute every score from the whole record again and compare it, to 1e-9, with the "
        "live scores kept by each change (per-forecast rows, scope sums, tallies) and with "
        "today's snapshots. Exits non-zero listing the differences; --repair rebuilds the "
        "live scores from the record when there are any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--repair",
            action="store_true",
            help="rebuild the live scores (and today's snapshots) when they differ",
        )

    def handle(self, *args: Any, repair: bool, **options: Any) -> None:
        self.stderr.write(
            "verify_scores: recomputing every score from the record…",
            style_func=lambda text: text,
        )
        report = scores_verify()
        if report.ok:
            self.stdout.write(f"{report}.")
            return
        for difference in report.differences:
            self.stderr.write(f"  {difference}")
        if not repair:
            raise CommandError(f"{report}.")
        self.stdout.write(f"{report}; repairing.")
        self.stdout.write(f"{scores_rebuild()}.")
        again = scores_verify()
        if not again.ok:
            raise CommandError(f"after the repair: {again}.")
        self.stdout.write(f"{again}.")
