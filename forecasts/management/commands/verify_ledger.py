from typing import Any

from django.core.management.base import BaseCommand, CommandError

from forecasts.core.ledger.verify import LedgerMismatch, ledger_verify


class Command(BaseCommand):
    help = (
        "Re-derive every ledger hash, chain by chain, and every published forecast's public "
        "state from the entries, and compare it with the database. Exits non-zero naming the "
        "first entry or forecast that does not match."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = ledger_verify(progress=self._progress)
        except LedgerMismatch as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{report}.")

    def _progress(self, chain: str, done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        # Plain text: progress is not an error, whatever stderr's default style.
        self.stderr.write(
            f"verify_ledger: {chain} chain {done}/{total} entries ({percent} %)",
            style_func=lambda text: text,
        )
