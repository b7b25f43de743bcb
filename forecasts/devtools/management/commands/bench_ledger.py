"""Benchmark: how long ``verify_ledger`` takes on the data in place (after
``bench_scores --keep``, the 100,000 synthetic forecasts and their chain)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from forecasts.core.ledger.verify import LedgerMismatch, ledger_verify


class Command(BaseCommand):
    help = "Time verify_ledger's service on the data in place; fails if the ledger does not verify."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            f"bench_ledger on {connection.vendor} ({settings.DATABASES['default']['NAME']})"
        )
        try:
            report = ledger_verify(progress=self._progress)
        except LedgerMismatch as exc:
            raise CommandError(f"The ledger does not verify: {exc}") from None
        self.stdout.write(
            f"verify_ledger: {report.entries:,} entries, {report.forecasts:,} forecasts, "
            f"{report.estimates:,} estimates in {report.seconds:.2f} s "
            f"({report.entries / max(report.seconds, 1e-9):,.0f} entries/s)"
        )

    def _progress(self, chain: str, done: int, total: int) -> None:
        self.stderr.write(f"bench_ledger:   {chain} chain {done:,}/{total:,} entries")
