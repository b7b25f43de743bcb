"""The Source changelist's "Add source from URL": fetch the page, store it as a source
through ``source_store``, queue the extraction of its forecasts.

The page is fetched inside the request, not by a worker: what can go wrong with an
address (a private address, a page too large, too slow, a PDF, no article text, no
date) is the editor's to correct, so it comes back as an error on the form they are
looking at. The wait is bounded by the fetch's own limits (``SOURCE_FETCH_TIMEOUT``,
``SOURCE_FETCH_MAX_BYTES``). Reading the text for forecasts takes longer and cannot be
corrected on the form, so it is queued (the task "Extract forecasts" queues, under its
time limit), as that action does.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers, widgets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from forecasts.core.forms import add_service_errors
from forecasts.extraction import fetch, ingest
from forecasts.extraction import tasks as extraction_tasks

if TYPE_CHECKING:
    from forecasts.admin.site import ModelAdmin
    from forecasts.core.models import Source


class SourceFromUrlForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=ingest.URL_MAX_LENGTH,
        assume_scheme="https",
        help_text="The article's address (http or https). The page is fetched now; "
        "its title, author and publication date are read from it.",
    )
    title = forms.CharField(
        max_length=ingest.TITLE_MAX_LENGTH,
        required=False,
        help_text="Leave empty for the page's title.",
    )
    author = forms.CharField(
        max_length=ingest.NAME_MAX_LENGTH,
        required=False,
        help_text="Leave empty for the page's author; extracted forecasts are held to it.",
    )
    published_on = forms.DateField(
        label="Published on",
        required=False,
        widget=widgets.AdminDateWidget,
        help_text="Leave empty for the page's date; needed when the page gives none.",
    )


def source_from_url_view(model_admin: ModelAdmin[Source], request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: fetch, store, queue the extraction, back to the source."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied("You may not add sources.")
    form = SourceFromUrlForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            stored = ingest.source_from_page(
                url=data["url"],
                title=data["title"],
                published_on=data["published_on"],
                author=data["author"],
            )
            # Committed: the worker reads the source (the "Extract forecasts" action's task).
            transaction.on_commit(partial(extraction_tasks.source_extract.delay, stored.source.pk))
        except fetch.FetchRefused as exc:
            form.add_error("url", str(exc))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _stored(model_admin, request, stored)
    return TemplateResponse(
        request,
        "admin/forecasts/source/from_url.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": "Add source from URL",
            "adminform": helpers.AdminForm(
                form,  # type: ignore[arg-type]  # any form will do; the stubs ask for a model form
                [(None, {"fields": list(form.fields)})],
                {},
                model_admin=model_admin,
            ),
            "errors": helpers.AdminErrorList(form, []),  # type: ignore[arg-type]
            "media": model_admin.media + form.media,
        },
    )


def _stored(
    model_admin: ModelAdmin[Source], request: HttpRequest, stored: ingest.Stored
) -> HttpResponseRedirect:
    source = stored.source
    drafts = (
        reverse("admin:forecasts_forecast_changelist")
        + f"?status=draft&source__id__exact={source.pk}"
    )
    if stored.created:
        model_admin.log_addition(request, source, [{"added": {}}])
        said = "Added “{}” from {}. Extracting its forecasts has started"
    else:
        said = "“{}” ({}) was already stored. Extracting its forecasts again has started"
    model_admin.message_user(
        request,
        format_html(
            said + ': the drafts it proposes appear among the <a href="{}">draft forecasts</a> '
            "within a minute.",
            source,
            source.url,
            drafts,
        ),
        messages.SUCCESS,
    )
    return HttpResponseRedirect(reverse("admin:forecasts_source_change", args=[source.pk]))
