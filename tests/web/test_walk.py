"""Issue 17's walks, in Chromium at a desktop's and a phone's width, with screenshots.

A reader: scorecard → filter → forecaster → forecast → source → tag → method → search.
An editor: extract → edit → publish (refused twice, then published) → resolve → correct.

Each step asserts the link it follows, the filter it sets or the refusal it meets, and
saves a screenshot to ``var/screenshots/walk/`` (look at them: the test cannot judge
how a page looks).
"""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.web.test_browser import SCREENSHOTS, browser  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [
    pytest.param("desktop", {"width": 1280, "height": 900}, id="1280"),
    pytest.param("phone", {"width": 390, "height": 844}, id="390"),
]
SHOTS = SCREENSHOTS / "walk"

# An article written for this test: one hedged forecast with a deadline that has passed.
ARTICLE = (
    "The city's tram line has been delayed again.\n\n"
    "I think it is unlikely that the tram line will open to passengers before the end of "
    "2025, whatever the mayor says.\n\n"
    "The works began in 2021."
)


class Walk:
    """A page at one width that saves a numbered screenshot at each step and fails on
    any console error, uncaught script error or server error met on the way."""

    def __init__(self, browser, base_url, name, viewport, walk):  # noqa: F811
        self.context = browser.new_context(viewport=viewport, is_mobile=name == "phone")
        self.page = self.context.new_page()
        self.base_url = base_url
        self.prefix = f"{walk}-{name}"
        self.step = 0
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda message: message.type == "error" and self.problems.append(message.text),
        )
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on(
            "response",
            lambda response: (
                response.status >= 500 and self.problems.append(f"{response.status} {response.url}")
            ),
        )
        SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(self, label: str) -> None:
        self.step += 1
        path = SHOTS / f"{self.prefix}-{self.step:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)

    def fits(self) -> None:
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{self.page.url} scrolls sideways by {overflow}px"

    def close(self) -> None:
        self.context.close()
        assert self.problems == []


def _log_in(page, base_url):
    get_user_model().objects.create_superuser(
        "editor", "editor@example.org", "a long test password"
    )
    page.goto(f"{base_url}/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a long test password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/admin/")


@pytest.mark.parametrize(("name", "viewport"), WIDTHS)
def test_an_editor_extracts_edits_publishes_resolves_and_corrects(
    browser,  # noqa: F811
    live_server,
    db,
    name,
    viewport,
):
    from forecasts.models import Forecast, Resolution

    walk = Walk(browser, live_server.url, name, viewport, "editor")
    page = walk.page
    _log_in(page, live_server.url)

    # A source, pasted in.
    page.goto(f"{live_server.url}/admin/forecasts/source/add/")
    page.get_by_label("Title").fill("The tram line, again")
    page.get_by_label("Publisher").fill("City Column")
    page.get_by_label("Author").fill("Jo Columnist")
    page.get_by_label("Published on").fill("2025-01-10")
    page.get_by_label("Text").fill(ARTICLE)
    walk.shot("source-add")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    # Extract: the message links to the drafts it proposed.
    page.locator("tr", has_text="The tram line, again").locator("input.action-select").check()
    page.locator("select[name=action]").select_option("extract_forecasts")
    page.get_by_role("button", name="Go").click()
    message = page.locator(".messagelist")
    expect(message).to_contain_text("Extracting forecasts from 1 source(s) has started")
    walk.shot("extract-started")
    message.get_by_role("link", name="draft forecasts").click()
    drafts = page.locator("#result_list tbody tr")
    expect(drafts).to_have_count(1)
    draft = Forecast.objects.get(source__title="The tram line, again")
    assert "tram line will open to passengers" in draft.statement.lower()
    assert draft.resolve_by == dt.date(2025, 12, 31)
    walk.shot("drafts")
    drafts.first.locator("th a").click()

    # A draft's page offers Publish, not Resolve or Extend.
    tools = page.locator(".object-tools")
    expect(tools.get_by_role("button", name="Publish")).to_have_count(1)
    expect(tools.get_by_role("link", name=re.compile("Resolve|Extend"))).to_have_count(0)
    walk.shot("draft")

    # Refused: the criteria are still extraction's placeholder.
    tools.get_by_role("button", name="Publish").click()
    error = page.locator(".messagelist .error")
    expect(error).to_contain_text("Not published.")
    expect(error).to_contain_text("criteria")
    walk.shot("publish-refused-criteria")

    # Edited: precise criteria, but a hedge put back into the statement.
    page.get_by_label("Resolution criteria").fill(
        "YES if the tram line carried its first fare-paying passengers on or before "
        "31 December 2025, as reported by the city's transport authority."
    )
    page.get_by_label("Statement").fill(
        "The tram line will probably open to passengers before the end of 2025."
    )
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.locator(".object-tools").get_by_role("button", name="Publish").click()
    error = page.locator(".messagelist .error")
    expect(error).to_contain_text("probably")
    walk.shot("publish-refused-hedge")

    page.get_by_label("Statement").fill(
        "The tram line will open to passengers before the end of 2025."
    )
    page.get_by_role("button", name="Save and continue editing").click()
    page.locator(".object-tools").get_by_role("button", name="Publish").click()
    slug = "the-tram-line-will-open-to-passengers-before-the-end-of-2025"
    expect(page.locator(".messagelist .success")).to_contain_text(f"/forecasts/{slug}/")
    walk.shot("published")

    # Resolve: the day the outcome was known starts at the deadline, not today.
    page.locator(".object-tools").get_by_role("link", name="Resolve…").click()
    known_on = page.get_by_label("Outcome known on")
    expect(known_on).to_have_value("2025-12-31")
    page.get_by_label("No", exact=True).check()
    page.get_by_label("Evidence URL").fill("https://example.org/tram-delayed")
    walk.shot("resolve")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("Resolved")

    # Correct: the form starts from the current resolution.
    page.locator(".object-tools").get_by_role("link", name="Correct the resolution…").click()
    expect(page.get_by_label("No", exact=True)).to_be_checked()
    expect(page.get_by_label("Outcome known on")).to_have_value("2025-12-31")
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("Outcome known on").fill("2025-12-20")
    page.get_by_label("Reason for the correction").fill(
        "The first fare-paying trip ran on 20 December; the report we cited was wrong."
    )
    walk.shot("correct")
    page.get_by_role("button", name="Correct", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("Corrected the resolution")
    current = Resolution.objects.get(forecast__slug=slug, is_current=True)
    assert (current.outcome, current.known_on) == ("YES", dt.date(2025, 12, 20))
    assert Resolution.objects.filter(forecast__slug=slug).count() == 2  # appended, not edited

    # The public page says so.
    page.goto(f"{live_server.url}/forecasts/{slug}/")
    expect(page.locator("main")).to_contain_text(re.compile("corrected", re.IGNORECASE))
    walk.fits()
    walk.shot("public-page")
    walk.close()


def _brier_at_publication(forecast) -> float:
    """Worked out here from the rows, not by the scores package: the square of the gap
    between the first estimate and the outcome."""
    first = forecast.estimates.order_by("made_on", "pk").first()
    outcome = 1.0 if forecast.current_outcome == "YES" else 0.0
    return (float(first.probability) - outcome) ** 2


@pytest.mark.parametrize(("name", "viewport"), WIDTHS)
def test_a_reader_walks_from_the_scorecard_to_a_search(
    browser,  # noqa: F811
    live_server,
    seeded,
    name,
    viewport,
):
    from forecasts.models import Forecast, Tag

    walk = Walk(browser, live_server.url, name, viewport, "reader")
    page = walk.page

    # The scorecard: every public page's header leads back to it and to the indexes.
    page.goto(f"{live_server.url}/")
    header = page.get_by_role("navigation", name="Main")
    for label in ("Forecasts", "Forecasters", "Sources", "Topics", "Method", "Subscribe"):
        expect(header.get_by_role("link", name=label, exact=True)).to_have_count(1)
    everything = page.locator("p.lede").inner_text()
    assert "forecasts tracked" in everything
    walk.fits()
    walk.shot("scorecard")

    # Filter by a topic: the headline changes, and says what it counts.
    tag = Tag.objects.get(slug="north-korea")
    page.get_by_label("Tag", exact=True).select_option("north-korea")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/?tag=north-korea*#filtered")
    summary = page.locator("#filtered")
    expect(summary).to_contain_text(f"tag “{tag.name}”")
    expect(summary.get_by_role("link", name="Clear filter")).to_have_count(1)
    resolved = [
        f
        for f in Forecast.objects.filter(tags=tag, current_outcome__in=("YES", "NO"))
        if f.published_at is not None
    ]
    brier = sum(_brier_at_publication(f) for f in resolved) / len(resolved)
    lede = page.locator("p.lede")
    expect(lede).to_contain_text(f"{len(resolved)} resolved forecast")
    expect(lede).to_contain_text(f"{brier:.3f}")
    assert lede.inner_text() != everything
    walk.fits()
    walk.shot("scorecard-filtered")

    # A forecaster on the leaderboard → their page.
    forecaster = resolved[0].forecaster
    page.locator("table.scores").first.get_by_role("link", name=forecaster.name).first.click()
    expect(page.locator("h1")).to_have_text(re.compile(re.escape(forecaster.name)))
    walk.fits()
    walk.shot("forecaster")

    # One of their forecasts → its page, which links back to who, where and what about.
    forecast = (
        Forecast.objects.filter(forecaster=forecaster, published_at__isnull=False)
        .order_by("resolve_by", "pk")
        .first()
    )
    page.get_by_role("link", name=forecast.statement).first.click()
    expect(page.locator("h1")).to_have_text(forecast.statement)
    main = page.locator("main")
    expect(main.get_by_role("link", name=forecaster.name).first).to_have_attribute(
        "href", f"/forecasters/{forecaster.slug}/"
    )
    walk.fits()
    walk.shot("forecast")

    # → its source.
    main.get_by_role("link", name=forecast.source.title).first.click()
    expect(page.locator("h1")).to_have_text(re.compile(re.escape(forecast.source.title)))
    walk.fits()
    walk.shot("source")

    # Back, and → one of its topics.
    page.go_back()
    topic = forecast.tags.order_by("slug").first()
    page.locator("main a.tag", has_text=topic.name).first.click()
    expect(page.locator("h1")).to_have_text(re.compile(re.escape(topic.name)))
    expect(page.locator("main")).to_contain_text(forecast.statement)
    walk.fits()
    walk.shot("tag")

    # → the method page, from the header.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Method").click()
    page.wait_for_url("**/method/")
    expect(page.locator("#lexicon")).to_have_count(1)
    walk.fits()
    walk.shot("method")

    # → the forecast list, searched and sorted; the filters stay in the address.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Forecasts").click()
    page.get_by_label("Search").fill("Biegun")
    page.get_by_label("Sort by").select_option("-deadline")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/forecasts/\?.*q=Biegun"))
    assert "sort=-deadline" in page.url
    deadlines = dict(
        Forecast.objects.filter(
            statement__icontains="Biegun", published_at__isnull=False
        ).values_list("statement", "resolve_by")
    )
    assert len(deadlines) == 3
    rows = page.locator("table.forecasts tbody tr")
    expect(rows).to_have_count(3)
    shown = [rows.nth(i).get_by_role("link").first.inner_text() for i in range(3)]
    assert sorted(shown) == sorted(deadlines)
    shown_deadlines = [deadlines[statement] for statement in shown]
    assert shown_deadlines == sorted(shown_deadlines, reverse=True)
    expect(page.locator("main")).to_contain_text("“Biegun”")
    # Every name in a row leads to its page.
    by = rows.first.locator(".by")
    expect(by.get_by_role("link", name=forecaster.name)).to_have_attribute(
        "href", f"/forecasters/{forecaster.slug}/"
    )
    walk.fits()
    walk.shot("search")
    walk.close()
