"""Pagination: one page of a queryset and how many items there are in all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    count: int
    items: list[T]


def paginate(queryset: QuerySet[Any], *, limit: int, offset: int) -> Page[Any]:
    """One count query and one page query (plus the queryset's own prefetches)."""
    count = queryset.count()
    items = list(queryset[offset : offset + limit]) if offset < count else []
    return Page(count=count, items=items)
