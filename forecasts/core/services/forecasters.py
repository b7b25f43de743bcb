"""Forecasters: who is accountable. Adding, changing, deleting one with no forecasts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from forecasts.core.changes import public_pages_changed
from forecasts.core.models import Forecast, Forecaster


@transaction.atomic
def forecaster_save(
    *,
    forecaster: Forecaster | None = None,
    name: str,
    slug: str,
    kind: str,
    url: str,
    description: str,
) -> Forecaster:
    """Add a forecaster, or change ``forecaster``; returns the saved forecaster."""
    record = Forecaster() if forecaster is None else Forecaster.objects.get(pk=forecaster.pk)
    record.name, record.slug, record.kind = name, slug, kind
    record.url, record.description = url, description
    record.full_clean()
    record.save()
    transaction.on_commit(public_pages_changed)
    return record


def forecaster_delete_check(*, forecaster: Forecaster) -> None:
    """Raise ``ValidationError`` if :func:`forecaster_delete` would refuse."""
    if Forecast.objects.filter(forecaster_id=forecaster.pk).exists():
        raise ValidationError(f"“{forecaster}” has forecasts: a forecaster is kept while any do.")


@transaction.atomic
def forecaster_delete(*, forecaster: Forecaster) -> None:
    """Delete a forecaster with no forecasts (digest subscribers stop filtering on it)."""
    forecaster_delete_check(forecaster=forecaster)
    forecaster.delete()
    transaction.on_commit(public_pages_changed)
