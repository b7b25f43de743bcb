from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from forecasts.digests.sending import digests_send


class Command(BaseCommand):
    help = (
        "E-mail every confirmed subscriber the digest of the week or month that has ended, "
        "once per subscriber and period however often this runs (beat runs it daily)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            help="run as of this moment (ISO 8601, e.g. 2026-12-01T06:00+00:00); default: now",
        )

    def handle(self, *args: Any, now: str | None, **options: Any) -> None:
        moment = timezone.now()
        if now:
            try:
                moment = dt.datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(f"--now {now!r} is not an ISO 8601 date and time.") from None
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)

        def progress(cadence: str, done: int, total: int) -> None:
            if options["verbosity"] >= 1 and total > 0:
                self.stdout.write(f"  {cadence}: {done:,}/{total:,} subscribers", ending="\r")
                if done == total:
                    self.stdout.write("")

        report = digests_send(now=moment, progress=progress)
        self.stdout.write(f"Digests: {report}.")
