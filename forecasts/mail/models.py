"""The claim every e-mail sent exactly once is recorded by (review prompts, digests).

A row is claimed (inserted, or a stale claim taken over) before its e-mail is
sent and marked sent afterwards, only while the claim is still its run's:
:mod:`forecasts.mail.outbox` does all three. A concrete model adds what the row
is about, its unique constraint (which makes a second claim an insert of
nothing) and how its states are stored (:meth:`OutboxItem.outbox_waiting` and
the two after it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models


class OutboxItem(models.Model):
    """One claimed e-mail, or one part of an e-mail that carries several."""

    claim = models.UUIDField(help_text="The run that holds (or held) the claim.")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # Chosen with the claim: a run that takes the claim over sends the same message.
    message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @classmethod
    def outbox_waiting(cls) -> dict[str, Any]:
        """Column values of a row still waiting to be sent: neither sent nor given up.
        ``None`` stands for NULL. Plain columns only: the outbox writes them into SQL."""
        return {"sent_at": None}

    def is_waiting(self) -> bool:
        """Whether this row still waits to be sent, by :meth:`outbox_waiting`'s columns."""
        return all(getattr(self, name) == value for name, value in self.outbox_waiting().items())

    @classmethod
    def outbox_sent(cls, *, now: dt.datetime) -> dict[str, Any]:
        """Column values that record the e-mail sent at ``now`` (plain columns only)."""
        return {"sent_at": now}

    @classmethod
    def outbox_failed(cls, *, now: dt.datetime) -> dict[str, Any]:
        """Column values that record a permanent failure at ``now`` (the server refused
        the recipient or the message for good): the row is never sent again."""
        raise NotImplementedError(f"{cls.__name__} does not say how a failure is recorded.")
