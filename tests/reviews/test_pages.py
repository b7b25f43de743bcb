"""One-click review links and the reviewer's own pages."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from forecasts.core import services as core_services
from forecasts.models import DeadlineExtension, Resolution, ReviewerAssignment, ReviewLinkUse
from forecasts.reviews import links
from tests.factories import ForecastFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def forecast():
    return ForecastFactory(made_on=dt.date(2024, 1, 10), resolve_by=dt.date(2025, 1, 31))


@pytest.fixture
def reviewer(forecast):
    user = UserFactory(username="rita", email="rita@example.org")
    ReviewerAssignment.objects.create(forecast=forecast, reviewer=user)
    return user


def link_path(reviewer, forecast, action):
    return links.review_url(reviewer=reviewer, forecast=forecast, action=action).removeprefix(
        "http://127.0.0.1:8000"
    )


EVIDENCE = {"known_on": "2025-02-01", "evidence_url": "https://example.org/report", "note": "Seen."}


class TestOneClickLinks:
    def test_get_only_shows_a_confirmation_page(self, client, forecast, reviewer):
        response = client.get(link_path(reviewer, forecast, "yes"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "Resolve YES?" in html
        assert forecast.statement in html
        assert "Nothing has changed yet" in html
        assert not Resolution.objects.exists()
        assert not ReviewLinkUse.objects.exists()

    def test_the_page_names_the_reviewer_to_the_reviewer_alone_and_is_never_cached(
        self, client, forecast, reviewer
    ):
        """Issue 16 (7): anyone holding the link (a forwarded e-mail) learned who reviews
        the forecast, and the page could be kept by a shared cache."""
        reviewer.first_name, reviewer.last_name = "Rita", "Reviewer"
        reviewer.save()
        path = link_path(reviewer, forecast, "yes")
        response = client.get(path)
        html = response.content.decode()
        assert "Rita Reviewer" not in html
        assert re.search(r"\brita\b", html, re.IGNORECASE) is None  # nor the username
        assert "the reviewer this link was sent to" in html
        cache_control = response.headers["Cache-Control"]
        assert "no-store" in cache_control
        assert "private" in cache_control
        client.force_login(reviewer)
        assert "Rita Reviewer" in client.get(path).content.decode()
        client.force_login(UserFactory(username="other"))
        assert "Rita Reviewer" not in client.get(path).content.decode()

    def test_post_with_evidence_resolves_as_the_reviewer(self, client, forecast, reviewer):
        response = client.post(link_path(reviewer, forecast, "no"), {"outcome": "NO", **EVIDENCE})
        assert response.status_code == 200, response.content.decode()
        resolution = Resolution.objects.get()
        assert (resolution.outcome, resolution.resolved_by) == ("NO", reviewer)
        assert resolution.evidence_url == "https://example.org/report"
        assert str(resolution.known_on) == "2025-02-01"
        assert ReviewLinkUse.objects.get().action == "no"
        # Issue 17 (13): it said "The forecast is resolved: resolve no."
        assert "Resolved NO (known on 1 February 2025)." in response.content.decode()

    def test_the_outcome_comes_from_the_link_not_the_form(self, client, forecast, reviewer):
        response = client.post(
            link_path(reviewer, forecast, "annul"), {"outcome": "YES", **EVIDENCE}
        )
        assert Resolution.objects.get().outcome == "ANNULLED"
        assert "Annulled (known on 1 February 2025)" in response.content.decode()

    def test_evidence_is_required_and_the_link_stays_usable(self, client, forecast, reviewer):
        path = link_path(reviewer, forecast, "yes")
        response = client.post(path, {"outcome": "YES", "known_on": "2025-02-01"})
        assert "Give the evidence" in response.content.decode()
        assert not Resolution.objects.exists()
        assert not ReviewLinkUse.objects.exists()
        assert client.post(path, {"outcome": "YES", **EVIDENCE}).status_code == 200
        assert Resolution.objects.count() == 1

    def test_outcome_known_on_starts_at_the_passed_deadline(self, client, forecast, reviewer):
        """Issue 17 (9): it started at today, inviting a wrong date for an old deadline."""
        html = client.get(link_path(reviewer, forecast, "yes")).content.decode()
        known_on = re.search(r'<input[^>]*name="known_on"[^>]*>', html).group(0)
        assert 'value="2025-01-31"' in known_on  # the deadline, not today (1 March)
        assert 'max="2025-03-01"' in known_on  # no future day on offer

    def test_outcome_known_on_starts_today_before_the_deadline(self, client, reviewer, forecast):
        early = ForecastFactory(made_on=dt.date(2024, 1, 10), resolve_by=dt.date(2025, 6, 30))
        ReviewerAssignment.objects.create(forecast=early, reviewer=reviewer)
        html = client.get(link_path(reviewer, early, "no")).content.decode()
        known_on = re.search(r'<input[^>]*name="known_on"[^>]*>', html).group(0)
        assert 'value="2025-03-01"' in known_on

    def test_extend_link(self, client, forecast, reviewer):
        response = client.post(
            link_path(reviewer, forecast, "extend"),
            {"new_resolve_by": "2025-06-30", "reason": "The vote was postponed to June."},
        )
        assert response.status_code == 200
        extension = DeadlineExtension.objects.get()
        assert (extension.new_resolve_by, extension.extended_by) == (dt.date(2025, 6, 30), reviewer)

    def test_a_used_link_is_refused(self, client, forecast, reviewer):
        path = link_path(reviewer, forecast, "yes")
        client.post(path, {"outcome": "YES", **EVIDENCE})
        for method in (client.get, client.post):
            response = (
                method(path)
                if method is client.get
                else method(path, {"outcome": "YES", **EVIDENCE})
            )
            assert response.status_code == 410
            assert "already been used" in response.content.decode()
        assert Resolution.objects.count() == 1

    def test_a_link_to_a_forecast_that_changed_is_refused(self, client, forecast, reviewer):
        yes, extend = link_path(reviewer, forecast, "yes"), link_path(reviewer, forecast, "extend")
        client.post(extend, {"new_resolve_by": "2025-06-30", "reason": "Later."})
        response = client.get(yes)
        assert response.status_code == 409
        assert "has changed since the link was sent" in response.content.decode()

    def test_an_expired_link_is_refused(self, client, forecast, reviewer, time_machine):
        path = link_path(reviewer, forecast, "yes")
        time_machine.move_to(NOW + dt.timedelta(days=15), tick=False)
        response = client.post(path, {"outcome": "YES", **EVIDENCE})
        assert response.status_code == 410
        assert "expired" in response.content.decode()
        assert not Resolution.objects.exists()

    def test_a_tampered_link_is_refused(self, client, forecast, reviewer):
        path = link_path(reviewer, forecast, "yes")
        token = path.rstrip("/").rsplit("/", 1)[1]
        flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
        response = client.get(path.replace(token, flipped))
        assert response.status_code == 400
        assert "not valid" in response.content.decode()

    def test_a_link_used_for_another_forecast_is_refused(self, client, forecast, reviewer):
        other = ForecastFactory()
        path = link_path(reviewer, forecast, "yes").replace(forecast.slug, other.slug)
        response = client.post(path, {"outcome": "YES", **EVIDENCE})
        assert response.status_code == 400
        assert "another forecast" in response.content.decode()
        assert not Resolution.objects.exists()

    def test_a_link_used_by_another_logged_in_reviewer_is_refused(self, client, forecast, reviewer):
        colleague = UserFactory(username="colin")
        ReviewerAssignment.objects.create(forecast=forecast, reviewer=colleague)
        client.force_login(colleague)
        response = client.post(link_path(reviewer, forecast, "yes"), {"outcome": "YES", **EVIDENCE})
        assert response.status_code == 403
        assert "sent to another reviewer" in response.content.decode()
        assert not Resolution.objects.exists()

    def test_a_reviewer_who_lost_the_role_cannot_use_the_link(self, client, forecast, reviewer):
        path = link_path(reviewer, forecast, "yes")
        ReviewerAssignment.objects.all().delete()
        assert client.post(path, {"outcome": "YES", **EVIDENCE}).status_code == 403
        assert not Resolution.objects.exists()

    def test_csrf_applies(self, forecast, reviewer):
        strict = Client(enforce_csrf_checks=True)
        response = strict.post(link_path(reviewer, forecast, "yes"), {"outcome": "YES", **EVIDENCE})
        assert response.status_code == 403
        assert not Resolution.objects.exists()
        page = strict.get(link_path(reviewer, forecast, "yes"))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
        response = strict.post(
            link_path(reviewer, forecast, "yes"),
            {"outcome": "YES", "csrfmiddlewaretoken": token, **EVIDENCE},
        )
        assert response.status_code == 200
        assert Resolution.objects.count() == 1

    def test_unknown_action_cannot_be_signed(self, forecast, reviewer):
        with pytest.raises(ValueError, match="Unknown review action"):
            links.review_token(reviewer=reviewer, forecast=forecast, action="delete")


class TestQueueAndReviewPage:
    def test_queue_requires_login(self, client):
        response = client.get(reverse("forecasts:review-queue"))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]

    def test_queue_lists_my_due_forecasts_only(self, client, forecast, reviewer):
        others = ForecastFactory(resolve_by=dt.date(2025, 1, 1))
        ReviewerAssignment.objects.create(forecast=others, reviewer=UserFactory())
        not_due = ForecastFactory(resolve_by=dt.date(2025, 12, 31))
        ReviewerAssignment.objects.create(forecast=not_due, reviewer=reviewer)
        client.force_login(reviewer)
        html = client.get(reverse("forecasts:review-queue")).content.decode()
        assert forecast.statement in html
        assert "29 days" in html
        assert others.statement not in html
        assert not_due.statement not in html

    def test_group_reviewers_see_unassigned_due_forecasts(self, client):
        unassigned = ForecastFactory(resolve_by=dt.date(2025, 1, 1))
        member = UserFactory(username="gina")
        member.groups.add(Group.objects.get(name="Reviewers"))
        client.force_login(member)
        assert (
            unassigned.statement in client.get(reverse("forecasts:review-queue")).content.decode()
        )

    def test_reviewer_resolves_from_the_review_page(self, client, forecast, reviewer):
        client.force_login(reviewer)
        url = reverse("forecasts:review-forecast", args=[forecast.slug])
        assert client.get(url).status_code == 200
        response = client.post(
            url,
            {
                "resolve-outcome": "YES",
                "resolve-known_on": "2025-02-01",
                "resolve-note": "Announced.",
                "resolve": "",
            },
        )
        assert response.status_code == 302
        assert Resolution.objects.get().resolved_by == reviewer

    def test_correction_from_the_review_page_needs_a_reason(self, client, forecast, reviewer):
        core_services.forecast_resolve(
            forecast=forecast,
            outcome="YES",
            known_on=dt.date(2025, 2, 1),
            note="x",
            resolved_by=reviewer,
        )
        client.force_login(reviewer)
        url = reverse("forecasts:review-forecast", args=[forecast.slug])
        data = {
            "resolve-outcome": "NO",
            "resolve-known_on": "2025-02-01",
            "resolve-note": "y",
            "resolve": "",
        }
        html = client.post(url, data).content.decode()
        assert "Reason for the correction" in html
        assert "This field is required." in html
        assert forecast.resolutions.count() == 1
        data["resolve-correction_reason"] = "Misread the source."
        assert client.post(url, data).status_code == 302
        assert forecast.current_resolution().outcome == "NO"

    def test_the_correction_form_starts_from_the_current_resolution(
        self, client, forecast, reviewer
    ):
        """Issue 17 (9): it started empty, so a correction retyped all the evidence."""
        core_services.forecast_resolve(
            forecast=forecast,
            outcome="YES",
            known_on=dt.date(2025, 1, 20),
            evidence_url="https://example.org/first",
            note="First reading.",
            resolved_by=reviewer,
        )
        client.force_login(reviewer)
        url = reverse("forecasts:review-forecast", args=[forecast.slug])
        html = client.get(url).content.decode()
        assert re.search(r'name="resolve-outcome" value="YES"[^>]*checked', html)
        assert re.search(r'name="resolve-known_on" value="2025-01-20"', html)
        assert 'value="https://example.org/first"' in html
        assert re.search(r">\s*First reading\.</textarea>", html)
        reason = re.search(r"<textarea[^>]*resolve-correction_reason[^>]*>([^<]*)<", html)
        assert reason.group(1).strip() == ""
        assert "required" in reason.group(0)

    def test_resolving_on_the_review_page_starts_at_the_deadline(self, client, forecast, reviewer):
        client.force_login(reviewer)
        html = client.get(reverse("forecasts:review-forecast", args=[forecast.slug])).content
        assert re.search(r'name="resolve-known_on" value="2025-01-31"', html.decode())

    def test_staff_who_are_not_reviewers_get_403(self, client, forecast):
        client.force_login(UserFactory(username="sam", is_staff=True))
        url = reverse("forecasts:review-forecast", args=[forecast.slug])
        assert client.get(url).status_code == 403
        data = {
            "resolve-outcome": "YES",
            "resolve-known_on": "2025-02-01",
            "resolve-note": "x",
            "resolve": "",
        }
        assert client.post(url, data).status_code == 403
        assert not Resolution.objects.exists()

    def test_review_page_requires_csrf(self, forecast, reviewer):
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(reviewer)
        data = {
            "resolve-outcome": "YES",
            "resolve-known_on": "2025-02-01",
            "resolve-note": "x",
            "resolve": "",
        }
        response = strict.post(reverse("forecasts:review-forecast", args=[forecast.slug]), data)
        assert response.status_code == 403
        assert not Resolution.objects.exists()

    def test_extend_from_the_review_page(self, client, forecast, reviewer):
        client.force_login(reviewer)
        url = reverse("forecasts:review-forecast", args=[forecast.slug])
        response = client.post(
            url,
            {
                "extend-new_resolve_by": "2025-09-30",
                "extend-reason": "Court date moved.",
                "extend": "",
            },
        )
        assert response.status_code == 302
        forecast.refresh_from_db()
        assert forecast.resolve_by == dt.date(2025, 9, 30)


def test_forecast_page_shows_corrections_and_extensions(client, forecast, reviewer):
    core_services.forecast_extend(
        forecast=forecast,
        new_resolve_by=dt.date(2025, 2, 15),
        reason="Result delayed.",
        extended_by=reviewer,
    )
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="YES",
        known_on=dt.date(2025, 2, 10),
        note="First report.",
        resolved_by=reviewer,
    )
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="NO",
        known_on=dt.date(2025, 2, 12),
        note="Official result.",
        correction_reason="The first report was wrong.",
        resolved_by=reviewer,
    )
    html = client.get(forecast.get_absolute_url()).content.decode()
    assert "Extended on 1 Mar 2025 from 31 Jan 2025: Result delayed." in html
    assert "Corrected: The first report was wrong." in html
    assert "Earlier resolutions (corrected)" in html
    assert "First report." in html
