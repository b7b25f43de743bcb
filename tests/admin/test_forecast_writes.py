"""The forecast admin writes through the core services: its add and change form, the
estimate and reviewer inlines, deleting. Each test asserts an outcome only the service
produces (its rule refusing bad input as a form error, who recorded an estimate, a quote
placed in the source text, the public pages' version bumped on commit)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from forecasts.core.changes import public_version
from forecasts.models import Estimate, Forecast, Resolution, ReviewerAssignment
from tests.factories import (
    EstimateFactory,
    ForecastFactory,
    SourceFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TEXT = "Officials were upbeat. A deal is likely by June, one said. Others doubted it."
QUOTE = "A deal is likely by June, one said."
ADD = reverse("admin:forecasts_forecast_add")
CHANGELIST = reverse("admin:forecasts_forecast_changelist")


@pytest.fixture
def editor(client):
    user = UserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def rita():
    """Staff who may look at forecasts, reviewer of nothing yet."""
    user = UserFactory(username="rita", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_forecast"))
    return user


def change_url(forecast):
    return reverse("admin:forecasts_forecast_change", args=[forecast.pk])


def inline(prefix, rows, forecast, *added):
    """An inline's management form, its existing rows as the page has them, then ``added``."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows) + len(added)),
        f"{prefix}-INITIAL_FORMS": str(len(rows)),
    }
    for i, row in enumerate(rows):
        data[f"{prefix}-{i}-id"] = str(row.pk)
        data[f"{prefix}-{i}-forecast"] = str(forecast.pk) if forecast else ""
    for i, fields in enumerate(added, start=len(rows)):
        data.update({f"{prefix}-{i}-{name}": value for name, value in fields.items()})
    return data


def change_form(forecast, *, estimates=(), reviewers=(), **changes):
    """The change page's form as it comes, with ``changes`` and rows added to the inlines."""
    return {
        "statement": forecast.statement,
        "slug": forecast.slug,
        "forecaster": str(forecast.forecaster_id),
        "source": str(forecast.source_id),
        "tags": [str(tag.pk) for tag in forecast.tags.all()],
        "quote": forecast.quote,
        "condition": forecast.condition,
        "resolution_criteria": forecast.resolution_criteria,
        "made_on": forecast.made_on.isoformat(),
        "made_on_precision": forecast.made_on_precision,
        "resolve_by": forecast.resolve_by.isoformat(),
        "resolve_by_note": forecast.resolve_by_note,
        **inline("estimates", list(forecast.estimates.order_by("pk")), forecast, *estimates),
        **inline(
            "reviewerassignment_set",
            list(ReviewerAssignment.objects.filter(forecast=forecast).order_by("pk")),
            forecast,
            *reviewers,
        ),
        **inline("resolutions", list(forecast.resolutions.all()), forecast),
        **inline("extensions", list(forecast.extensions.all()), forecast),
        **inline("amendments", list(forecast.amendments.all()), forecast),
        **inline("review_prompts", list(forecast.review_prompts.all()), forecast),
        **changes,
    }


def add_form(source, forecaster, *estimates, reviewers=(), **changes):
    data = {
        "statement": "A deal is reached by June.",
        "slug": "deal-by-june",
        "forecaster": str(forecaster.pk),
        "source": str(source.pk),
        "quote": QUOTE,
        "resolution_criteria": "YES if a deal is signed by 30 June 2025.",
        "made_on": "2025-01-10",
        "made_on_precision": "day",
        "resolve_by": "2025-06-30",
        **inline("estimates", [], None, *estimates),
        **inline("reviewerassignment_set", [], None, *reviewers),
        **inline("resolutions", [], None),
        **inline("extensions", [], None),
        **inline("review_prompts", [], None),
    }
    return data | changes


def estimate(made_on="2025-01-10", probability="0.7", **fields):
    return {"made_on": made_on, "probability": probability, "basis": "number", **fields}


def resolve(client, user, forecast):
    client.force_login(user)
    return client.post(
        reverse("admin:forecasts_forecast_resolve", args=[forecast.pk]),
        {"outcome": "NO", "known_on": "2025-07-01", "note": "It did not happen."},
    )


class TestAddForm:
    def test_the_forecast_comes_with_its_estimates_its_quote_placed_and_the_pages_bumped(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        source = SourceFactory(text=TEXT)
        forecaster = ForecastFactory().forecaster
        before = public_version()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                ADD,
                add_form(
                    source,
                    forecaster,
                    estimate(),
                    estimate("2025-02-01", "0.4", note="Revised."),
                    tags=[str(TagFactory().pk)],
                ),
            )
        assert response.status_code == 302, response.content.decode()[:3000]
        forecast = Forecast.objects.get(slug="deal-by-june")
        assert (forecast.quote_start, forecast.quote_end) == (23, 23 + len(QUOTE))
        # Dated the day they are recorded, whatever date was posted (not an input).
        rows = forecast.estimates.values_list("made_on", "probability", "recorded_by")
        today = timezone.localdate()
        assert list(rows) == [(today, 0.7, editor.pk), (today, 0.4, editor.pk)]
        assert forecast.tags.count() == 1
        assert public_version() > before
        assert response["Location"] == reverse("admin:forecasts_forecast_changelist")

    def test_the_add_page_asks_for_the_first_estimate(self, client, editor):
        html = client.get(ADD).content.decode()
        assert 'name="estimates-0-probability"' in html

    def test_a_quote_the_source_text_lacks_is_a_form_error_and_nothing_is_stored(
        self, client, editor
    ):
        source = SourceFactory(text=TEXT)
        forecaster = ForecastFactory().forecaster
        before = (Forecast.objects.count(), Estimate.objects.count())
        data = add_form(source, forecaster, estimate(), quote="A deal is certain.")
        response = client.post(ADD, data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "The quote is not in the source text" in html
        assert "A deal is reached by June.</textarea>" in html  # shown again as typed
        assert 'class="errorlist' in html
        assert (Forecast.objects.count(), Estimate.objects.count()) == before

    def test_a_forecast_without_an_estimate_is_a_form_error(self, client, editor):
        source, forecaster = SourceFactory(), ForecastFactory().forecaster
        response = client.post(ADD, add_form(source, forecaster))
        assert response.status_code == 200
        assert "needs a first estimate" in response.content.decode()
        assert not Forecast.objects.filter(slug="deal-by-june").exists()

    def test_a_reviewer_assigned_on_the_add_page_can_resolve(self, client, editor, rita):
        source, forecaster = SourceFactory(), ForecastFactory().forecaster
        data = add_form(
            source, forecaster, estimate(), reviewers=[{"reviewer": str(rita.pk)}], publish="on"
        )
        assert client.post(ADD, data).status_code == 302
        forecast = Forecast.objects.get(slug="deal-by-june")
        assert resolve(client, rita, forecast).status_code == 302
        assert Resolution.objects.get().resolved_by == rita


class TestChangeForm:
    def test_publishing_a_rejected_draft_is_a_form_error_not_a_server_error(self, client, editor):
        # Was an IntegrityError: rejected_at is not on the form, so the form skipped the rule.
        draft = ForecastFactory(published_at=None, rejected_at=timezone.now())
        data = change_form(draft, publish="on")
        response = client.post(change_url(draft), data)
        assert response.status_code == 200
        assert "A rejected draft is not published." in response.content.decode()
        draft.refresh_from_db()
        assert draft.published_at is None

    def test_a_changed_quote_is_placed_again_and_the_pages_follow(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        forecast = ForecastFactory(
            source=SourceFactory(text=TEXT), quote="Officials were upbeat.", published_at=None
        )
        before = public_version()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(change_url(forecast), change_form(forecast, quote=QUOTE))
        assert response.status_code == 302, response.content.decode()[:3000]
        forecast.refresh_from_db()
        assert TEXT[forecast.quote_start : forecast.quote_end] == QUOTE
        assert public_version() > before

    def test_an_unchanged_form_writes_nothing(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        forecast = ForecastFactory()
        updated_at, before = forecast.updated_at, public_version()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(change_url(forecast), change_form(forecast))
        assert response.status_code == 302
        forecast.refresh_from_db()
        assert (forecast.updated_at, public_version()) == (updated_at, before)


class TestEstimateInline:
    def test_an_estimate_added_on_the_change_page_is_recorded_by_the_editor(
        self, client, editor, django_capture_on_commit_callbacks
    ):
        forecast = ForecastFactory()
        before = public_version()
        data = change_form(forecast, estimates=[estimate("2024-06-01", "0.35")])
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(change_url(forecast), data).status_code == 302
        latest = forecast.latest_estimate()
        assert (latest.probability, latest.recorded_by) == (0.35, editor)
        assert public_version() > before

    def test_a_drafts_only_estimate_is_replaced_not_deleted(self, client, editor):
        draft = ForecastFactory(published_at=None)
        only = draft.estimates.get()
        response = client.post(
            change_url(draft), change_form(draft, **{"estimates-0-DELETE": "on"})
        )
        assert response.status_code == 200
        assert "is the only estimate" in response.content.decode()
        assert list(draft.estimates.all()) == [only]

        data = change_form(draft, estimates=[estimate("2024-01-10", "0.2")])
        response = client.post(change_url(draft), data | {"estimates-0-DELETE": "on"})
        assert response.status_code == 302
        assert list(draft.estimates.values_list("probability", flat=True)) == [0.2]

    def test_a_published_forecasts_estimates_are_never_deleted(self, client, editor):
        forecast = ForecastFactory()
        EstimateFactory(forecast=forecast, probability=0.2)
        assert "estimates-0-DELETE" not in client.get(change_url(forecast)).content.decode()
        data = change_form(forecast, **{"estimates-0-DELETE": "on"})
        assert client.post(change_url(forecast), data).status_code == 302
        assert forecast.estimates.count() == 2


class TestReviewerInline:
    def test_a_reviewer_assigned_through_the_inline_can_resolve(self, client, editor, rita):
        forecast = ForecastFactory()
        assert resolve(client, rita, forecast).status_code == 403
        client.force_login(editor)
        data = change_form(forecast, reviewers=[{"reviewer": str(rita.pk)}])
        assert client.post(change_url(forecast), data).status_code == 302
        assert resolve(client, rita, forecast).status_code == 302
        assert Resolution.objects.get().resolved_by == rita

    def test_an_inactive_account_is_a_form_error(self, client, editor):
        forecast = ForecastFactory()
        gone = UserFactory(username="gone", is_staff=True, is_active=False)
        data = change_form(forecast, reviewers=[{"reviewer": str(gone.pk)}])
        response = client.post(change_url(forecast), data)
        assert response.status_code == 200
        assert "gone cannot review: the account is inactive." in response.content.decode()
        assert not ReviewerAssignment.objects.exists()

    def test_removing_the_row_unassigns(self, client, editor, rita):
        forecast = ForecastFactory()
        ReviewerAssignment.objects.create(forecast=forecast, reviewer=rita)
        data = change_form(forecast, **{"reviewerassignment_set-0-DELETE": "on"})
        assert client.post(change_url(forecast), data).status_code == 302
        assert not ReviewerAssignment.objects.exists()
        assert resolve(client, rita, forecast).status_code == 403

    def test_an_assignment_is_not_rewritten_to_someone_else(self, client, editor, rita):
        forecast = ForecastFactory()
        assignment = ReviewerAssignment.objects.create(forecast=forecast, reviewer=rita)
        other = UserFactory(username="otto", is_staff=True)
        data = change_form(forecast, **{"reviewerassignment_set-0-reviewer": str(other.pk)})
        assert client.post(change_url(forecast), data).status_code == 302
        assert list(ReviewerAssignment.objects.values_list("pk", "reviewer")) == [
            (assignment.pk, rita.pk)
        ]


class TestDeleting:
    def test_a_published_forecast_is_never_deleted(self, client, editor):
        forecast = ForecastFactory()
        delete_url = reverse("admin:forecasts_forecast_delete", args=[forecast.pk])
        assert delete_url not in client.get(change_url(forecast)).content.decode()
        assert client.get(delete_url).status_code == 403
        assert client.post(delete_url, {"post": "yes"}).status_code == 403
        assert Forecast.objects.filter(pk=forecast.pk).exists()

    def test_a_draft_is_deleted_with_its_estimates(self, client, editor, rita):
        draft = ForecastFactory(published_at=None)
        ReviewerAssignment.objects.create(forecast=draft, reviewer=rita)
        delete_url = reverse("admin:forecasts_forecast_delete", args=[draft.pk])
        assert client.post(delete_url, {"post": "yes"}).status_code == 302
        assert not Forecast.objects.exists()
        assert not Estimate.objects.exists()
        assert not ReviewerAssignment.objects.exists()

    def test_deleting_a_selection_with_a_published_forecast_deletes_nothing(self, client, editor):
        draft, published = ForecastFactory(published_at=None), ForecastFactory()
        posted = {
            "action": "delete_selected",
            "_selected_action": [draft.pk, published.pk],
            "post": "yes",
        }
        assert client.post(CHANGELIST, posted).status_code == 403
        assert Forecast.objects.count() == 2

    def test_deleting_selected_drafts(self, client, editor):
        drafts = [ForecastFactory(published_at=None) for _ in range(2)]
        posted = {
            "action": "delete_selected",
            "_selected_action": [draft.pk for draft in drafts],
            "post": "yes",
        }
        assert client.post(CHANGELIST, posted).status_code == 302
        assert not Forecast.objects.exists()
