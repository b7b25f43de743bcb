"""The admin's "Add source from URL" (issue 18): the page fetched from a local server,
stored as a source through the service, its forecasts extracted by the queued task;
refusals shown on the form with nothing stored; the add permission and CSRF required."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from forecasts.models import Forecast, Source
from tests.factories import UserFactory
from tests.page_server import ARTICLE_AUTHOR, ARTICLE_SITE, ARTICLE_TITLE

pytestmark = pytest.mark.django_db

FROM_URL = "admin:forecasts_source_from_url"


@pytest.fixture
def editor(client):
    user = UserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def add(client, url, **fields):
    return client.post(reverse(FROM_URL), {"url": url, **fields})


def errors(response) -> str:
    assert response.status_code == 200
    return html.unescape(str(response.context["adminform"].form.errors))


def test_the_sources_list_links_to_the_form(client, editor):
    page = client.get(reverse("admin:forecasts_source_changelist")).content.decode()
    assert f'href="{reverse(FROM_URL)}"' in page
    assert "Add source from URL" in page
    form = client.get(reverse(FROM_URL))
    assert form.status_code == 200
    body = form.content.decode()
    assert 'name="url"' in body
    assert 'name="published_on"' in body
    assert "csrfmiddlewaretoken" in body


def test_a_page_is_stored_and_its_forecasts_extracted_by_the_task(
    client, editor, page_server, task_errors_raise, django_capture_on_commit_callbacks
):
    url = page_server.url("/redirect")
    with django_capture_on_commit_callbacks() as queued:
        response = add(client, url)
    source = Source.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:forecasts_source_change", args=[source.pk])
    assert (source.url, source.title, source.author, source.publisher) == (
        page_server.url("/article.html"),
        ARTICLE_TITLE,
        ARTICLE_AUTHOR,
        ARTICLE_SITE,
    )
    assert source.published_on == dt.date(2025, 3, 4)
    assert "The bank is likely to cut rates by the end of June 2025" in source.text
    assert not Forecast.objects.exists()  # the page did not wait for the extraction
    (extraction,) = [callback for callback in queued if getattr(callback, "func", None)]
    assert extraction.args == (source.pk,)
    extraction()  # the worker
    drafts = Forecast.objects.filter(source=source, published_at=None)
    assert drafts.get(quote__startswith="The bank is likely to cut").resolve_by == dt.date(
        2025, 6, 30
    )
    assert {draft.forecaster.name for draft in drafts} == {ARTICLE_AUTHOR}
    page = client.get(response["Location"]).content.decode()
    link = reverse("admin:forecasts_forecast_changelist") + (
        f"?status=draft&amp;source__id__exact={source.pk}"
    )
    assert f"Added “{ARTICLE_TITLE}” from {source.url}" in page
    assert f'href="{link}"' in page


def test_the_form_overrides_the_page(client, editor, page_server):
    add(
        client,
        page_server.url("/article.html"),
        title="Spring outlook",
        author="Economics desk",
        published_on="2025-03-06",
    )
    source = Source.objects.get()
    assert (source.title, source.author, source.published_on) == (
        "Spring outlook",
        "Economics desk",
        dt.date(2025, 3, 6),
    )


def test_adding_the_same_page_again_stores_nothing_new(client, editor, page_server):
    add(client, page_server.url("/article.html"))
    response = add(client, page_server.url("/redirect"))
    assert Source.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "was already stored" in html.unescape(page)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/big.html", "The page is larger than 0.2 MB"),
        ("/paper.pdf", "Not an HTML or text page (application/pdf)"),
        ("/slow.html", "Timed out after 0.5 s"),
        ("/links.html", "No article text was found"),
        ("/plain.txt", "The page does not say when it was published"),
    ],
)
def test_refusals_are_form_errors_and_nothing_is_stored(
    client, editor, page_server, path, message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = add(client, page_server.url(path))
    assert message in errors(response)
    assert not Source.objects.exists()
    assert queued == []  # no extraction queued, nor anything else


def test_a_missing_date_is_asked_for_on_its_field(client, editor, page_server):
    response = add(client, page_server.url("/plain.txt"))
    assert "does not say when it was published" in str(
        response.context["adminform"].form.errors["published_on"]
    )
    add(client, page_server.url("/plain.txt"), published_on="2025-02-01")
    assert Source.objects.get().published_on == dt.date(2025, 2, 1)


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("127.0.0.1", "Refused: 127.0.0.1 is a loopback address"),
        ("localhost", "Refused: localhost resolves to 127.0.0.1, a loopback address"),
    ],
)
def test_private_addresses_are_refused_on_the_form(
    client, editor, page_server, settings, host, message
):
    settings.SOURCE_FETCH_ALLOW_PRIVATE = False
    response = add(client, page_server.url("/article.html", host=host))
    assert message in errors(response)
    assert page_server.requests == []
    assert not Source.objects.exists()


def test_other_schemes_are_not_fetched(client, editor):
    response = add(client, "ftp://files.example.org/article.html")
    assert "Refused: only http and https addresses are fetched" in errors(response)
    assert not Source.objects.exists()


def test_only_those_who_may_add_sources_may_use_it(client, page_server):
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_source"))
    client.force_login(user)
    page = client.get(reverse("admin:forecasts_source_changelist")).content.decode()
    assert reverse(FROM_URL) not in page
    assert client.get(reverse(FROM_URL)).status_code == 403
    assert add(client, page_server.url("/article.html")).status_code == 403
    assert not Source.objects.exists()
    assert page_server.requests == []


def test_the_form_needs_its_csrf_token(page_server):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(UserFactory(username="editor", is_staff=True, is_superuser=True))
    assert add(strict, page_server.url("/article.html")).status_code == 403
    assert not Source.objects.exists()
    assert page_server.requests == []


def test_anonymous_visitors_are_sent_to_the_login(client, page_server):
    response = add(client, page_server.url("/article.html"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not Source.objects.exists()


def test_a_copy_under_another_address_is_refused_on_the_form(client, editor, page_server):
    add(client, page_server.url("/article.html"))
    response = add(client, page_server.url("/gzipped.html"))  # the same text
    assert f"This text was already ingested from {page_server.url('/article.html')}" in errors(
        response
    )
    assert Source.objects.count() == 1
