"""The pages in a real browser: Debian's Chromium driven by Playwright against a live server."""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.conftest import REPO, skip_outside_ci

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Without these, Chromium keeps trying to reach Google's services from a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        skip_outside_ci(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium; "
            "make test installs it when run as root)."
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls
    # made by the test itself (fixtures) are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def test_reader_filters_the_list_and_opens_a_forecast(page, live_server, seeded):
    page.goto(f"{live_server.url}/forecasts/")
    assert page.locator("h1").inner_text() == "Forecasts"
    assert page.locator("table.forecasts tbody tr").count() == 13

    page.get_by_label("Status").select_option("due")
    page.get_by_role("button", name="Show").click()
    # The form's empty fields are left out of the URL (a redirect to the one without them).
    page.wait_for_url("**/forecasts/?status=due")
    rows = page.locator("table.forecasts tbody tr")
    assert rows.count() == 3
    assert all("Due" in text for text in rows.all_inner_texts())

    link = rows.first.get_by_role("link").first  # the forecast; then its forecaster, source
    statement = link.inner_text()
    link.click()
    expect(page.locator("h1")).to_have_text(statement)
    assert "awaits a reviewer's verdict" in page.content()


def test_reader_searches_and_sorts_the_list(page, live_server, seeded):
    page.goto(f"{live_server.url}/forecasts/")
    page.get_by_label("Search").fill("Trump")
    page.get_by_label("Sort by").select_option(label="Brier score, worst first")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/forecasts/?q=Trump&sort=-brier")
    shown = page.locator("p.count").inner_text()
    rows = page.locator("table.forecasts tbody tr")
    assert shown.startswith(f"{rows.count()} forecasts matching “Trump”")
    assert all("Trump" in text for text in rows.all_inner_texts())
    page.get_by_role("link", name="Clear filters").first.click()
    page.wait_for_url("**/forecasts/")
    assert page.locator("table.forecasts tbody tr").count() == 13


def test_pages_fit_a_phone_screen(browser, live_server, seeded, tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    for path in ("/forecasts/", "/forecasts/no-deal-before-end-of-first-term/"):
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    page.screenshot(path=str(tmp_path / "detail-phone.png"), full_page=True)
    context.close()


def test_reader_filters_the_leaderboards_without_javascript(browser, live_server, seeded):
    import datetime as dt

    from forecasts.scores import services as score_services

    score_services.scores_snapshot(as_of=dt.date(2026, 11, 28))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    page.get_by_label("Resolved in").select_option("2020")
    page.get_by_label("Sort by").select_option("brier")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/?tag=&period=2020&sort=brier#filtered")
    # Ranked, or listed as too few to rank in 2020: either way on the forecasters' board.
    boards = " ".join(page.locator("table.scores").all_inner_texts())
    assert "Unnamed analyst (seed article)" in boards
    # The reader lands at what the page is filtered by, with the way back (issue 17, 6).
    summary = page.locator("#filtered")
    assert "Filtered by outcome known in 2020." in summary.inner_text()
    assert summary.get_by_role("link", name="Clear filter").get_attribute("href") == "/?sort=brier"
    assert abs(summary.bounding_box()["y"]) < 5  # scrolled to the top of the viewport
    context.close()


def test_editor_logs_in_to_the_admin_and_filters_due_forecasts(page, live_server, seeded):
    get_user_model().objects.create_superuser(
        "editor", "editor@example.org", "a long test password"
    )
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a long test password")
    page.get_by_role("button", name="Log in").click()
    page.locator("#content-main a[href$='/admin/forecasts/forecast/']").first.click()
    page.get_by_role("link", name="Due", exact=True).click()
    page.wait_for_url("**/admin/forecasts/forecast/?status=due")
    assert "3 forecasts" in page.locator("#changelist-form").inner_text()


def test_reviewer_follows_an_emailed_link_and_resolves(page, live_server, seeded, settings):
    from forecasts.models import Forecast, Resolution
    from forecasts.reviews import links

    settings.SITE_URL = live_server.url
    reviewer = get_user_model().objects.create_user(
        "rita", "rita@example.org", "a long test password"
    )
    from forecasts.models import ReviewerAssignment

    forecast = Forecast.objects.get(slug="dprk-concessions-during-campaign")
    ReviewerAssignment.objects.create(forecast=forecast, reviewer=reviewer)
    url = links.review_url(reviewer=reviewer, forecast=forecast, action="no")

    page.goto(url)
    assert page.locator("h1").inner_text() == "Resolve NO?"
    assert not Resolution.objects.filter(forecast=forecast).exists()  # a GET changes nothing
    page.get_by_label("Evidence URL").fill("https://example.org/no-concessions")
    page.get_by_label("Note").fill("No concession was offered before the election.")
    page.get_by_role("button", name="Resolve NO").click()
    expect(page.locator("h1")).to_have_text("Thank you")
    resolution = Resolution.objects.get(forecast=forecast, is_current=True)
    assert (resolution.outcome, resolution.resolved_by) == ("NO", reviewer)

    page.goto(url)  # the same link again
    assert "already been used" in page.locator("[role=alert]").inner_text()


SCREENSHOTS = REPO / "var" / "screenshots"


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1200, "height": 900}), ("phone", {"width": 375, "height": 740})],
)
def test_scorecard_shows_charts_and_leads_to_a_forecast_and_its_source(
    browser, live_server, seeded, name, viewport
):

    from django.utils import timezone

    from forecasts.scores import services as score_services

    # The seed's outcomes were recorded today: the history starts today.
    score_services.scores_backfill(until=timezone.localdate())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport, is_mobile=name == "phone")
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/")
    charts = page.locator("figure.chart svg[role=img]")
    assert charts.count() >= 2
    assert charts.first.is_visible()
    assert charts.first.bounding_box()["height"] > 50
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the scorecard scrolls sideways by {overflow}px ({name})"
    page.screenshot(path=str(SCREENSHOTS / f"scorecard-{name}.png"), full_page=True)

    page.get_by_role("link", name="U.S. and North Korea: Restart of talks").first.click()
    page.wait_for_url("**/sources/**")
    assert page.locator("h1").inner_text().startswith("U.S. and North Korea")
    expect(page.locator(".source-text mark")).to_have_count(13)
    page.screenshot(path=str(SCREENSHOTS / f"source-{name}.png"), full_page=True)

    page.locator(".source-text mark a").first.click()
    page.wait_for_url("**/forecasts/**")
    expect(page.locator("figure.chart svg[role=img]")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / f"forecast-{name}.png"), full_page=True)
    assert errors == []
    context.close()


def test_admin_and_api_docs_work_under_the_content_security_policy(page, live_server, seeded):
    """No CSP violation (Chromium reports each as a console error) on the admin or API docs."""
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and problems.append(f"{response.status} {response.url}")
        ),
    )
    get_user_model().objects.create_superuser(
        "editor", "editor@example.org", "a long test password"
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a long test password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    for path in (
        "/admin/forecasts/forecast/",
        "/admin/forecasts/forecast/?status=due",
        "/admin/forecasts/forecast/add/",
        "/admin/forecasts/source/",
    ):
        page.goto(live_server.url + path)
        assert page.locator("#content").count() == 1, path
    # The admin's own scripts ran: the action menu's "select all" checkbox ticks every row.
    page.goto(f"{live_server.url}/admin/forecasts/forecast/")
    page.locator("#action-toggle").check()
    assert page.locator("input.action-select:checked").count() == 13
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # drawn by its script
    assert problems == []
