"""CSV export of published forecasts: the API list's filters, streamed in chunks.

Two ways to the same rows. On PostgreSQL the rows come out of one ``COPY (SELECT …)
TO STDOUT`` (:func:`copy_csv_chunks`): the database writes the CSV, formula guard and
rounding included, and the response passes its bytes on in chunks. Elsewhere (SQLite)
Python reads the rows a chunk of ids at a time and writes them (:func:`csv_chunks`).
Both read the same queryset (:func:`export_values`), and the guard and the rounding are
written once each (:data:`FORMULA_STARTS`, :data:`DECIMALS`) for both.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from typing import Any

import pydantic
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from forecasts.core.models import Forecast, Outcome
from forecasts.core.paths import slug_path_around
from forecasts.core.selectors import forecast_public_list, with_row_details
from forecasts.scores.forecast import brier
from forecasts.web.api.errors import parameter_error_message
from forecasts.web.caching import cached_public_page
from forecasts.web.filters import ForecastFilters

COLUMNS = [
    "slug",
    "statement",
    "forecaster",
    "source",
    "made_on",
    "resolve_by",
    "status",
    "published_probability",
    "probability",
    "phrase",
    "outcome",
    "known_on",
    "brier",
    "evidence_url",
    "url",
]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection),
# also after leading spaces (" =1+1"), and their fullwidth forms (U+FF1D for "="), which some
# spreadsheets read as the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# What a spreadsheet may skip before the formula character: spaces and line breaks of
# any width, the no-break and zero-width spaces and a byte-order mark.
LEADING_SPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# Numbers are written rounded to this many decimal places.
DECIMALS = 6
# Rows written per chunk of the response: large enough to keep the overhead per
# chunk small, small enough to keep memory flat.
ROWS_PER_CHUNK = 500
# Forecasts read per query, so a large export never sits in memory at once.
EXPORT_CHUNK_ROWS = 1_000
# Bytes of COPY output gathered into one chunk of the response (PostgreSQL).
COPY_CHUNK_BYTES = 64 * 1024


# An export row's values in CSV column order; ``brier`` is computed, the rest read.
EXPORT_ROW = (
    "slug",
    "statement",
    "forecaster__name",
    "source__title",
    "made_on",
    "resolve_by",
    "status",
    "published_probability",
    "probability",
    "published_phrase",
    "outcome",
    "known_on",
    "brier",
    "evidence_url",
)
EXPORT_FIELDS = tuple(field for field in EXPORT_ROW if field != "brier")
# The columns COPY writes as numbers and as dates; every other column is text.
NUMBER_FIELDS = frozenset({"published_probability", "probability", "brier"})
DATE_FIELDS = frozenset({"made_on", "resolve_by", "known_on"})


def export_values(
    *, at: dt.datetime, filters: ForecastFilters
) -> QuerySet[Forecast, dict[str, Any]]:
    """The matching forecasts' :data:`EXPORT_FIELDS`, in the filters' order.

    The one definition of what the export reads; the Python path reads it a chunk of ids
    at a time, the COPY path as one statement.
    """
    rows = with_row_details(filters.search(at=at), first_estimate=("phrase",))
    values: QuerySet[Forecast, dict[str, Any]] = rows.prefetch_related(None).values(*EXPORT_FIELDS)
    return values


def forecast_public_export(
    *, at: dt.datetime, filters: ForecastFilters
) -> Iterator[dict[str, Any]]:
    """Every matching forecast as a dict of :data:`EXPORT_FIELDS` plus ``brier``.

    The matching ids are read first (one query), then the rows a chunk of ids at a
    time: the first rows go out at once, a large export never sits in memory, and
    no query holds a cursor open for the whole download. Plain values, not model
    instances: building 100,000 models would cost more than the queries.
    """
    matching = filters.search(at=at)
    rows = with_row_details(forecast_public_list(at=at), first_estimate=("phrase",))
    return _export_rows(matching, rows.prefetch_related(None))


def _export_rows(
    matching: QuerySet[Forecast], rows: QuerySet[Forecast]
) -> Iterator[dict[str, Any]]:
    ids = list(matching.values_list("pk", flat=True))
    for start in range(0, len(ids), EXPORT_CHUNK_ROWS):
        chunk = ids[start : start + EXPORT_CHUNK_ROWS]
        # Read in any order, written in the matching ids' (the filters' sort).
        chunk_rows = rows.filter(pk__in=chunk).values("pk", *EXPORT_FIELDS)
        read = {row.pop("pk"): row for row in chunk_rows}
        for pk in chunk:
            row = read[pk]
            row["brier"] = brier(row["published_probability"], row["outcome"])
            yield row


@require_safe
@cached_public_page(params=ForecastFilters.model_fields)  # streamed: headers only
def forecasts_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every published forecast matching the filters of ``/api/forecasts``, one per row."""
    try:
        filters = ForecastFilters.model_validate(request.GET.dict())
    except pydantic.ValidationError as exc:
        return _bad_request(parameter_error_message(exc.errors()))
    at = timezone.now()
    chunks: Iterator[str | bytes]
    if copy_available():
        chunks = copy_csv_chunks(at=at, filters=filters)
    else:
        chunks = csv_chunks(forecast_public_export(at=at, filters=filters))
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="forecasts.csv"'
    return response


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=400, content_type="text/plain; charset=utf-8")


def cell(value: Any) -> Any:
    """One CSV cell: text a spreadsheet would run as a formula starts with ``'``.

    Only text can: the numbers here are never negative, and dates start with a digit.
    :func:`text_cell_sql` is the same rule for the COPY path.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.lstrip(LEADING_SPACE).startswith(FORMULA_STARTS) else value
    if isinstance(value, float):
        return round(value, DECIMALS)
    return value


def _page_url() -> tuple[str, str]:
    """The page URL of a forecast as the text before and after its slug."""
    before, after = slug_path_around("forecasts:detail")  # reversed once, not per row
    return settings.SITE_URL + before, after


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then the rows, a few hundred to a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    before, after = _page_url()
    for count, row in enumerate(rows, start=1):
        values = [row[field] for field in EXPORT_ROW]  # all but the page URL
        values.append(before + row["slug"] + after)
        writer.writerow([cell(value) for value in values])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- PostgreSQL: COPY ----------------------------------------------------------------


def copy_available() -> bool:
    """Whether the export streams from COPY: on PostgreSQL (psycopg 3)."""
    return connection.vendor == "postgresql"


def text_cell_sql(column: str) -> tuple[str, list[Any]]:
    """:func:`cell` for a text column, in SQL (with its parameters): the formula guard,
    and an empty text written unquoted, as Python's ``csv`` writes it (COPY quotes an
    empty text, to tell it from NULL)."""
    guarded = (
        f"CASE WHEN left(ltrim({column}, %s), 1) = ANY(%s) THEN '''' || {column} ELSE {column} END"
    )
    return f"NULLIF({guarded}, '')", [LEADING_SPACE, list(FORMULA_STARTS)]


def rounded_sql(number: str) -> str:
    """:func:`cell`'s rounding of a number, in SQL: ``round()`` on the decimal value, read
    back as a double, so that COPY writes it the way Python writes ``round(x, 6)`` (the
    shortest text that reads back as the same double; ``1`` where Python writes ``1.0``).

    PostgreSQL rounds the double's 15 significant digits half away from zero, Python the
    exact double: the two differ by 10⁻⁶ only when the value, written with those digits,
    ends in a 5 exactly one place past the sixth decimal.
    """
    return f"round(({number})::numeric, {DECIMALS})::double precision"


def brier_sql(probability: str, outcome: str) -> tuple[str, list[Any]]:
    """:func:`forecasts.scores.forecast.brier` in SQL, (p − o)² in doubles like Python's
    ``(p - o) ** 2``; NULL when unresolved, annulled or without an estimate."""
    return (
        f"CASE {outcome} WHEN %s THEN power({probability} - 1.0::double precision, 2) "
        f"WHEN %s THEN power({probability} - 0.0::double precision, 2) END",
        [Outcome.YES.value, Outcome.NO.value],
    )


def export_copy_sql(
    *, at: dt.datetime, filters: ForecastFilters, bare: bool = False
) -> tuple[str, list[Any]]:
    """The ``COPY … TO STDOUT (FORMAT csv)`` statement writing the export's rows (no
    header), and its parameters (merged client-side by psycopg: COPY takes none).

    It selects from :func:`export_values`, so it has the Python path's filters, rows and
    order, and adds what :func:`csv_chunks` adds: the Brier score, the page URL, the
    formula guard and the rounding. ``bare=True`` is the benchmark's floor: the same
    query's columns copied as they are, nothing added.
    """
    values = export_values(at=at, filters=filters)
    if bare:
        inner, inner_params = values.query.sql_with_params()
        return f"COPY ({inner}) TO STDOUT (FORMAT csv)", list(inner_params)
    # Each row's place in the filters' order, numbered by the database: the order may
    # read what the export does not select (a live score, a search rank).
    numbered = values.annotate(position=Window(RowNumber(), order_by=filters.ordering()))
    inner, inner_params = numbered.values("pk", *EXPORT_FIELDS, "position").query.sql_with_params()
    quote = connection.ops.quote_name
    read = {field: f"matching.{quote(field)}" for field in EXPORT_FIELDS}
    before, after = _page_url()
    selected: list[str] = []
    params: list[Any] = []
    for field in EXPORT_ROW:
        expression, expression_params = read.get(field, ""), list[Any]()
        if field == "brier":
            expression, expression_params = brier_sql(
                read["published_probability"], read["outcome"]
            )
        if field in NUMBER_FIELDS:
            expression = rounded_sql(expression)
        elif field not in DATE_FIELDS:
            expression, expression_params = text_cell_sql(expression)
        selected.append(expression)
        params += expression_params
    # The page URL starts with the site's address, never empty: guarding that guards
    # the URL (and the slug needs no guard of its own after it).
    selected.append(f"(%s || {read['slug']} || %s)")
    params += [cell(before), after]
    # The inner query's ORDER BY keeps PostgreSQL from merging it into this one, which
    # would evaluate each of its per-row subqueries once per use here. Only names and
    # Django's compiled SQL are written into the text; every value is a parameter.
    order = f"matching.{quote('position')}"
    columns = ", ".join(selected)
    query = f"SELECT {columns} FROM ({inner}) AS matching ORDER BY {order}"  # noqa: S608
    return f"COPY ({query}) TO STDOUT (FORMAT csv)", [*params, *inner_params]


def copy_csv_chunks(*, at: dt.datetime, filters: ForecastFilters) -> Iterator[bytes]:
    """The header, then the COPY's output in chunks of about :data:`COPY_CHUNK_BYTES`.

    One statement, so one snapshot of the data; psycopg hands over a row at a time, and
    only a chunk's worth is held. A download stopped early cancels the COPY (psycopg).
    The statement is in ``connection.queries`` like any other (with DEBUG, and for
    ``CaptureQueriesContext``).
    """
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(COLUMNS)
    sql, params = export_copy_sql(at=at, filters=filters)
    with connection.cursor() as cursor:
        logged = cursor.debug_sql(sql, params) if connection.queries_logged else nullcontext()
        with logged, connection.wrap_database_errors, cursor.cursor.copy(sql, params) as copy:
            buffer = bytearray(header.getvalue().encode())
            for data in copy:
                buffer += data
                if len(buffer) >= COPY_CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
            yield bytes(buffer)
