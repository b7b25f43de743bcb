"""Ledger entries, and each chain's head (the lock appends serialise on)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from forecasts.core.ledger.canonical import GENESIS_HASH
from forecasts.core.models import Forecast


class LedgerChain(models.TextChoices):
    """The public record, and a separate chain for the developer tools' synthetic data,
    which they may remove as a whole without touching the record's chain."""

    RECORD = "record", "Record"
    SYNTHETIC = "synthetic", "Synthetic (developer tools)"


class EventKind(models.TextChoices):
    PUBLICATION = "publication", "Published"
    ESTIMATE = "estimate", "Estimate recorded"
    RESOLUTION = "resolution", "Resolved"
    CORRECTION = "correction", "Resolution corrected"
    ANNULMENT = "annulment", "Annulled"
    EXTENSION = "extension", "Deadline extended"
    AMENDMENT = "amendment", "Terms amended"


class ActorRole(models.TextChoices):
    """Who acted, in role terms only: the ledger is public and names no one."""

    EDITOR = "editor", "an editor"
    REVIEWER = "reviewer", "a reviewer"
    SYSTEM = "system", "the system"
    IMPORT = "import", "the historical import"


class LedgerEntry(models.Model):
    """One public change. ``payload`` is the canonical JSON that was hashed, byte for byte;
    the other columns repeat parts of it for queries. Never updated, never deleted."""

    chain = models.CharField(max_length=10, choices=LedgerChain.choices)
    seq = models.PositiveBigIntegerField(help_text="1, 2, 3, … within the chain, no gaps.")
    recorded_at = models.DateTimeField()
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    forecast = models.ForeignKey(Forecast, on_delete=models.PROTECT, related_name="ledger_entries")
    actor = models.CharField(max_length=10, choices=ActorRole.choices)
    payload = models.TextField(help_text="The entry's canonical JSON, exactly as hashed.")
    hash = models.CharField(max_length=64, help_text="sha256(previous hash + payload), hex.")

    class Meta:
        ordering = ["chain", "seq"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["forecast", "chain", "seq"])]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="ledger_one_entry_per_seq"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="ledger_seq_from_one"),
            models.CheckConstraint(
                condition=Q(chain__in=LedgerChain.values), name="ledger_chain_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.chain} #{self.seq} {self.kind} of forecast {self.forecast_id}"


class LedgerHead(models.Model):
    """A chain's newest sequence number and hash. Appending locks this row, so entries
    are numbered and chained in commit order."""

    chain = models.CharField(max_length=10, choices=LedgerChain.choices, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"{self.chain} head #{self.seq} {self.hash[:12]}"
