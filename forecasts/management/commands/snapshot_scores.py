import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from forecasts.scores import services as score_services
from forecasts.scores.models import ScoreSnapshot


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date in YYYY-MM-DD form.") from None


class Command(BaseCommand):
    help = (
        "Compute every scope's scores (everything, each forecaster, source and tag) as of a "
        "date, from what was on record by the end of that day, replacing that date's "
        "snapshots. --backfill rebuilds the history as one series, weekly from the first "
        "recorded outcome to today, and deletes every other snapshot date up to today."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--date", help="YYYY-MM-DD (default: today in TIME_ZONE)")
        group.add_argument("--backfill", action="store_true")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when snapshots already exist (for start-up scripts)",
        )

    def handle(
        self, *args: Any, date: str | None, backfill: bool, if_empty: bool, **options: Any
    ) -> None:
        if if_empty and ScoreSnapshot.objects.exists():
            self.stdout.write("Snapshots already exist; nothing to do.")
            return
        today = timezone.localdate()
        if backfill:
            report = score_services.scores_backfill(until=today, progress=self._progress)
            self.stdout.write(f"Backfilled {report}.")
            return
        as_of = _date(date) if date else today
        if as_of > today:
            raise CommandError(f"--date {as_of} is in the future; scores exist up to today.")
        self.stdout.write(f"Snapshot {score_services.scores_snapshot(as_of=as_of)}.")

    def _progress(self, done: int, total: int) -> None:
        step = max(1, total // 10)
        if done == total or done % step == 0:
            self.stderr.write(f"snapshot_scores: {done}/{total} dates ({done * 100 // total} %)")
