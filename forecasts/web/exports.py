"""CSV export of published forecasts: the API list's filters, streamed in chunks."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import Any

import pydantic
from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from forecasts.core.models import Forecast
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
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows written per chunk of the response: large enough to keep the overhead per
# chunk small, small enough to keep memory flat.
ROWS_PER_CHUNK = 500
# Forecasts read per query, so a large export never sits in memory at once.
EXPORT_CHUNK_ROWS = 1_000


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
        for row in rows.filter(pk__in=chunk).values(*EXPORT_FIELDS):
            row["brier"] = brier(row["published_probability"], row["outcome"])
            yield row


@require_safe
@cached_public_page  # streamed: only the headers are set, nothing is stored
def forecasts_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every published forecast matching the filters of ``/api/forecasts``, one per row."""
    try:
        filters = ForecastFilters.model_validate(request.GET.dict())
    except pydantic.ValidationError as exc:
        return _bad_request(parameter_error_message(exc.errors()))
    forecasts = forecast_public_export(at=timezone.now(), filters=filters)
    response = StreamingHttpResponse(csv_chunks(forecasts), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="forecasts.csv"'
    return response


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=400, content_type="text/plain; charset=utf-8")


def cell(value: Any) -> Any:
    """One CSV cell: text a spreadsheet would run as a formula starts with ``'``.

    Only text can: the numbers here are never negative, and dates start with a digit.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, float):
        return round(value, 6)
    return value


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then the rows, a few hundred to a chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    # One reverse() for the whole export, not one per row.
    page_url = settings.SITE_URL + reverse("forecasts:detail", kwargs={"slug": "__slug__"})
    for count, row in enumerate(rows, start=1):
        values = [row[field] for field in EXPORT_ROW]  # all but the page URL
        values.append(page_url.replace("__slug__", row["slug"]))
        writer.writerow([cell(value) for value in values])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
