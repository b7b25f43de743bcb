"""The admin: every model registered, useful lists and filters, resolutions via the service."""

import datetime as dt
import re
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from forecasts.core import services as core_services
from forecasts.models import (
    DeadlineExtension,
    Estimate,
    Forecast,
    Forecaster,
    ForecastScore,
    Resolution,
    ReviewerAssignment,
    ReviewPrompt,
    ReviewStep,
    ScoreSnapshot,
    Source,
    Tag,
)
from forecasts.scores import services as score_services
from tests.factories import (
    ForecastFactory,
    ResolutionFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def test_every_model_is_registered():
    for model in (
        Source,
        Forecaster,
        Forecast,
        Estimate,
        Resolution,
        Tag,
        ReviewerAssignment,
        ScoreSnapshot,
        ForecastScore,
        DeadlineExtension,
        ReviewPrompt,
    ):
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize(
    "query",
    ["", "?status=due", "?status=resolved", "?status=draft", "?q=Biegun", "?tags__id__exact=1"],
)
def test_forecast_changelist_with_filters(client, staff, seeded, query):
    response = client.get(reverse("admin:forecasts_forecast_changelist") + query)
    assert response.status_code == 200


def test_status_filter_lists_only_due_forecasts(client, staff, seeded):
    html = client.get(
        reverse("admin:forecasts_forecast_changelist") + "?status=due"
    ).content.decode()
    assert "3 forecasts" in html
    assert "Trump wins the 3 November 2020" not in html


@pytest.mark.parametrize(
    "name",
    ["forecast", "source", "forecaster", "estimate", "resolution", "tag", "reviewerassignment"],
)
def test_every_changelist_and_add_page_renders(client, staff, seeded, name):
    assert client.get(reverse(f"admin:forecasts_{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:forecasts_{name}_add")).status_code == 200


@pytest.mark.parametrize("name", ["scoresnapshot", "forecastscore"])
def test_computed_records_are_read_only(client, staff, seeded, name):

    score_services.scores_snapshot(as_of=dt.date(2026, 1, 1))
    assert client.get(reverse(f"admin:forecasts_{name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:forecasts_{name}_add")).status_code == 403


def test_forecast_change_page_renders(client, staff, seeded):
    forecast = Forecast.objects.get(slug="trump-wins-second-term")
    response = client.get(reverse("admin:forecasts_forecast_change", args=[forecast.pk]))
    assert response.status_code == 200
    assert "appears poised" in response.content.decode()


def test_resolving_in_the_admin_goes_through_the_service(client, staff):
    forecast = ForecastFactory()
    response = client.post(
        reverse("admin:forecasts_resolution_add"),
        {
            "forecast": forecast.pk,
            "outcome": "NO",
            "known_on": "2024-12-31",
            "evidence_url": "example.org/x",
        },
    )
    assert response.status_code == 302, response.content.decode()
    resolution = Resolution.objects.get()
    assert resolution.is_current
    assert resolution.resolved_by == staff
    assert resolution.evidence_url == "https://example.org/x"


def test_admin_shows_a_second_resolution_without_reason_as_a_form_error(client, staff, seeded):
    forecast = Forecast.objects.get(slug="trump-wins-second-term")
    response = client.post(
        reverse("admin:forecasts_resolution_add"),
        {
            "forecast": forecast.pk,
            "outcome": "YES",
            "known_on": "2020-11-07",
            "evidence_note": "Recount.",
        },
    )
    assert response.status_code == 200
    assert "already resolved; to correct it" in response.content.decode()
    assert forecast.resolutions.count() == 1


def test_admin_correction_with_a_reason_supersedes(client, staff, seeded):
    forecast = Forecast.objects.get(slug="trump-wins-second-term")
    response = client.post(
        reverse("admin:forecasts_resolution_add"),
        {
            "forecast": forecast.pk,
            "outcome": "ANNULLED",
            "known_on": "2020-11-07",
            "evidence_note": "Testing a correction.",
            "correction_reason": "Criteria were ambiguous.",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert forecast.resolutions.count() == 2
    assert forecast.current_resolution().outcome == "ANNULLED"


def test_publish_action(client, staff):
    draft = ForecastFactory(published_at=None)
    client.post(
        reverse("admin:forecasts_forecast_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.published_at is not None


def test_non_staff_cannot_reach_the_admin(client):
    client.force_login(UserFactory(username="reader"))
    response = client.get(reverse("admin:forecasts_forecast_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- The review workflow in the admin ------------------------------------------

TODAY = dt.date(2025, 3, 1)
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
CHANGELIST = "admin:forecasts_forecast_changelist"


@pytest.fixture
def frozen(time_machine, settings):
    time_machine.move_to(NOW, tick=False)
    settings.REVIEW_ESCALATION_DAYS = 14


def staff_user(username, *codenames):
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="forecasts", codename__in=codenames)
    )
    return user


@pytest.fixture
def due():
    return ForecastFactory(statement="The bridge opens.", resolve_by=dt.date(2025, 2, 20))


@pytest.fixture
def reviewer(due):
    """Assigned to ``due`` only; staff who may look at forecasts."""
    user = staff_user("rita", "view_forecast")
    ReviewerAssignment.objects.create(forecast=due, reviewer=user)
    return user


@pytest.fixture
def group_reviewer():
    user = UserFactory(username="gina", is_staff=True)
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


@pytest.fixture
def outsider():
    """Staff with every model permission a resolver would use, but reviewer of nothing."""
    return staff_user(
        "olaf", "view_forecast", "change_forecast", "add_resolution", "view_resolution"
    )


def resolve_url(forecast):
    return reverse("admin:forecasts_forecast_resolve", args=[forecast.pk])


def extend_url(forecast):
    return reverse("admin:forecasts_forecast_extend", args=[forecast.pk])


def change_url(forecast):
    return reverse("admin:forecasts_forecast_change", args=[forecast.pk])


def listed(response):
    return [forecast.statement for forecast in response.context["cl"].result_list]


def sent_prompt(forecast, recipient, sent_at, step=ReviewStep.PROMPT):
    return ReviewPrompt.objects.create(
        forecast=forecast,
        step=step,
        deadline=forecast.resolve_by,
        recipient=recipient,
        claim=uuid.uuid4(),
        claimed_at=sent_at,
        sent_at=sent_at,
    )


class TestListFilters:
    @pytest.fixture
    def lifecycle(self, frozen):
        ForecastFactory(statement="draft", published_at=None, resolve_by=dt.date(2025, 6, 30))
        ForecastFactory(statement="open", resolve_by=dt.date(2025, 6, 30))
        ForecastFactory(statement="due", resolve_by=dt.date(2025, 2, 15))  # 14 days
        ForecastFactory(statement="overdue", resolve_by=dt.date(2025, 2, 14))  # 15 days
        ResolutionFactory(forecast__statement="resolved", outcome="NO")
        ResolutionFactory(forecast__statement="annulled", outcome="ANNULLED")

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("draft", ["draft"]),
            ("open", ["open"]),
            ("due", ["overdue", "due"]),
            ("overdue", ["overdue"]),
            ("resolved", ["resolved"]),
            ("annulled", ["annulled"]),
        ],
    )
    def test_each_status(self, client, staff, lifecycle, status, expected):
        response = client.get(reverse(CHANGELIST) + f"?status={status}")
        assert listed(response) == expected

    def test_overdue_is_explained_as_escalated(self, client, staff, lifecycle):
        html = client.get(reverse(CHANGELIST)).content.decode()
        assert "Overdue: due over 14 days past the deadline (escalated)" in html

    def test_an_unknown_status_is_refused_not_a_crash(self, client, staff, lifecycle):
        response = client.get(reverse(CHANGELIST) + "?status=rotten")
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")

    def test_source_forecaster_and_tag_filters(self, client, staff, frozen):
        tag = TagFactory()
        tagged = ForecastFactory(statement="tagged")
        tagged.tags.add(tag)
        other = ForecastFactory(statement="other")
        for query, expected in [
            (f"?tags__id__exact={tag.pk}", ["tagged"]),
            (f"?source__id__exact={other.source_id}", ["other"]),
            (f"?forecaster__id__exact={tagged.forecaster_id}", ["tagged"]),
        ]:
            assert listed(client.get(reverse(CHANGELIST) + query)) == expected, query


class TestDueForReview:
    def test_days_overdue_and_last_prompted_columns(self, client, staff, frozen):
        escalated = ForecastFactory(statement="escalated", resolve_by=dt.date(2025, 2, 14))
        recent = ForecastFactory(statement="recent", resolve_by=dt.date(2025, 2, 26))
        sent_prompt(escalated, "rita@example.org", NOW - dt.timedelta(days=10))
        sent_prompt(
            escalated, "gina@example.org", NOW - dt.timedelta(days=2), step=ReviewStep.REMINDER
        )
        # A claim not (yet) sent is not a prompt anyone received.
        ReviewPrompt.objects.create(
            forecast=escalated,
            step=ReviewStep.ESCALATION,
            deadline=escalated.resolve_by,
            recipient="admin@example.org",
            claim=uuid.uuid4(),
            claimed_at=NOW,
        )
        response = client.get(reverse(CHANGELIST) + "?status=due")
        assert listed(response) == ["escalated", "recent"]  # most overdue first
        rows = response.context["cl"].result_list
        admin_ = response.context["cl"].model_admin
        assert admin_.days_overdue(rows[0]) == "15 (escalated)"
        assert admin_.days_overdue(rows[1]) == "3"
        assert admin_.last_prompted(rows[0]) == "2025-02-27 12:00<br>to gina@example.org"
        assert admin_.last_prompted(rows[1]) == "—"
        html = response.content.decode()
        assert "15 (escalated)" in html
        assert "2025-02-27 12:00<br>to gina@example.org" in html
        assert recent.statement in html

    def test_an_editor_who_may_not_see_users_sees_no_recipient(self, client, frozen):
        """Issue 16 (6): the last prompt's recipient is a reviewer's e-mail address."""
        escalated = ForecastFactory(statement="escalated", resolve_by=dt.date(2025, 2, 14))
        sent_prompt(escalated, "rita@example.org", NOW - dt.timedelta(days=10))
        client.force_login(staff_user("eddie", "view_forecast", "change_forecast"))
        response = client.get(reverse(CHANGELIST) + "?status=due")
        assert listed(response) == ["escalated"]
        html = response.content.decode()
        assert "2025-02-19 12:00" in html  # when, still
        assert "rita@example.org" not in html
        change = client.get(change_url(escalated)).content.decode()
        assert "escalated" in change
        assert "rita@example.org" not in change

    def test_columns_are_blank_for_forecasts_that_are_not_due(self, client, staff, frozen):
        ForecastFactory(statement="open", resolve_by=dt.date(2025, 6, 30))
        response = client.get(reverse(CHANGELIST))
        (row,) = response.context["cl"].result_list
        assert response.context["cl"].model_admin.days_overdue(row) == "—"

    def test_the_changelist_makes_a_bounded_number_of_queries(
        self, client, staff, frozen, django_assert_max_num_queries
    ):
        for n in range(30):
            forecast = ForecastFactory(resolve_by=dt.date(2025, 1, 1) + dt.timedelta(days=n))
            sent_prompt(forecast, f"r{n}@example.org", NOW - dt.timedelta(days=1))
            sent_prompt(forecast, "x@example.org", NOW, step=ReviewStep.REMINDER)
        with django_assert_max_num_queries(12):
            response = client.get(reverse(CHANGELIST) + "?status=due")
        assert response.content.decode().count("to x@example.org") == 30

    def test_reachable_from_the_index_and_the_changelist(self, client, staff):
        link = reverse(CHANGELIST) + "?status=due"
        assert f'href="{link}"' in client.get(reverse("admin:index")).content.decode()
        assert f'href="{link}"' in client.get(reverse(CHANGELIST)).content.decode()


class TestResolveView:
    def test_the_change_page_offers_resolve_and_extend_to_a_reviewer(
        self, client, reviewer, due, frozen
    ):
        client.force_login(reviewer)
        html = client.get(change_url(due)).content.decode()
        assert f'href="{resolve_url(due)}"' in html
        assert "Resolve…" in html
        assert f'href="{extend_url(due)}"' in html

    def test_the_change_page_offers_nothing_to_an_outsider(self, client, outsider, due):
        client.force_login(outsider)
        response = client.get(change_url(due))
        assert response.status_code == 200
        html = response.content.decode()
        assert resolve_url(due) not in html
        assert extend_url(due) not in html

    def test_get_shows_the_form_with_the_passed_deadline_as_default(
        self, client, reviewer, due, frozen
    ):
        """Issue 17 (9): "Outcome known on" started at today even for an old deadline."""
        client.force_login(reviewer)
        response = client.get(resolve_url(due))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'name="outcome"' in html
        known_on = re.search(r'<input[^>]*name="known_on"[^>]*>', html).group(0)
        assert 'value="2025-02-20"' in known_on  # the deadline; today is 1 March
        assert 'max="2025-03-01"' in known_on
        assert due.resolution_criteria in html
        assert "correction_reason" not in html

    def test_post_resolves_and_returns_to_the_change_page(self, client, reviewer, due, frozen):
        client.force_login(reviewer)
        response = client.post(
            resolve_url(due),
            {"outcome": "YES", "known_on": "2025-02-21", "evidence_url": "example.org/opened"},
        )
        assert response.status_code == 302
        assert response["Location"] == change_url(due)
        resolution = Resolution.objects.get()
        assert (resolution.outcome, resolution.known_on) == ("YES", dt.date(2025, 2, 21))
        assert resolution.resolved_by == reviewer
        assert resolution.evidence_url == "https://example.org/opened"
        page = client.get(response["Location"]).content.decode()
        assert "Resolved “The bridge opens.”: YES (known on 21 February 2025)." in page

    def test_a_group_reviewer_resolves_an_unassigned_forecast(self, client, group_reviewer):
        forecast = ForecastFactory()
        client.force_login(group_reviewer)
        response = client.post(
            resolve_url(forecast),
            {"outcome": "NO", "known_on": "2025-01-02", "note": "It did not happen."},
        )
        assert response.status_code == 302
        assert Resolution.objects.get().resolved_by == group_reviewer

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"outcome": "YES", "known_on": "2025-02-21"}, "Give the evidence"),
            (
                {"outcome": "YES", "known_on": "2025-03-02", "note": "Seen."},
                "cannot be known on a future date",
            ),
            (
                {"outcome": "YES", "known_on": "2023-01-01", "note": "Seen."},
                "cannot be known before the forecast was made",
            ),
            ({"outcome": "MAYBE", "known_on": "2025-02-21", "note": "Seen."}, "valid choice"),
        ],
    )
    def test_invalid_input_is_shown_and_nothing_written(
        self, client, reviewer, due, frozen, data, error
    ):
        client.force_login(reviewer)
        response = client.post(resolve_url(due), data)
        assert response.status_code == 200
        assert error in response.content.decode()
        assert not Resolution.objects.exists()

    def test_a_draft_cannot_be_resolved(self, client, group_reviewer, frozen):
        draft = ForecastFactory(published_at=None)
        client.force_login(group_reviewer)
        response = client.post(
            resolve_url(draft), {"outcome": "YES", "known_on": "2025-02-21", "note": "Seen."}
        )
        assert "A draft cannot be resolved" in response.content.decode()
        assert not Resolution.objects.exists()

    def test_a_correction_requires_a_reason(self, client, reviewer, due, frozen):
        first = ResolutionFactory(forecast=due, outcome="YES", known_on=dt.date(2025, 2, 21))
        client.force_login(reviewer)
        assert "Correct the resolution…" in client.get(change_url(due)).content.decode()
        assert extend_url(due) not in client.get(change_url(due)).content.decode()
        form = client.get(resolve_url(due)).content.decode()
        assert 'name="correction_reason"' in form
        assert "Current resolution" in form
        data = {"outcome": "NO", "known_on": "2025-02-22", "note": "Reopened."}
        response = client.post(resolve_url(due), data)
        assert response.status_code == 200
        assert "This field is required" in response.content.decode()
        assert Resolution.objects.count() == 1

        response = client.post(resolve_url(due), {**data, "correction_reason": "Misread it."})
        assert response.status_code == 302
        correction = due.current_resolution()
        assert correction.supersedes == first
        assert correction.correction_reason == "Misread it."
        first.refresh_from_db()
        assert not first.is_current

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_staff_user_who_is_not_a_reviewer_gets_403(self, client, outsider, due, method):
        client.force_login(outsider)
        data = {"outcome": "YES", "known_on": "2025-02-21", "note": "Seen."}
        response = getattr(client, method)(resolve_url(due), data)
        assert response.status_code == 403
        assert not Resolution.objects.exists()

    def test_a_reviewer_of_another_forecast_gets_403(self, client, reviewer):
        other = ForecastFactory()
        client.force_login(reviewer)
        assert client.get(resolve_url(other)).status_code == 403

    def test_csrf_is_enforced(self, reviewer, due, frozen):
        client = Client(enforce_csrf_checks=True)
        client.force_login(reviewer)
        response = client.post(
            resolve_url(due), {"outcome": "YES", "known_on": "2025-02-21", "note": "Seen."}
        )
        assert response.status_code == 403
        assert not Resolution.objects.exists()

    def test_an_unknown_forecast_is_404(self, client, staff):
        missing = reverse("admin:forecasts_forecast_resolve", args=[999])
        assert client.get(missing).status_code == 404


class TestExtendView:
    def test_get_shows_the_form(self, client, reviewer, due):
        client.force_login(reviewer)
        response = client.get(extend_url(due))
        assert response.status_code == 200
        assert 'name="new_resolve_by"' in response.content.decode()

    def test_post_extends_and_records_who_and_why(self, client, reviewer, due, frozen):
        client.force_login(reviewer)
        response = client.post(
            extend_url(due), {"new_resolve_by": "2025-06-30", "reason": "Opening postponed."}
        )
        assert response.status_code == 302
        assert response["Location"] == change_url(due)
        extension = DeadlineExtension.objects.get()
        assert (extension.previous_resolve_by, extension.new_resolve_by) == (
            dt.date(2025, 2, 20),
            dt.date(2025, 6, 30),
        )
        assert extension.extended_by == reviewer
        assert extension.reason == "Opening postponed."
        due.refresh_from_db()
        assert due.resolve_by == dt.date(2025, 6, 30)

    @pytest.mark.parametrize(
        ("data", "error"),
        [
            ({"new_resolve_by": "2025-01-01", "reason": "Why not."}, "move the deadline later"),
            ({"new_resolve_by": "2025-06-30", "reason": ""}, "This field is required"),
        ],
    )
    def test_invalid_input_is_shown(self, client, reviewer, due, frozen, data, error):
        client.force_login(reviewer)
        response = client.post(extend_url(due), data)
        assert response.status_code == 200
        assert error in response.content.decode()
        assert not DeadlineExtension.objects.exists()
        due.refresh_from_db()
        assert due.resolve_by == dt.date(2025, 2, 20)

    def test_a_resolved_forecast_cannot_be_extended(self, client, reviewer, due, frozen):
        ResolutionFactory(forecast=due, known_on=dt.date(2025, 2, 21))
        client.force_login(reviewer)
        response = client.post(extend_url(due), {"new_resolve_by": "2025-06-30", "reason": "x"})
        assert "cannot be extended" in response.content.decode()
        assert not DeadlineExtension.objects.exists()

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_staff_user_who_is_not_a_reviewer_gets_403(self, client, outsider, due, method):
        client.force_login(outsider)
        data = {"new_resolve_by": "2025-06-30", "reason": "Postponed."}
        assert getattr(client, method)(extend_url(due), data).status_code == 403
        assert not DeadlineExtension.objects.exists()


class TestBulkResolve:
    @pytest.fixture
    def pair(self, due):
        return [due, ForecastFactory(statement="The tunnel opens.")]

    def post(self, client, forecasts, **data):
        return client.post(
            reverse(CHANGELIST),
            {"action": "resolve_selected", "_selected_action": [f.pk for f in forecasts], **data},
        )

    def test_the_intermediate_page_asks_for_outcome_and_evidence(
        self, client, group_reviewer, pair, frozen
    ):
        client.force_login(group_reviewer)
        response = self.post(client, pair)
        assert response.status_code == 200
        assert "admin/forecasts/forecast/resolve_selected.html" in [
            t.name for t in response.templates
        ]
        html = response.content.decode()
        assert "The bridge opens." in html
        assert "The tunnel opens." in html
        for forecast in pair:
            assert f'name="_selected_action" value="{forecast.pk}"' in html
        assert 'name="confirm"' in html
        assert 'name="outcome"' in html
        assert not Resolution.objects.exists()

    def test_confirming_resolves_all_selected(self, client, group_reviewer, pair, frozen):
        client.force_login(group_reviewer)
        response = self.post(
            client,
            pair,
            confirm="yes",
            outcome="NO",
            known_on="2025-02-28",
            evidence_url="https://example.org/news",
        )
        assert response.status_code == 302
        resolutions = Resolution.objects.order_by("forecast_id")
        assert [r.forecast for r in resolutions] == sorted(pair, key=lambda f: f.pk)
        assert {(r.outcome, r.resolved_by_id) for r in resolutions} == {("NO", group_reviewer.pk)}
        assert "Resolved 2 forecast(s)." in client.get(response["Location"]).content.decode()

    def test_evidence_is_required(self, client, group_reviewer, pair, frozen):
        client.force_login(group_reviewer)
        response = self.post(client, pair, confirm="yes", outcome="NO", known_on="2025-02-28")
        assert response.status_code == 200
        assert "Give the evidence" in response.content.decode()
        assert not Resolution.objects.exists()

    def test_one_refused_forecast_means_none_is_resolved(
        self, client, group_reviewer, pair, frozen
    ):
        already = ResolutionFactory(
            forecast__statement="The dam holds.", known_on=dt.date(2024, 12, 31)
        ).forecast
        client.force_login(group_reviewer)
        response = self.post(
            client,
            [*pair, already],
            confirm="yes",
            outcome="YES",
            known_on="2025-02-28",
            note="Announced.",
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "Nothing was resolved" in html
        assert "The dam holds." in html
        assert "already resolved" in html
        assert Resolution.objects.count() == 1

    def test_a_staff_user_who_is_not_a_reviewer_is_not_offered_it(self, client, outsider, pair):
        client.force_login(outsider)
        response = client.get(reverse(CHANGELIST))
        assert "resolve_selected" not in response.content.decode()
        response = self.post(
            client, pair, confirm="yes", outcome="YES", known_on="2025-02-28", note="x"
        )
        assert response.status_code == 302  # Django refuses an action it did not offer
        assert not Resolution.objects.exists()

    def test_a_selection_with_a_forecast_the_user_may_not_resolve_gets_403(
        self, client, reviewer, pair, frozen
    ):
        """``reviewer`` reviews the first forecast only: the whole action is refused."""
        client.force_login(reviewer)
        assert "resolve_selected" in client.get(reverse(CHANGELIST)).content.decode()
        assert self.post(client, pair).status_code == 403
        response = self.post(
            client, pair, confirm="yes", outcome="YES", known_on="2025-02-28", note="x"
        )
        assert response.status_code == 403
        assert not Resolution.objects.exists()


class TestResolutionAddForm:
    def test_a_staff_user_who_reviews_nothing_gets_403(self, client, outsider, due):
        client.force_login(outsider)
        url = reverse("admin:forecasts_resolution_add")
        assert client.get(url).status_code == 403
        data = {"forecast": due.pk, "outcome": "NO", "known_on": "2025-01-02", "evidence_note": "x"}
        assert client.post(url, data).status_code == 403
        assert not Resolution.objects.exists()

    def test_a_reviewer_cannot_pick_someone_elses_forecast(self, client, reviewer, frozen):
        reviewer.user_permissions.add(Permission.objects.get(codename="add_resolution"))
        other = ForecastFactory()
        client.force_login(reviewer)
        response = client.post(
            reverse("admin:forecasts_resolution_add"),
            {"forecast": other.pk, "outcome": "NO", "known_on": "2025-01-02", "evidence_note": "x"},
        )
        assert response.status_code == 200
        assert "You are not a reviewer of this forecast." in response.content.decode()
        assert not Resolution.objects.exists()

    def test_a_reviewer_resolves_their_own_forecast(self, client, reviewer, due, frozen):
        reviewer.user_permissions.add(Permission.objects.get(codename="add_resolution"))
        client.force_login(reviewer)
        response = client.post(
            reverse("admin:forecasts_resolution_add"),
            {"forecast": due.pk, "outcome": "NO", "known_on": "2025-02-21", "evidence_note": "x"},
        )
        assert response.status_code == 302, response.content.decode()
        assert Resolution.objects.get().resolved_by == reviewer


class TestAuditTrail:
    @pytest.fixture
    def history(self, due, group_reviewer, frozen):
        core_services.forecast_extend(
            forecast=due,
            new_resolve_by=dt.date(2025, 2, 25),
            reason="Ribbon cutting moved.",
            extended_by=group_reviewer,
        )
        sent_prompt(due, "gina@example.org", NOW - dt.timedelta(days=3))
        core_services.forecast_resolve(
            forecast=due,
            outcome="YES",
            known_on=dt.date(2025, 2, 26),
            note="Opened.",
            resolved_by=group_reviewer,
        )
        core_services.forecast_resolve(
            forecast=due,
            outcome="NO",
            known_on=dt.date(2025, 2, 26),
            evidence_url="https://example.org/closed",
            resolved_by=group_reviewer,
            correction_reason="It closed again the same day.",
        )
        return due

    def test_the_change_page_shows_resolutions_extensions_and_prompts(
        self, client, group_reviewer, history
    ):
        client.force_login(group_reviewer)  # view_forecast and view_resolution only
        html = client.get(change_url(history)).content.decode()
        assert "It closed again the same day." in html
        assert "superseded" in html
        assert "https://example.org/closed" in html
        assert "Ribbon cutting moved." in html
        assert "Feb. 20, 2025" in html
        # The prompts' recipients are e-mail addresses: shown only to those who may see
        # the users (issue 16, 6).
        assert "gina@example.org" not in html
        group_reviewer.user_permissions.add(Permission.objects.get(codename="view_user"))
        client.force_login(type(group_reviewer).objects.get(pk=group_reviewer.pk))
        html = client.get(change_url(history)).content.decode()
        assert "gina@example.org" in html
        for editable in (
            'name="resolutions-0-outcome"',
            'name="extensions-0-reason"',
            'name="review_prompts-0-recipient"',
            "resolutions-0-DELETE",
            "extensions-0-DELETE",
            "review_prompts-0-DELETE",
        ):
            assert editable not in html

    @pytest.mark.parametrize("model", ["deadlineextension", "reviewprompt"])
    def test_audit_records_are_listed_read_only(self, client, staff, history, model):
        changelist = client.get(reverse(f"admin:forecasts_{model}_changelist"))
        assert changelist.status_code == 200
        assert len(changelist.context["cl"].result_list) == 1
        assert client.get(reverse(f"admin:forecasts_{model}_add")).status_code == 403

    @pytest.mark.parametrize(
        ("model", "change"),
        [
            (DeadlineExtension, {"reason": "Rewritten."}),
            (ReviewPrompt, {"recipient": "someone@example.org"}),
            (Resolution, {"evidence_note": "Rewritten.", "outcome": "YES"}),
        ],
    )
    def test_nobody_edits_or_deletes_the_audit_trail(self, client, staff, history, model, change):
        record = model.objects.order_by("pk").first()
        before = model.objects.values().get(pk=record.pk)
        name = model._meta.model_name
        change_page = reverse(f"admin:forecasts_{name}_change", args=[record.pk])
        assert client.get(change_page).status_code == 200  # viewable
        assert client.post(change_page, change).status_code == 403
        delete_page = reverse(f"admin:forecasts_{name}_delete", args=[record.pk])
        assert client.get(delete_page).status_code == 403
        assert client.post(delete_page, {"post": "yes"}).status_code == 403
        assert model.objects.values().get(pk=record.pk) == before
