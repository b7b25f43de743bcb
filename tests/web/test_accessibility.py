"""Every public page passes axe-core (issue 17): no serious or critical violation at a
desktop width or a phone's, in Debian's Chromium driven by Playwright against a live server.

axe-core checks what a screen reader, a keyboard or a low-vision reader runs into: text
contrast, form fields without a label, links and buttons without a name, landmarks,
headings. Moderate and minor findings (best practices) are left to review; serious and
critical ones fail here, each printed with its rule, the elements it found and axe's help.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.utils import timezone

from forecasts.digests import links as digest_links
from forecasts.digests.models import Subscriber, SubscriberStatus
from forecasts.models import Forecast, ReviewerAssignment
from forecasts.reviews import links as review_links
from forecasts.scores import services as score_services
from tests.web.test_browser import browser  # noqa: F401 (the module-scoped Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAILING_IMPACTS = ("serious", "critical")
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

# The public pages that need no token or form: (label, path, status). A forecast that is due and
# one that is resolved (their pages differ: one asks for a verdict, one shows the outcome).
PUBLIC_PATHS = [
    ("scorecard", "/", 200),
    ("scorecard, filtered", "/?tag=north-korea&period=2020&sort=brier", 200),
    ("forecast list", "/forecasts/", 200),
    ("forecast list, due", "/forecasts/?status=due", 200),
    ("forecast, due", "/forecasts/dprk-concessions-during-campaign/", 200),
    ("forecast, resolved", "/forecasts/no-deal-before-end-of-first-term/", 200),
    ("forecaster index", "/forecasters/", 200),
    ("forecaster", "/forecasters/seed-article-analyst/", 200),
    ("source index", "/sources/", 200),
    ("source", "/sources/seed-000-67102e3550562e4c/", 200),
    ("topic index", "/tags/", 200),
    ("topic", "/tags/north-korea/", 200),
    ("leaderboard", "/leaderboards/forecasters/", 200),
    ("scores", "/scores/", 200),
    ("method", "/method/", 200),
    ("about", "/about/", 200),
    ("subscribe", "/digests/subscribe/", 200),
    ("bad request", "/?sort=nonsense", 400),
    ("not found", "/forecasts/no-such-forecast/", 404),
]


def serious_violations(page: Any, label: str) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands, one line each."""
    page.wait_for_load_state("load")
    results = Axe().run(page).response
    lines = []
    for violation in results["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        lines.append(
            f"{label} ({page.url}): {violation['id']} [{violation['impact']}] "
            f"{violation['help']} <{violation['helpUrl']}>"
        )
        for node in violation["nodes"][:5]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary}")
    return lines


def submit(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


@pytest.mark.parametrize("name", list(VIEWPORTS))
def test_public_pages_have_no_serious_accessibility_violation(
    browser,  # noqa: F811
    live_server,
    seeded,
    settings,
    name,
):
    settings.SITE_URL = live_server.url  # the e-mailed links point at the live server
    score_services.scores_backfill(until=timezone.localdate())
    context = browser.new_context(viewport=VIEWPORTS[name], reduced_motion="reduce")
    page = context.new_page()
    found: list[str] = []
    visited = 0

    def check(label: str, path: str | None = None, status: int = 200) -> None:
        nonlocal visited
        if path is not None:
            response = page.goto(live_server.url + path)
            assert response.status == status, (label, response.status)
        found.extend(serious_violations(page, label))
        visited += 1

    for label, path, status in PUBLIC_PATHS:
        check(label, path, status)
    # The last of them, the 404 page, still has the site's header to find the way on.
    assert page.get_by_role("navigation", name="Main").get_by_role("link").count() >= 6

    # The subscribe form's answers: a mistake shown beside its field, then the thanks.
    page.goto(live_server.url + "/digests/subscribe/")
    page.get_by_label("E-mail").fill("not an address")
    submit(page, "Subscribe")
    assert page.locator("#email-errors").count() == 1
    check("subscribe, with an error")
    page.get_by_label("E-mail").fill("reader@example.org")
    submit(page, "Subscribe")
    check("subscribed")

    # The e-mailed links: confirm, preferences, unsubscribe, and one that is refused.
    subscriber = Subscriber.objects.create(
        email="pending@example.org", status=SubscriberStatus.PENDING
    )
    page.goto(digest_links.confirm_url(subscriber))
    check("confirm subscription")
    submit(page, "Confirm my subscription")
    check("subscription confirmed")
    page.goto(digest_links.preferences_url(subscriber))
    check("digest preferences")
    submit(page, "Save preferences")
    check("digest preferences, saved")
    page.goto(digest_links.unsubscribe_url(subscriber))
    check("unsubscribe")
    submit(page, "Unsubscribe")
    check("unsubscribed")
    check("digest link refused", "/digests/confirm/not-a-token/", 400)
    settings.DIGEST_SUBSCRIBE_RATE_PER_HOUR = 0
    page.goto(live_server.url + "/digests/subscribe/")
    page.get_by_label("E-mail").fill("another@example.org")
    submit(page, "Subscribe")
    check("subscribe, rate limited")

    # A reviewer's e-mailed link: the confirmation page, the thanks, the used link.
    reviewer = get_user_model().objects.create_user("rita", "rita@example.org", "a long password")
    forecast = Forecast.objects.get(slug="dprk-concessions-during-campaign")
    ReviewerAssignment.objects.create(forecast=forecast, reviewer=reviewer)
    url = review_links.review_url(reviewer=reviewer, forecast=forecast, action="no")
    page.goto(url)
    check("review link")
    page.get_by_label("Evidence URL").fill("https://example.org/no-concessions")
    submit(page, "Resolve NO")
    check("review link, done")
    page.goto(url)
    check("review link, refused")

    context.close()
    assert visited == len(PUBLIC_PATHS) + 13
    assert not found, "axe-core found serious or critical violations:\n" + "\n".join(found)


def test_controls_are_big_enough_to_tap_and_show_where_the_keyboard_is(
    browser,  # noqa: F811
    live_server,
    seeded,
):
    """On a phone every button and field is at least 44 px tall (a fingertip), and the
    control the keyboard reached wears a ring that is not the browser's faint default."""
    context = browser.new_context(viewport=VIEWPORTS["phone"], is_mobile=True)
    page = context.new_page()
    heights = {}
    for path in ("/forecasts/", "/", "/digests/subscribe/"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        controls = page.locator(
            "main button, main select, main input:not([type=hidden],[type=checkbox],[type=radio])"
        )
        assert controls.count() > 0, path
        for index in range(controls.count()):
            control = controls.nth(index)
            name = control.evaluate("e => e.outerHTML.slice(0, 60)")
            heights[f"{path} {name}"] = control.bounding_box()["height"]
    assert min(heights.values()) >= 44, {name: h for name, h in heights.items() if h < 44}

    page.goto(live_server.url + "/forecasts/")
    page.get_by_label("Sort by").focus()
    page.keyboard.press("Tab")  # a keyboard move, to the Show button: :focus-visible applies
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth),"
        " s.outlineColor]; }"
    )
    assert ring[:3] == ["BUTTON", "solid", 3.0], ring
    assert ring[3] == "rgb(194, 65, 12)", ring  # --focus, 5.2:1 against the white page
    context.close()
