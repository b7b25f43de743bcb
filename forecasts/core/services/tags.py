"""Tags: the topics forecasts are filed under. Adding, renaming, deleting an unused one."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from forecasts.core.changes import public_pages_changed
from forecasts.core.models import Forecast, Tag


@transaction.atomic
def tag_save(*, tag: Tag | None = None, name: str, slug: str) -> Tag:
    """Add a tag, or rename ``tag``; returns the saved tag."""
    record = Tag() if tag is None else Tag.objects.get(pk=tag.pk)
    record.name, record.slug = name, slug
    record.full_clean()
    record.save()
    transaction.on_commit(public_pages_changed)
    return record


def tag_delete_check(*, tag: Tag) -> None:
    """Raise ``ValidationError`` if :func:`tag_delete` would refuse."""
    if Forecast.objects.filter(tags=tag, published_at__isnull=False).exists():
        # Its scores are published too (scope snapshots): rename it instead.
        raise ValidationError(
            f"Published forecasts are filed under “{tag}”: rename it rather than delete it."
        )


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    """Delete a tag no published forecast carries (drafts and subscribers lose it)."""
    tag_delete_check(tag=tag)
    tag.delete()
    transaction.on_commit(public_pages_changed)
