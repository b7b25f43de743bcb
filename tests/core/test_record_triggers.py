"""The database's own guard on the record (migration 0012), on SQLite and PostgreSQL:
a write that bypasses the services is refused; the services' permitted writes pass."""

import datetime as dt
import importlib

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, connection, transaction

from forecasts.core import services
from forecasts.core.ledger.models import LedgerEntry
from forecasts.core.models import (
    DeadlineExtension,
    Estimate,
    Forecast,
    ForecastAmendment,
    Outcome,
    Resolution,
)
from forecasts.core.permits import refusal_message
from forecasts.core.services.forecasts import forecast_amend
from tests.factories import ForecastFactory, UserFactory

pytestmark = pytest.mark.django_db

triggers = importlib.import_module("forecasts.migrations.0012_record_triggers")


def _refused(write, words: str) -> None:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    assert words in (refusal_message(caught.value) or "")


@pytest.fixture
def editor():
    user = UserFactory(username="edith", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_forecast"))
    return user


@pytest.fixture
def published():
    return ForecastFactory(made_on=dt.date(2020, 6, 1), resolve_by=dt.date(2021, 1, 20))


def test_every_trigger_is_installed():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        installed = {row[0] for row in cursor.fetchall()}
    assert set(triggers.TRIGGER_NAMES[connection.vendor]) <= installed


def test_a_published_forecasts_terms_are_not_updated_directly(published):
    for field, value in [
        ("statement", "Rewritten quietly."),
        ("resolution_criteria", "Other criteria."),
        ("made_on", dt.date(2019, 1, 1)),
        ("condition", "If pigs fly."),
    ]:
        _refused(
            lambda f=field, v=value: Forecast.objects.filter(pk=published.pk).update(**{f: v}),
            "amendment",
        )
    _refused(
        lambda: Forecast.objects.filter(pk=published.pk).update(resolve_by=dt.date(2027, 6, 30)),
        "extension",
    )
    _refused(lambda: Forecast.objects.filter(pk=published.pk).update(slug="moved"), "slug")
    _refused(lambda: Forecast.objects.filter(pk=published.pk).update(published_at=None), "slug")
    _refused(lambda: Forecast.objects.filter(pk=published.pk).update(synthetic=True), "synthetic")
    published.refresh_from_db()
    assert published.resolve_by == dt.date(2021, 1, 20)


def test_what_is_not_a_term_still_changes(published, editor):
    Forecast.objects.filter(pk=published.pk).update(extraction_confidence=0.5)
    published.tags.set([])  # tags stay editable


def test_a_draft_is_edited_freely():
    draft = ForecastFactory(published_at=None)
    Forecast.objects.filter(pk=draft.pk).update(statement="Typed again.", slug="typed-again")
    Estimate.objects.filter(forecast=draft).delete()
    draft.delete()


def test_estimates_are_never_updated_and_published_ones_never_deleted(published):
    estimate = published.estimates.get()
    _refused(lambda: Estimate.objects.filter(pk=estimate.pk).update(probability=1.0), "estimate")
    _refused(
        lambda: Estimate.objects.filter(pk=estimate.pk).update(made_on=dt.date(2024, 3, 2)),
        "estimate",
    )
    _refused(lambda: Estimate.objects.filter(pk=estimate.pk).delete(), "never deleted")


def test_a_published_forecast_is_never_deleted(published):
    _refused(lambda: Forecast.objects.filter(pk=published.pk)._raw_delete("default"), "deleted")


def test_resolutions_are_never_changed_nor_deleted_but_a_correction_supersedes():
    forecast = ForecastFactory(resolve_by=dt.date(2024, 2, 1))
    first = services.forecast_resolve(
        forecast=forecast, outcome=Outcome.YES, known_on=dt.date(2024, 8, 1), note="Reported."
    )
    _refused(lambda: Resolution.objects.filter(pk=first.pk).update(outcome=Outcome.NO), "never")
    _refused(lambda: Resolution.objects.filter(pk=first.pk).update(is_current=False), "never")
    _refused(lambda: Resolution.objects.filter(pk=first.pk).delete(), "never deleted")
    second = services.forecast_resolve(
        forecast=forecast,
        outcome=Outcome.NO,
        known_on=dt.date(2024, 8, 1),
        note="Misread.",
        correction_reason="The first report was wrong.",
    )
    first.refresh_from_db()
    assert (first.is_current, second.is_current, second.supersedes_id) == (False, True, first.pk)


def test_amendments_extensions_and_ledger_entries_are_never_changed(published, editor):
    amendment = forecast_amend(
        forecast=published, changes={"statement": "Clearer."}, reason="Typo.", amended_by=editor
    )
    extension = services.forecast_extend(
        forecast=published, new_resolve_by=dt.date(2027, 6, 30), reason="Not yet.", extended_by=None
    )
    published.refresh_from_db()
    assert (published.statement, published.resolve_by) == ("Clearer.", dt.date(2027, 6, 30))
    entry = LedgerEntry.objects.filter(forecast=published).last()
    for queryset, change in [
        (ForecastAmendment.objects.filter(pk=amendment.pk), {"reason": "Other."}),
        (DeadlineExtension.objects.filter(pk=extension.pk), {"reason": "Other."}),
        (LedgerEntry.objects.filter(pk=entry.pk), {"payload": "{}"}),
    ]:
        _refused(lambda q=queryset, c=change: q.update(**c), "never changed")
        _refused(lambda q=queryset: q.delete(), "never changed nor deleted")


def test_no_permit_outlives_its_service(published, editor):
    forecast_amend(
        forecast=published, changes={"statement": "Clearer."}, reason="Typo.", amended_by=editor
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM forecasts_writepermit")
        assert cursor.fetchone()[0] == 0


def test_synthetic_rows_may_be_cleared():
    forecast = ForecastFactory(synthetic=True, resolve_by=dt.date(2024, 2, 1))
    services.forecast_resolve(
        forecast=forecast, outcome=Outcome.YES, known_on=dt.date(2024, 8, 1), note="Reported."
    )
    LedgerEntry.objects.filter(forecast=forecast).delete()
    Resolution.objects.filter(forecast=forecast).delete()
    Estimate.objects.filter(forecast=forecast).delete()
    Forecast.objects.filter(pk=forecast.pk).delete()
    assert not Forecast.objects.filter(pk=forecast.pk).exists()
