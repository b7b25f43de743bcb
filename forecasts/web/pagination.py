"""Pagination: one page of a queryset or a list, and how many items there are in all.

One core, :func:`window` (a count, then one page), under both doors:

- :class:`PublicPagination`, django-ninja's paginator for the JSON API: ``limit`` and
  ``offset`` in, ``{count, limit, offset, next, previous, items}`` out, with absolute
  links to the neighbouring pages;
- :func:`numbered_page` for the HTML pages: ``?page=N``, checked, with a message for a 400.

What can be paged: a queryset, a list, or :class:`IdsFirst`, a queryset that says how to
fetch a page's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

T = TypeVar("T")
M = TypeVar("M", bound=Model)

# The API's page sizes.
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
# Far beyond any real data, and far below the 64-bit integers the databases accept.
MAX_OFFSET = 1_000_000_000
# The HTML pages' page size.
PAGE_SIZE = 50


@dataclass(frozen=True)
class IdsFirst(Generic[M]):
    """A queryset paged by its ids: ``matching`` is counted and a page of its ids read,
    then ``rows(ids)`` fetches those rows alone, in ``matching``'s order.

    For rows with costly per-row annotations: PostgreSQL computes them for every row
    an OFFSET skips, so they are computed for the page's rows only.

    ``count``, when given, says how many rows ``matching`` has without counting them
    (a stored count), so a page costs no scan of everything it could list.
    """

    matching: QuerySet[Any]
    rows: Callable[[list[Any]], QuerySet[M]]
    count: Callable[[], int] | None = None
    # The field of ``matching`` holding the rows' ids: a listing kept beside the rows
    # (forecasts.core.counts.PublishedTagListing) names them ``forecast_id``.
    id_field: str = "pk"


Pageable: TypeAlias = QuerySet[Any] | Sequence[Any] | IdsFirst[Any]


@dataclass(frozen=True)
class Window(Generic[T]):
    """The items of one page, and how many items there are in all."""

    count: int
    items: list[T]


def window(items: Pageable, *, offset: int, limit: int) -> Window[Any]:
    """``limit`` items from ``offset``: a count, then one page, none past the end.

    A queryset costs a count and a page query (plus its prefetches), :class:`IdsFirst`
    a count, a page of ids and their rows, and a list nothing.
    """
    if isinstance(items, IdsFirst):
        count = items.count() if items.count is not None else items.matching.count()
        if offset >= count:
            return Window(count, [])
        ids = list(items.matching.values_list(items.id_field, flat=True)[offset : offset + limit])
        return Window(count, list(items.rows(ids)) if ids else [])
    count = items.count() if isinstance(items, QuerySet) else len(items)
    return Window(count, list(items[offset : offset + limit]) if offset < count else [])


# --- The API -----------------------------------------------------------------------------


class PageQuery(PaginationBase.Input):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class PageFields(Schema):
    """The fields of every API page; each view's page schema adds its ``items``."""

    count: int
    limit: int
    offset: int
    next: str | None
    previous: str | None


class Beside:
    """What a paginated view returns when its page carries more than its items: the items
    to page, and the fields beside them (``Beside(history, scope=scope)``)."""

    def __init__(self, items: Pageable, **fields: Any) -> None:
        self.items = items
        self.fields = fields


class PublicPagination(PaginationBase):
    """The API's paginator: ``limit`` (1–100, 50 by default) and ``offset`` in; out the
    :class:`PageFields`, any fields the view returned :class:`Beside` its items, and the
    items. ``next`` and ``previous`` are absolute links: ``SITE_URL``, the path, and the
    request's query string with its own limit and offset.
    """

    # Named PageQuery, not Input, as the OpenAPI document has always called it.
    Input = PageQuery  # type: ignore[assignment]  # mypy: a nested class, overridden
    # Each view declares its page schema (PageFields and its items), so the schema names
    # clients know stay; with an Output, django-ninja would generate "Paged<Item>" ones.
    Output = None  # type: ignore[assignment]

    def paginate_queryset(
        self, queryset: Any, pagination: PageQuery, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        items, beside = (
            (queryset.items, queryset.fields) if isinstance(queryset, Beside) else (queryset, {})
        )
        limit, offset = pagination.limit, pagination.offset
        found = window(items, offset=offset, limit=limit)

        def link(to: int) -> str:
            query = request.GET.copy()
            query["limit"], query["offset"] = str(limit), str(to)
            return f"{settings.SITE_URL}{request.path}?{query.urlencode()}"

        return {
            "count": found.count,
            "limit": limit,
            "offset": offset,
            "next": link(offset + limit) if offset + limit < found.count else None,
            "previous": link(max(offset - limit, 0)) if offset > 0 else None,
            **beside,
            "items": found.items,
        }


# --- The HTML pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class PageCount:
    """How many items there are and how many a page shows: the part of Django's
    ``Paginator`` that templates read (``page.paginator.count``, ``.num_pages``)."""

    count: int
    per_page: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.per_page))


@dataclass(frozen=True)
class NumberedPage(Generic[T]):
    """Page ``number`` (from 1) of a list, with the names of Django's ``Page``, so a
    template reads either."""

    object_list: list[T]
    number: int
    paginator: PageCount

    def has_next(self) -> bool:
        return self.number < self.paginator.num_pages

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.paginator.num_pages > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def page_number(value: str | None) -> int:
    """The page a ``?page=`` asks for, 1 when it is absent or empty.

    ``ValueError`` with a message for the reader when it is not a whole number from 1.
    """
    if value is None or value == "":
        return 1
    if not (value.isascii() and value.isdigit()) or len(value) > 9 or int(value) < 1:
        raise ValueError(f"Page must be a whole number from 1, not {value!r}.")
    return int(value)


def page_offset(number: int, per_page: int = PAGE_SIZE) -> int:
    """How many items come before page ``number`` (``ValueError`` below page 1)."""
    if number < 1:
        raise ValueError(f"Page must be a whole number from 1, not {number!r}.")
    return (number - 1) * per_page


def numbered_page(items: Pageable, *, number: int, per_page: int = PAGE_SIZE) -> NumberedPage[Any]:
    """Page ``number`` of ``items`` (see :func:`window` for its queries).

    ``ValueError`` with a message for the reader when it is past the last page.
    """
    found = window(items, offset=page_offset(number, per_page), limit=per_page)
    return checked_page(found, number=number, per_page=per_page)


def checked_page(found: Window[T], *, number: int, per_page: int = PAGE_SIZE) -> NumberedPage[T]:
    """``found`` as page ``number``, for a selector that pages by itself (the leaderboards).

    ``ValueError`` with a message for the reader when it is past the last page.
    """
    counted = PageCount(count=found.count, per_page=per_page)
    if number > counted.num_pages:
        raise ValueError(f"Page {number} is past the last page ({counted.num_pages}).")
    return NumberedPage(object_list=found.items, number=number, paginator=counted)
