"""The public forecast list: searched, filtered and sorted by the parameters
``/api/forecasts`` and the CSV export take (:class:`~forecasts.web.filters.ForecastFilters`),
all of them in the URL, so that a view of the list can be shared, paged and downloaded.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe
from pydantic import ValidationError

from forecasts.core import selectors as core_selectors
from forecasts.core.models import Status
from forecasts.core.search import full_text_available
from forecasts.scores.forecast import published_brier
from forecasts.scores.models import ScopeKind
from forecasts.web.api.errors import parameter_error_message
from forecasts.web.caching import cached_public_page
from forecasts.web.filters import (
    DEFAULT_SORT,
    SORT_LABELS,
    ForecastFilters,
    forecast_public_results,
)
from forecasts.web.pagination import numbered_page, page_number
from forecasts.web.selectors import FilterChoices, filter_choices

TEMPLATE = "forecasts/forecast_list.html"
# The filters and the sort, then the page: everything the page reads, and keys its cache by.
FILTER_PARAMS = tuple(ForecastFilters.model_fields)
LIST_PARAMS = (*FILTER_PARAMS, "page")
# The filters naming a forecaster, source or tag, and the kind each names.
SCOPE_FILTERS = {
    "forecaster": ScopeKind.FORECASTER,
    "source": ScopeKind.SOURCE,
    "tag": ScopeKind.TAG,
}


@require_safe
@cached_public_page(params=LIST_PARAMS)
def forecast_list(request: HttpRequest) -> HttpResponse:
    # The form sends every field, the empty ones too: the list they ask for is at the
    # URL without them, the one to share and cache.
    last = {name: request.GET.getlist(name)[-1] for name in request.GET}
    given = {name: value for name, value in last.items() if value.strip()}
    if len(given) < len(request.GET):
        return HttpResponseRedirect(_url(request.path, given))
    filters_given = {name: value for name, value in given.items() if name in FILTER_PARAMS}
    try:
        filters = ForecastFilters.model_validate(filters_given)
    except ValidationError as exc:
        return _bad_request(request, filters_given, parameter_error_message(exc.errors()))
    try:
        number = page_number(given.get("page"))
        page = numbered_page(
            forecast_public_results(at=timezone.now(), filters=filters), number=number
        )
    except ValueError as exc:
        return _bad_request(request, filters_given, str(exc))
    for forecast in page.object_list:
        forecast.brier = published_brier(forecast)
    choices = {
        name: filter_choices(kind, chosen=filters_given.get(name))
        for name, kind in SCOPE_FILTERS.items()
    }
    context = _form_context(filters_given, choices)
    return render(
        request,
        TEMPLATE,
        {
            **context,
            "page": page,
            "shows": _description(page.paginator.count, filters_given, choices),
            "csv_url": _url(reverse("export-forecasts-csv"), filters_given),
            "api_url": _url(reverse("api:forecast_list"), filters_given),
        },
    )


def _bad_request(request: HttpRequest, given: dict[str, str], message: str) -> HttpResponse:
    # No choices read: a bad URL costs no query.
    empty = {name: FilterChoices(options=[], chosen=None) for name in SCOPE_FILTERS}
    return render(request, TEMPLATE, {**_form_context(given, empty), "error": message}, status=400)


def _url(path: str, params: dict[str, str]) -> str:
    query = QueryDict(mutable=True)
    query.update(params)
    return f"{path}?{query.urlencode()}" if params else path


def _form_context(given: dict[str, str], choices: dict[str, FilterChoices]) -> dict[str, object]:
    return {
        "given": given,
        # The pager's links: the same filters, another page.
        "filter_query": _url("", given).removeprefix("?") if given else "",
        "filtered": bool(given),
        "status_choices": [
            (value, Status(value).label) for value in core_selectors.PUBLIC_STATUSES
        ],
        "sort_choices": list(SORT_LABELS.items()),
        "default_sort": DEFAULT_SORT,
        "choices": choices,
        "full_text": full_text_available(),
    }


def _description(count: int, given: dict[str, str], choices: dict[str, FilterChoices]) -> str:
    """What the list shows, in words: "12 forecasts matching “recession”, tagged Economy,
    sorted by deadline, soonest first"."""
    parts = []
    if "status" in given:
        parts.append(f"with status “{given['status']}”")
    if "q" in given:
        parts.append(f"matching “{given['q']}”")
    for name, words in (("tag", "tagged"), ("forecaster", "by"), ("source", "from")):
        if name in given:
            parts.append(f"{words} {choices[name].chosen or '“' + given[name] + '”'}")
    if "resolve_by_after" in given:
        parts.append(f"due on or after {given['resolve_by_after']}")
    if "resolve_by_before" in given:
        parts.append(f"due on or before {given['resolve_by_before']}")
    sort = given.get("sort", DEFAULT_SORT)
    parts.append(f"sorted by {SORT_LABELS[sort]}")
    return f"{count} forecast{'' if count == 1 else 's'} " + ", ".join(parts) + "."
