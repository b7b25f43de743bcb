"""The database's guard on the record, and the permits the services open to pass it.

Migration ``0012_record_triggers`` installs triggers (PostgreSQL and SQLite) that refuse
what no service does: changing a published forecast's terms or deadline, changing or
deleting an estimate, a resolution, an amendment, an extension or a ledger entry, and
deleting a published forecast. The two services that may change a published forecast
open a permit for it, inside their transaction and only around their own ``UPDATE``:
:func:`forecasts.core.services.forecasts.forecast_amend` (``AMEND``: its terms) and
:func:`forecasts.core.services.resolutions.forecast_extend` (``EXTEND``: its deadline);
:func:`forecasts.core.services.resolutions.forecast_resolve` opens ``CORRECT`` to mark
the resolution a correction supersedes as no longer current. A permit is a row of a
table no model maps (``forecasts_writepermit``), inserted and deleted in the same
transaction, so no other transaction ever sees one.

Rows of synthetic forecasts (the developer tools') and the synthetic ledger chain may
be deleted: they are not the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

#: Every refusal the triggers raise starts so; :func:`refusals_as_errors` finds them by it.
REFUSAL_PREFIX = "append-only record:"


class Permit(StrEnum):
    AMEND = "amend"
    EXTEND = "extend"
    CORRECT = "correct"
    #: SQLite only, for the test suite's flush between transactional tests (PostgreSQL
    #: flushes with TRUNCATE, which row triggers do not see).
    FLUSH = "flush"


@contextmanager
def write_permit(forecast_id: int, kind: Permit) -> Iterator[None]:
    """Let the statements run inside make the ``kind`` of change to one forecast.

    Must run inside the service's transaction. The permit and the change commit or
    roll back together (a savepoint), and the permit is gone before the commit.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("A write permit is opened inside the transaction that uses it.")
    with refusals_as_errors(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO forecasts_writepermit (forecast_id, kind) VALUES (%s, %s)",
            [forecast_id, str(kind)],
        )
        yield
        cursor.execute(
            "DELETE FROM forecasts_writepermit WHERE forecast_id = %s AND kind = %s",
            [forecast_id, str(kind)],
        )


@contextmanager
def refusals_as_errors() -> Iterator[None]:
    """The database's refusal of a change to the record, as a ``ValidationError`` naming
    it (any other integrity error passes through unchanged). A savepoint, so the
    transaction goes on after the refusal (PostgreSQL aborts it otherwise)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        message = refusal_message(exc)
        if message is None:
            raise
        raise ValidationError(message) from exc


def refusal_message(exc: BaseException) -> str | None:
    """The trigger's sentence, when ``exc`` is the database refusing a change to the record."""
    text = str(exc)
    start = text.find(REFUSAL_PREFIX)
    if start < 0:
        return None
    sentence = text[start + len(REFUSAL_PREFIX) :].strip().splitlines()[0]
    return sentence[:1].upper() + sentence[1:]
