"""The record is append-only through every admin door: the change form of an editor who
is not a reviewer, Amend terms, the estimate inline and admin, deleting a user.

(The services and the database refuse the same: tests/core/test_services_editing.py and
tests/core/test_record_triggers.py.)"""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from forecasts.core import services as core_services
from forecasts.core.ledger.models import EventKind, LedgerEntry
from forecasts.core.models import ForecastAmendment, Status
from forecasts.models import Estimate, Forecast
from tests.admin.test_forecast_writes import change_form, change_url, estimate
from tests.factories import ForecastFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(TODAY, tick=False)


def staff(username, *codenames):
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=user.pk)  # permissions cached afresh


@pytest.fixture
def editor(client):
    """An editor: may change forecasts and add estimates; reviewer of nothing."""
    user = staff("edith", "view_forecast", "change_forecast", "add_estimate", "view_estimate")
    client.force_login(user)
    return user


@pytest.fixture
def due():
    return ForecastFactory(made_on=dt.date(2020, 6, 1), resolve_by=dt.date(2021, 1, 20))


@pytest.fixture
def resolved():
    forecast = ForecastFactory(made_on=dt.date(2024, 1, 10), resolve_by=dt.date(2024, 6, 30))
    core_services.forecast_resolve(
        forecast=forecast, outcome="YES", known_on=dt.date(2024, 8, 1), note="Reported."
    )
    return forecast


def amend_url(forecast):
    return reverse("admin:forecasts_forecast_amend", args=[forecast.pk])


def status(forecast):
    return Forecast.objects.with_status(at=timezone.now()).get(pk=forecast.pk).status


class TestChangeFormOfAnEditorWhoIsNotAReviewer:
    def test_a_due_forecasts_deadline_does_not_move(self, client, editor, due):
        html = client.get(change_url(due)).content.decode()
        assert 'name="resolve_by"' not in html  # shown, not an input
        assert "Extend deadline" not in html  # not a reviewer of it
        response = client.post(change_url(due), change_form(due, resolve_by="2027-06-30"))
        assert response.status_code == 302
        due.refresh_from_db()
        assert due.resolve_by == dt.date(2021, 1, 20)
        assert status(due) == Status.DUE
        assert not due.extensions.exists()

    def test_a_resolved_forecasts_statement_does_not_change(self, client, editor, resolved):
        statement = resolved.statement
        html = client.get(change_url(resolved)).content.decode()
        assert 'name="statement"' not in html
        assert "Amend terms" not in html  # resolved: judged as it stood
        data = change_form(resolved, statement="Rewritten after the fact.")
        assert client.post(change_url(resolved), data).status_code == 302
        resolved.refresh_from_db()
        assert resolved.statement == statement
        assert not ForecastAmendment.objects.exists()

    def test_its_tags_still_change(self, client, editor, due):
        tag = TagFactory()
        assert client.post(change_url(due), change_form(due, tags=[str(tag.pk)])).status_code == 302
        assert list(due.tags.all()) == [tag]

    def test_a_draft_is_edited_and_published_with_the_box(self, client, editor):
        draft = ForecastFactory(published_at=None, statement="Typed.")
        html = client.get(change_url(draft)).content.decode()
        assert 'name="statement"' in html
        assert 'name="publish"' in html
        data = change_form(draft, statement="Typed again.", publish="on")
        assert client.post(change_url(draft), data).status_code == 302
        draft.refresh_from_db()
        assert (draft.statement, draft.published_at is not None) == ("Typed again.", True)
        assert LedgerEntry.objects.filter(forecast=draft, kind=EventKind.PUBLICATION).exists()


class TestAmendTerms:
    def test_an_editor_amends_with_a_reason_recorded_and_on_the_ledger(self, client, editor, due):
        assert amend_url(due) in client.get(change_url(due)).content.decode()
        page = client.get(amend_url(due))
        assert page.status_code == 200
        assert f"{due.statement}</textarea>" in page.content.decode()  # prefilled
        data = {
            "statement": "Talks resume before the deadline.",
            "quote": due.quote,
            "condition": "",
            "resolution_criteria": due.resolution_criteria,
            "made_on": "2020-06-01",
            "made_on_precision": "day",
            "forecaster": str(due.forecaster_id),
            "source": str(due.source_id),
            "reason": "The statement misread the quote.",
        }
        response = client.post(amend_url(due), data)
        assert response.status_code == 302, response.content.decode()[:3000]
        due.refresh_from_db()
        assert due.statement == "Talks resume before the deadline."
        amendment = ForecastAmendment.objects.get()
        assert (amendment.amended_by, amendment.reason) == (editor, data["reason"])
        assert list(amendment.changes) == ["statement"]
        assert LedgerEntry.objects.filter(forecast=due, kind=EventKind.AMENDMENT).count() == 1
        assert "The statement misread the quote." in client.get(change_url(due)).content.decode()

    def test_the_reason_is_required(self, client, editor, due):
        data = {
            "statement": "Changed.",
            "resolution_criteria": due.resolution_criteria,
            "made_on": "2020-06-01",
            "made_on_precision": "day",
            "forecaster": str(due.forecaster_id),
            "source": str(due.source_id),
            "reason": "  ",
        }
        response = client.post(amend_url(due), data)
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
        due.refresh_from_db()
        assert due.statement != "Changed."
        assert not ForecastAmendment.objects.exists()

    def test_only_editors_amend(self, client, due):
        viewer = staff("vera", "view_forecast")
        client.force_login(viewer)
        assert amend_url(due) not in client.get(change_url(due)).content.decode()
        assert client.get(amend_url(due)).status_code == 403
        data = {"statement": "Changed.", "reason": "Because."}
        assert client.post(amend_url(due), data).status_code == 403
        assert not ForecastAmendment.objects.exists()

    def test_refused_after_resolution(self, client, editor, resolved):
        data = {
            "statement": "Changed after the verdict.",
            "quote": resolved.quote,
            "resolution_criteria": resolved.resolution_criteria,
            "made_on": "2024-01-10",
            "made_on_precision": "day",
            "forecaster": str(resolved.forecaster_id),
            "source": str(resolved.source_id),
            "reason": "Hindsight.",
        }
        response = client.post(amend_url(resolved), data)
        assert response.status_code == 200
        assert "terms stay as they were when it was judged" in response.content.decode()
        resolved.refresh_from_db()
        assert resolved.statement != "Changed after the verdict."
        assert not ForecastAmendment.objects.exists()


class TestEstimates:
    def test_a_back_dated_estimate_on_a_resolved_forecast_is_refused_everywhere(
        self, client, editor, resolved
    ):
        with pytest.raises(Exception, match="back-date"):
            core_services.estimate_record(
                forecast=resolved, probability=1.0, made_on=dt.date(2024, 3, 2)
            )
        # The inline takes no new estimate once the outcome is known...
        html = client.get(change_url(resolved)).content.decode()
        assert 'name="estimates-__prefix__-probability"' not in html
        data = change_form(resolved, estimates=[estimate("2024-03-02", "1.0")])
        assert client.post(change_url(resolved), data).status_code == 302
        # ...nor does the estimate admin, whatever date is posted.
        response = client.post(
            reverse("admin:forecasts_estimate_add"),
            {"forecast": resolved.pk, "made_on": "2024-03-02", "probability": "1.0"}
            | {"basis": "number"},
        )
        assert response.status_code == 200
        assert "no estimate is accepted on or after that day" in response.content.decode()
        assert list(resolved.estimates.values_list("probability", flat=True)) == [0.7]

    def test_after_the_outcome_is_known_the_service_refuses(self, resolved):
        with pytest.raises(Exception, match="became known on 2024-08-01"):
            core_services.estimate_record(forecast=resolved, probability=1.0)

    def test_the_inline_dates_an_estimate_today_whatever_was_posted(self, client, editor, due):
        data = change_form(due, estimates=[estimate("2020-06-02", "0.4")])
        assert client.post(change_url(due), data).status_code == 302
        latest = due.latest_estimate()
        assert (latest.probability, latest.made_on) == (0.4, TODAY.date())
        assert not Estimate.objects.filter(made_on=dt.date(2020, 6, 2)).exists()


def test_deleting_a_user_who_resolved_something_is_refused_with_a_clear_message(client, resolved):
    reviewer = UserFactory(username="rex", is_staff=True)
    forecast = ForecastFactory(made_on=dt.date(2024, 1, 10), resolve_by=dt.date(2024, 6, 30))
    core_services.reviewer_assign(forecast=forecast, reviewer=reviewer)
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="NO",
        known_on=dt.date(2024, 8, 1),
        note="Reported.",
        resolved_by=reviewer,
    )
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    delete_url = reverse("admin:auth_user_delete", args=[reviewer.pk])
    page = client.post(delete_url, {"post": "yes"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "would require deleting the following protected related objects" in html
    assert "Resolution: " in html
    assert "permission to delete" not in html  # protected, not a matter of permissions
    assert User.objects.filter(pk=reviewer.pk).exists()
