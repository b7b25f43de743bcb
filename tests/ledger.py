"""Helpers for the ledger's tests: a forecast with a full public history, and tampering
with rows the way someone with database access would, triggers or not."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from forecasts.core.services import (
    estimate_record,
    forecast_create,
    forecast_extend,
    forecast_resolve,
)
from forecasts.core.services.forecasts import forecast_amend
from forecasts.models import Forecast, ForecastAmendment
from tests.factories import ForecasterFactory, SourceFactory, UserFactory

TABLES = (
    "forecasts_ledgerentry",
    "forecasts_ledgerhead",
    "forecasts_forecast",
    "forecasts_estimate",
    "forecasts_resolution",
)


@contextlib.contextmanager
def tampering() -> Iterator[None]:
    """Let raw UPDATE and DELETE through whatever triggers protect the record: an
    attacker with the database's owner account can do as much. On PostgreSQL, user
    triggers do not fire for a session in replica mode; on SQLite the triggers on these
    tables are dropped (inside the test's transaction, so they come back after)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            try:
                yield
            finally:
                cursor.execute("SET session_replication_role = origin")
            return
        placeholders = ", ".join(["%s"] * len(TABLES))
        cursor.execute(
            "SELECT name FROM sqlite_master "  # noqa: S608 - placeholders only
            f"WHERE type = 'trigger' AND tbl_name IN ({placeholders})",
            TABLES,
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER "{name}"')
        yield


def tamper(sql: str, params: list[object] | tuple[object, ...] = ()) -> None:
    with tampering(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@dataclass
class History:
    forecast: Forecast
    draft: Forecast
    amendment: ForecastAmendment


def full_history(*, slug: str = "deal-by-2025") -> History:
    """A published forecast that was amended, extended, resolved and corrected, with a
    later estimate; and a draft with an estimate (on no ledger)."""
    editor = UserFactory(username="alice.smith", is_staff=True, is_superuser=True)
    source, forecaster = SourceFactory(), ForecasterFactory(name="A <b>bold</b> pundit")
    today = timezone.localdate()
    terms = {
        "source": source,
        "forecaster": forecaster,
        "resolution_criteria": "YES if a deal is signed.",
        "made_on": today - dt.timedelta(days=30),
        "resolve_by": today - dt.timedelta(days=1),
    }
    forecast = forecast_create(
        slug=slug,
        statement="A deal is reached.",
        publish=True,
        # (probability= alone leaves the basis blank on main: forecast_create's bug.)
        estimates=[{"probability": 0.3, "basis": "number"}],
        recorded_by=editor,
        **terms,
    )
    estimate_record(forecast=forecast, probability=0.45, basis="number", recorded_by=editor)
    amendment = forecast_amend(
        forecast=forecast,
        changes={"statement": "A deal <script>x</script> is signed."},
        reason="The source said “signed”.",
        amended_by=editor,
    )
    forecast_extend(
        forecast=forecast,
        new_resolve_by=today + dt.timedelta(days=10),
        reason="Talks resumed.",
        extended_by=editor,
    )
    forecast_resolve(
        forecast=forecast,
        outcome="NO",
        known_on=today,
        resolved_by=editor,
        note="No deal <em>yet</em>.",
    )
    forecast_resolve(
        forecast=forecast,
        outcome="YES",
        known_on=today,
        resolved_by=editor,
        evidence_url="https://news.example.org/deal",
        correction_reason="Misread the communiqué.",
    )
    draft = forecast_create(
        slug=f"{slug}-draft",
        statement="A draft.",
        estimates=[{"probability": 0.5, "basis": "number"}],
        **terms,
    )
    forecast.refresh_from_db()
    return History(forecast=forecast, draft=draft, amendment=amendment)
