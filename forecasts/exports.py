"""CSV export of published forecasts: the API list's filters, streamed in chunks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

import pydantic
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from forecasts.api import ForecastFilterQuery, parameter_error_message
from forecasts.caching import cached_public_page
from forecasts.selectors import public

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


@require_safe
@cached_public_page  # streamed: only the headers are set, nothing is stored
def forecasts_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every published forecast matching the filters of ``/api/forecasts``, one per row."""
    try:
        query = ForecastFilterQuery.model_validate(request.GET.dict())
    except pydantic.ValidationError as exc:
        return _bad_request(parameter_error_message(exc.errors()))
    try:
        forecasts = public.forecast_public_export(at=timezone.now(), filters=query.filters())
    except ValueError as exc:
        return _bad_request(str(exc))
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
        values = [row[field] for field in public.EXPORT_ROW]  # all but the page URL
        values.append(page_url.replace("__slug__", row["slug"]))
        writer.writerow([cell(value) for value in values])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
