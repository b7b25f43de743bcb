"""Bad input in the admin: forecast add/change with its estimate inline, estimates, sources
with pasted text, the resolve, extend and bulk-resolve forms, resolutions and subscribers.

The same promise as the public pages: the form again with a message (or a 4xx),
nothing stored changes, and what is echoed is escaped.
"""

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from forecasts.models import Forecast, Subscriber, SubscriberStatus
from tests.bad_input import (
    MARKUP_URL,
    SCRIPTS,
    assert_not_echoed_raw,
    assert_refused,
    bad_bytes,
    bad_urls,
    date_text,
    examples,
    few_examples,
    header_injections,
    nasty_text,
    percent_encoded,
    probability_text,
    stored,
)
from tests.factories import ForecastFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
FORM = "application/x-www-form-urlencoded"
HUGE_ID = "9" * 20


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def forecast():
    forecast = ForecastFactory(made_on=dt.date(2024, 1, 10), resolve_by=dt.date(2025, 1, 31))
    forecast.tags.set([TagFactory()])
    return forecast


@pytest.fixture
def editor(client, forecast):
    user = UserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def url(name: str, *args: object) -> str:
    return reverse(f"admin:forecasts_{name}", args=args)


def no_inlines(*prefixes: str) -> dict[str, str]:
    data = {}
    for prefix in prefixes:
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    return data


INLINES = no_inlines(
    "estimates",
    "reviewerassignment_set",
    "resolutions",
    "extensions",
    "amendments",
    "review_prompts",
)


def forecast_form(forecast: Forecast, **changes: str) -> dict[str, str]:
    """A valid add form for a new forecast with one estimate, then ``changes``."""
    data = {
        "statement": "The canal reopens.",
        "slug": "the-canal-reopens",
        "forecaster": str(forecast.forecaster_id),
        "source": str(forecast.source_id),
        "resolution_criteria": "YES if ships pass.",
        "made_on": "2024-01-10",
        "made_on_precision": "day",
        "resolve_by": "2025-06-30",
        **INLINES,
        "estimates-TOTAL_FORMS": "1",
        "estimates-0-probability": "0.6",
        "estimates-0-basis": "number",
    }
    return {**data, **changes}


class TestForecastForm:
    def test_the_valid_form_is_accepted(self, client, editor, forecast):
        # The baseline the cases below spoil one field at a time.
        response = client.post(url("forecast_add"), forecast_form(forecast))
        assert response.status_code == 302, response.content.decode()[:3000]

    @examples
    @given(probability=probability_text(), field=st.sampled_from(["probability", "low", "high"]))
    def test_a_probability_that_is_not_one_is_a_form_error(
        self, client, editor, forecast, probability, field
    ):
        before = stored()
        data = forecast_form(forecast, **{f"estimates-0-{field}": probability})
        if field != "probability":  # a range needs both ends
            data["estimates-0-low" if field == "high" else "estimates-0-high"] = "0.7"
        html = assert_refused(client.post(url("forecast_add"), data))
        assert stored() == before
        assert_not_echoed_raw(html, probability)

    @examples
    @given(
        # An estimate's date is not an input: it is dated the day it is recorded.
        field=st.sampled_from(["made_on", "resolve_by"]),
        value=date_text(),
    )
    def test_a_date_that_is_not_one_or_out_of_range_is_a_form_error(
        self, client, editor, forecast, field, value
    ):
        before = stored()
        html = assert_refused(
            client.post(url("forecast_add"), forecast_form(forecast, **{field: value}))
        )
        assert stored() == before
        assert_not_echoed_raw(html, value)

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"resolve_by": "2023-01-01"}, "deadline cannot be before"),
            # The estimate is dated today, before a forecast said to be made later.
            ({"made_on": "2026-12-15", "resolve_by": "2027-01-31"}, "cannot predate the forecast"),
            ({"resolve_by": "9999-12-31"}, "The date must be"),
            (
                {"estimates-0-low": "0.8", "estimates-0-high": "0.9"},
                "0 ≤ low ≤ probability ≤ high ≤ 1",
            ),
            ({"tags": HUGE_ID}, "valid value"),
            ({"forecaster": HUGE_ID}, "Select a valid choice"),
        ],
    )
    def test_rules_across_fields_are_form_errors(self, client, editor, forecast, changes, message):
        before = stored()
        response = client.post(url("forecast_add"), forecast_form(forecast, **changes))
        assert_refused(response, message=message)
        assert stored() == before

    @examples
    @given(
        field=st.sampled_from(
            ["statement", "resolution_criteria", "quote", "condition", "resolve_by_note"]
        ),
        length=st.sampled_from([1001, 5000, 200_000]),
    )
    def test_oversized_text_is_a_form_error(self, client, editor, forecast, field, length):
        # A TextField has no length limit: there only NUL bytes are refused.
        value = "x" * length + ("\x00" if field == "resolution_criteria" else "")
        before = stored()
        assert_refused(client.post(url("forecast_add"), forecast_form(forecast, **{field: value})))
        assert stored() == before

    @examples
    @given(text=nasty_text())
    def test_control_characters_and_markup_in_the_change_form(self, client, editor, forecast, text):
        # NUL is refused; other text is stored as typed and shown escaped. A draft: a
        # published forecast's statement is not on its change form (amend it instead).
        forecast = ForecastFactory(
            published_at=None, made_on=dt.date(2024, 1, 10), resolve_by=dt.date(2025, 1, 31)
        )
        before = stored()
        data = forecast_form(forecast, statement=text + "\x00")
        assert_refused(client.post(url("forecast_change", forecast.pk), data))
        assert stored() == before

    @few_examples
    @given(bad=bad_bytes())
    def test_not_utf8_is_a_400(self, client, editor, forecast, bad):
        before = stored()
        body = b"statement=" + percent_encoded(bad) + b"&made_on=2024-01-10"
        response = client.post(url("forecast_change", forecast.pk), body, content_type=FORM)
        assert response.status_code == 400
        assert stored() == before


class TestEstimateAdmin:
    @examples
    @given(probability=probability_text())
    def test_a_bad_probability_is_a_form_error(self, client, editor, forecast, probability):
        before = stored()
        data = {
            "forecast": forecast.pk,
            "made_on": "2024-02-01",
            "probability": probability,
            "basis": "number",
        }
        assert_refused(client.post(url("estimate_add"), data))
        assert stored() == before

    def test_an_estimate_before_the_forecast_is_a_form_error(self, client, editor):
        # Was stored: the rule lived only in the estimate service. An estimate is dated
        # today (the posted date is not an input), so the forecast is one made later.
        forecast = ForecastFactory(
            made_on=dt.date(2025, 6, 1), resolve_by=dt.date(2025, 12, 31), published_at=None
        )
        before = stored()
        data = {"forecast": forecast.pk, "made_on": "1999-01-01", "probability": "0.5"}
        response = client.post(url("estimate_add"), {**data, "basis": "number"})
        assert_refused(response, message="cannot predate the forecast")
        assert stored() == before


def source_form(**changes: str) -> dict[str, str]:
    data = {
        "title": "An article",
        "key": "an-article",
        "url": "https://example.org/article",
        "published_on": "2024-01-10",
        "published_precision": "day",
        "text": "The minister said a deal is likely by June.",
    }
    return {**data, **changes}


class TestSourceAdmin:
    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"text": "abc\x00def"}, "Null characters are not allowed"),
            ({"text": "abc" + "\x01\x02\x03\x04" + "def"}, "control characters"),
            ({"text": "a" * 1_000_001}, "over the limit"),
            ({"url": "javascript:alert(1)"}, "Enter a valid URL"),
            ({"published_on": "10000-01-01"}, "Enter a valid date"),
            ({"published_on": "1066-10-14"}, "The date must be"),
            ({"key": "<script>"}, "valid “slug”"),
            ({"title": "x" * 301}, "at most 300 characters"),
        ],
    )
    def test_bad_source_is_a_form_error(self, client, editor, changes, message):
        before = stored()
        assert_refused(client.post(url("source_add"), source_form(**changes)), message=message)
        assert stored() == before

    @few_examples
    @given(bad=bad_bytes())
    def test_pasted_text_that_is_not_utf8_is_a_400(self, client, editor, bad):
        before = stored()
        body = b"title=T&key=k&published_on=2024-01-10&published_precision=day&text=" + bad
        response = client.post(url("source_add"), body, content_type=FORM)
        assert response.status_code == 400
        assert stored() == before


def resolve_form(**changes: str) -> dict[str, str]:
    data = {"outcome": "YES", "known_on": "2025-02-01", "evidence_url": "", "note": "Seen."}
    return {**data, **changes}


def bad_resolution() -> st.SearchStrategy[dict[str, str]]:
    return st.one_of(
        st.builds(lambda v: resolve_form(known_on=v), date_text()),
        st.builds(
            lambda v: resolve_form(known_on=v), st.sampled_from(["2023-01-01", "2025-03-02"])
        ),
        st.builds(lambda v: resolve_form(evidence_url=v, note=""), bad_urls()),
        st.builds(lambda v: resolve_form(outcome=v), nasty_text()),
        st.builds(lambda v: resolve_form(note=v), st.sampled_from(["", "   ", "x" * 5001, "\x00"])),
    )


class TestResolveExtendAndBulk:
    @examples
    @given(data=bad_resolution())
    def test_bad_resolution(self, client, editor, forecast, data):
        before = stored()
        html = assert_refused(client.post(url("forecast_resolve", forecast.pk), data))
        assert stored() == before
        assert_not_echoed_raw(html, *data.values())

    @examples
    @given(
        data=st.one_of(
            st.builds(lambda v: {"new_resolve_by": v, "reason": "Later."}, date_text()),
            st.builds(
                lambda v: {"new_resolve_by": "2025-06-30", "reason": v},
                st.sampled_from(["", " ", "x" * 2001, "a\x00"]),
            ),
            st.just({"new_resolve_by": "2025-01-30", "reason": "Earlier?"}),
        )
    )
    def test_bad_extension(self, client, editor, forecast, data):
        before = stored()
        html = assert_refused(client.post(url("forecast_extend", forecast.pk), data))
        assert stored() == before
        assert_not_echoed_raw(html, *data.values())

    @examples
    @given(data=bad_resolution())
    def test_bad_bulk_resolution_resolves_nothing(self, client, editor, forecast, data):
        other = Forecast.objects.exclude(pk=forecast.pk).first() or ForecastFactory()
        before = stored()
        posted = {
            "action": "resolve_selected",
            "_selected_action": [forecast.pk, other.pk],
            "confirm": "yes",
            **data,
        }
        html = assert_refused(client.post(url("forecast_changelist"), posted))
        assert stored() == before
        assert_not_echoed_raw(html, *data.values())

    @pytest.mark.parametrize("action", ["resolve_selected", "publish", "reject", "delete_selected"])
    @pytest.mark.parametrize("selected", [HUGE_ID, "abc", "1 OR 1=1", "-1", "²"])
    def test_a_forged_selection_is_refused_with_a_message(
        self, client, editor, forecast, action, selected
    ):
        # Was a 500: Django filters pk__in with the posted values as they are.
        before = stored()
        posted = {"action": action, "_selected_action": [selected], "confirm": "yes"}
        response = client.post(url("forecast_changelist"), posted, follow=True)
        assert response.status_code == 200
        assert "The selection is not valid" in response.content.decode()
        assert stored() == before

    def test_a_forged_forecast_id_when_adding_a_resolution(self, client, editor, forecast):
        # Was a 500: the autocomplete widget looked the id up again to re-show it.
        before = stored()
        data = {"forecast": HUGE_ID, **resolve_form(), "evidence_note": "x"}
        assert_refused(client.post(url("resolution_add"), data), message="Select a valid choice")
        assert stored() == before


class TestSubscriberAdmin:
    def form(self, **changes: object) -> dict[str, object]:
        return {"email": "sub@example.org", "cadence": "weekly", "status": "pending", **changes}

    @examples
    @given(address=header_injections())
    def test_header_injection_is_a_form_error(self, client, editor, address):
        before = stored()
        html = assert_refused(client.post(url("subscriber_add"), self.form(email=address)))
        assert stored() == before
        assert_not_echoed_raw(html, address)

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"status": "confirmed"}, "Only the subscriber can confirm"),  # was a 500
            ({"include_review_queue": "on"}, "needs a user"),
            ({"tags": [HUGE_ID]}, "valid value"),  # was a 500
            ({"cadence": "hourly"}, "Select a valid choice"),
            ({"status": "<script>"}, "Select a valid choice"),
        ],
    )
    def test_rules_of_the_table_are_form_errors(self, client, editor, changes, message):
        before = stored()
        assert_refused(client.post(url("subscriber_add"), self.form(**changes)), message=message)
        assert stored() == before

    def test_a_mixed_case_address_is_stored_lower_case(self, client, editor):
        response = client.post(url("subscriber_add"), self.form(email="Sub@Example.ORG"))
        assert response.status_code == 302
        assert Subscriber.objects.get().email == "sub@example.org"

    def test_an_existing_address_in_other_case_is_a_form_error(self, client, editor):
        Subscriber.objects.create(email="sub@example.org", status=SubscriberStatus.PENDING)
        before = stored()
        response = client.post(url("subscriber_add"), self.form(email="SUB@example.org"))
        assert_refused(response, message="already subscribed")
        assert stored() == before


@pytest.mark.parametrize("payload", SCRIPTS)
def test_markup_stored_anywhere_is_escaped_in_the_admin(client, editor, payload):
    # Published with it: a published forecast's terms are never rewritten in place.
    forecast = ForecastFactory(
        statement=payload,
        resolution_criteria=payload,
        source__title=payload,
        forecaster__name=payload,
        made_on=dt.date(2024, 1, 10),
        resolve_by=dt.date(2025, 1, 31),
    )
    Subscriber.objects.create(email="x@example.org")
    for page in (
        url("forecast_changelist"),
        url("forecast_change", forecast.pk),
        url("forecast_resolve", forecast.pk),
        url("forecast_extend", forecast.pk),
        url("forecast_amend", forecast.pk),
        url("source_changelist"),
        url("forecaster_changelist"),
        url("estimate_changelist"),
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert_not_echoed_raw(response.content.decode(), payload)
    bulk = {"action": "resolve_selected", "_selected_action": [forecast.pk]}
    assert_not_echoed_raw(client.post(url("forecast_changelist"), bulk).content.decode(), payload)


def test_a_markup_url_is_stored_as_typed_and_escaped(client, editor, forecast):
    data = resolve_form(evidence_url=MARKUP_URL)
    assert client.post(url("forecast_resolve", forecast.pk), data).status_code == 302
    assert_not_echoed_raw(
        client.get(url("forecast_change", forecast.pk)).content.decode(), MARKUP_URL
    )


@pytest.mark.parametrize("term", ["%00", "a%00", "%ED%A0%80", "%FF", "<script>"])
def test_search_and_autocomplete_never_500(client, editor, forecast, term):
    # "%00" was a 500 on PostgreSQL, which refuses NUL in a query parameter.
    autocomplete = "/admin/autocomplete/?app_label=forecasts&model_name=resolution"
    assert client.get(f"{autocomplete}&field_name=forecast&term={term}").status_code == 200
    for name in ("forecast", "source", "subscriber", "forecaster", "reviewprompt"):
        response = client.get(url(f"{name}_changelist") + f"?q={term}")
        assert response.status_code == 200, name
        assert_not_echoed_raw(response.content.decode(), "<script>")
