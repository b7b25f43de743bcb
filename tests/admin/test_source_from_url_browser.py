""" "Add source from URL" in a real browser (Debian's Chromium through Playwright): the
button, the form, the page fetched from a local server, the drafts the queued extraction
proposed, and no Content-Security-Policy violation on the way."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from forecasts.models import Source
from tests.page_server import ARTICLE_TITLE
from tests.web.test_browser import browser, page  # noqa: F401  (the fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_adds_a_source_from_its_url(page, live_server, page_server):  # noqa: F811
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    get_user_model().objects.create_superuser(
        "editor", "editor@example.org", "a long test password"
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/forecasts/source/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a long test password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Add source from URL").click()
    page.get_by_label("URL").fill(page_server.url("/redirect"))
    page.get_by_role("button", name="Fetch and add").click()
    message = page.locator("ul.messagelist li.success")
    expect(message).to_contain_text(
        f"Added “{ARTICLE_TITLE}” from {page_server.url('/article.html')}"
    )
    source = Source.objects.get()
    assert page.url.endswith(f"/admin/forecasts/source/{source.pk}/change/")
    # The extraction was queued on commit (and ran at once: tasks are eager in the tests).
    message.get_by_role("link", name="draft forecasts").click()
    rows = page.locator("#result_list tbody tr")
    drafts = source.forecasts.count()
    assert drafts >= 2
    # Wait for the drafts' page (the click only starts the navigation).
    expect(rows).to_have_count(drafts)
    listed = "\n".join(rows.all_inner_texts())
    assert "The bank will cut rates by the end of June 2025" in listed
    assert "Jane Roe" in listed
    assert problems == []
