"""Bad input on the public pages: digest subscribe, confirm, preferences and unsubscribe,
and the reviewers' pages (one-click review links, the logged-in review page).

Each hostile value gets a 4xx or the form again with a message, changes nothing
stored, is escaped wherever it is shown, and sends no e-mail anywhere it chose.
"""

import datetime as dt

import pytest
from django.core import mail, signing
from django.core.mail.message import sanitize_address
from django.http import HttpResponse
from django.test import Client, TestCase
from django.urls import reverse
from hypothesis import assume, given
from hypothesis import strategies as st

from forecasts.digests import links as digest_links
from forecasts.models import ReviewerAssignment, Subscriber, SubscriberStatus
from forecasts.reviews import links
from tests.bad_input import (
    SCRIPTS,
    assert_clean_headers,
    assert_no_mail,
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
    stored,
)
from tests.factories import ForecastFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
SITE = "https://forecasts.example.org"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def setup(settings, time_machine):
    time_machine.move_to(NOW, tick=False)
    settings.SITE_URL = SITE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Hypothesis posts many times from one address; the rate limit has its own tests.
    settings.DIGEST_SUBSCRIBE_RATE_PER_HOUR = 10**9


@pytest.fixture
def forecast():
    forecast = ForecastFactory(made_on=dt.date(2024, 1, 10), resolve_by=dt.date(2025, 1, 31))
    forecast.tags.set([TagFactory(name="Economy")])
    return forecast


@pytest.fixture
def reviewer(forecast):
    user = UserFactory(username="rita", email="rita@example.org")
    ReviewerAssignment.objects.create(forecast=forecast, reviewer=user)
    return user


@pytest.fixture
def subscriber(forecast):
    return Subscriber.objects.create(
        email="sam@example.org", status=SubscriberStatus.CONFIRMED, confirmed_at=NOW
    )


def path(url: str) -> str:
    return url.removeprefix(SITE).removeprefix("http://127.0.0.1:8000")


def subscribe_url() -> str:
    return reverse("forecasts:digest-subscribe")


def subscribe(client: Client, data: object, **extra: object) -> HttpResponse:
    """Post the subscribe form, then run the task it queued, as a worker would: the
    subscriber is stored and the confirmation sent there, not in the request."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(subscribe_url(), data, **extra)


# --- Subscribe ------------------------------------------------------------------------------


class TestSubscribe:
    @examples
    @given(address=header_injections())
    def test_header_injection_in_the_address_is_refused(self, client, subscriber, address):
        before = stored()
        mail.outbox.clear()
        response = subscribe(client, {"email": address, "cadence": "weekly"})
        html = assert_refused(response)
        assert stored() == before
        assert_no_mail()
        assert_not_echoed_raw(html, address)

    @examples
    @given(
        address=st.one_of(nasty_text(), st.text(min_size=255, max_size=300)),
        cadence=st.one_of(st.just("weekly"), nasty_text()),
        tags=st.lists(
            st.one_of(
                st.sampled_from(["99999999999999999999", "-1", "1.5", "1e3", "0x1", ""]),
                nasty_text(),
            ),
            max_size=3,
        ),
    )
    def test_any_bad_field_is_a_form_error_and_nothing_is_stored(
        self, client, forecast, address, cadence, tags
    ):
        assume("@" not in address)  # none of these can be an address
        before = stored()
        mail.outbox.clear()
        data = {"email": address, "cadence": cadence, "tags": tags}
        html = assert_refused(subscribe(client, data))
        assert stored() == before
        assert_no_mail()
        assert_not_echoed_raw(html, address, cadence, *tags)

    @pytest.mark.parametrize("field", ["tags", "forecasters"])
    def test_an_id_too_large_for_the_column_is_a_form_error(self, client, forecast, field):
        # Was a 500: SQLite raises OverflowError on the lookup.
        before = stored()
        data = {"email": "new@example.org", "cadence": "weekly", field: "9" * 20}
        html = assert_refused(subscribe(client, data))
        assert "is not a valid value" in html
        assert stored() == before
        assert_no_mail()

    @pytest.mark.parametrize("field", ["tags", "forecasters"])
    def test_a_choice_error_shows_when_there_is_nothing_to_choose(self, client, field):
        # No published forecast yet, so no boxes: the error was hidden with the fieldset
        # and the form came back without a word.
        data = {"email": "new@example.org", "cadence": "weekly", field: "1"}
        assert_refused(subscribe(client, data), message="not one of the available")
        assert not Subscriber.objects.exists()

    @examples
    @given(bad=bad_bytes(), encoded=st.booleans())
    def test_a_body_that_is_not_utf8_is_a_400(self, client, forecast, bad, encoded):
        # Was stored as a Latin-1 reading ("a@b.orgÿþ") and sent a confirmation.
        before = stored()
        mail.outbox.clear()
        body = b"email=a%40b.org" + (percent_encoded(bad) if encoded else bad) + b"&cadence=weekly"
        response = subscribe(client, body, content_type=FORM)
        assert response.status_code == 400
        assert "not valid UTF-8" in response.content.decode()
        assert stored() == before
        assert_no_mail()

    @examples
    @given(
        domain=st.text(
            alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12
        ).map(lambda text: f"b{text}.org")
        | st.sampled_from(["b.org\ufffd", "b.org\u200b", "xn--zz.org", "b\u00e4.org"])
    )
    def test_an_accepted_address_can_be_mailed_as_stored(self, client, domain):
        # "a@b.org\ufffd" was stored and its confirmation failed to encode (logged, the
        # page said all was well); "a@b.org\u200b" was a second subscriber whose mail
        # IDNA delivers to a@b.org.
        mail.outbox.clear()
        response = subscribe(client, {"email": f"a@{domain}", "cadence": "weekly"})
        assert response.status_code == 200
        stored_addresses = list(Subscriber.objects.values_list("email", flat=True))
        if stored_addresses:
            [address] = stored_addresses
            [message] = mail.outbox
            assert_clean_headers(message, to=[address])
            sanitize_address(address, "utf-8")  # what the SMTP backend does; must not raise
            assert (
                sanitize_address(address, "utf-8").split("@")[1].encode("ascii").decode("idna")
                == address.split("@")[1]
            )
            Subscriber.objects.all().delete()
        else:
            assert_refused(response)
            assert_no_mail()

    def test_over_smtp_only_the_intended_recipient_gets_mail(self, client, smtp_server):
        for address in ["a@b.org\r\nBcc: evil@x.org", '"x"\n@y.org', "a@b.org, evil@x.org"]:
            subscribe(client, {"email": address, "cadence": "weekly"})
        subscribe(client, {"email": "Real@Example.org", "cadence": "weekly"})
        [received] = smtp_server.messages
        assert received.rcpt_tos == ["real@example.org"]
        assert received.message["To"] == "real@example.org"
        assert received.message["Bcc"] is None
        assert received.message["Cc"] is None
        assert b"evil" not in received.data

    @pytest.mark.parametrize("address", ["New.Person@Example.ORG", "  new.person@example.org "])
    def test_a_valid_address_gets_exactly_one_clean_message(self, client, forecast, address):
        response = subscribe(client, {"email": address, "cadence": "weekly"})
        assert response.status_code == 200
        [message] = mail.outbox
        assert_clean_headers(message, to=["new.person@example.org"])


# --- Signed digest links ------------------------------------------------------------------


def digest_paths(token: str) -> list[str]:
    return [
        reverse("forecasts:digest-confirm", args=[token]),
        reverse("forecasts:digest-preferences", args=[token]),
        reverse("forecasts:digest-unsubscribe", args=[token]),
    ]


def tampered(token: str) -> st.SearchStrategy[str]:
    """The token cut, extended, with one character changed, or with its parts shuffled."""
    cut = st.integers(min_value=0, max_value=len(token) - 1).map(lambda n: token[:n])
    flip = st.tuples(
        st.integers(min_value=0, max_value=len(token) - 1),
        st.sampled_from("AZaz09-_:.%~"),
    ).map(lambda pair: token[: pair[0]] + pair[1] + token[pair[0] + 1 :])
    extra = nasty_text().map(lambda text: token + text.replace("/", ""))
    parts = token.split(":")
    swapped = st.permutations(parts).map(":".join)
    return st.one_of(cut, flip, extra, swapped).filter(lambda t: t != token and t != "")


class TestDigestLinks:
    @examples
    @given(data=st.data())
    def test_a_tampered_token_changes_nothing(self, client, subscriber, data):
        token = digest_links.manage_token(subscriber)
        bad = data.draw(tampered(token))
        assume("/" not in bad and "\x00" not in bad)
        before = stored()
        for url in digest_paths(bad):
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                html = assert_refused(response)
                assert response.status_code in (400, 404, 410), (url, response.status_code)
                assert_not_echoed_raw(html, bad)
        assert stored() == before
        assert_no_mail()

    def test_a_token_of_the_other_kind_is_refused(self, client, subscriber):
        subscriber.status = SubscriberStatus.PENDING
        subscriber.confirmed_at = None
        subscriber.save()
        before = stored()
        confirm = digest_links.confirm_token(subscriber)
        manage = digest_links.manage_token(subscriber)
        for url in digest_paths(confirm)[1:]:  # a confirm token does not manage
            assert client.post(url).status_code == 400
        assert client.post(digest_paths(manage)[0]).status_code == 400
        review = signing.TimestampSigner(salt="forecasts.review-link").sign_object(
            {"s": subscriber.pk, "v": subscriber.token_version}
        )
        for url in digest_paths(review):
            assert client.post(url).status_code == 400
        assert stored() == before

    def test_an_expired_confirmation_is_refused(self, client, time_machine, settings):
        subscribe(client, {"email": "late@example.org", "cadence": "weekly"})
        late = Subscriber.objects.get(email="late@example.org")
        token = digest_links.confirm_token(late)
        time_machine.move_to(NOW + dt.timedelta(days=settings.DIGEST_CONFIRM_MAX_AGE_DAYS + 1))
        before = stored()
        response = client.post(reverse("forecasts:digest-confirm", args=[token]))
        assert_refused(response, message="expired")
        assert response.status_code == 410
        assert stored() == before

    def test_a_link_from_an_ended_subscription_is_refused_after_resubscribing(
        self, client, subscriber
    ):
        old = digest_links.manage_token(subscriber)
        client.post(reverse("forecasts:digest-unsubscribe", args=[old]))
        subscribe(client, {"email": subscriber.email, "cadence": "monthly"})
        before = stored()
        for url in digest_paths(old)[1:]:  # preferences and unsubscribe
            assert client.post(url, {"cadence": "weekly"}).status_code == 410
        assert stored() == before

    def test_a_token_names_its_subscriber_not_another(self, client, subscriber):
        other = Subscriber.objects.create(email="other@example.org")
        # Sign the other's id with this subscriber's version: only the signature's owner
        # could; a forged id without a signature is the tampering case above.
        payload = {"s": other.pk, "v": other.token_version + 5}
        token = signing.Signer(salt="forecasts.digest-manage").sign_object(payload)
        before = stored()
        assert client.post(reverse("forecasts:digest-unsubscribe", args=[token])).status_code == 410
        assert stored() == before

    @examples
    @given(
        cadence=st.one_of(nasty_text(), st.just("daily")),
        tags=st.lists(st.sampled_from(["9" * 20, "abc", "-3", "<b>"]), min_size=1, max_size=3),
    )
    def test_bad_preferences_are_form_errors(self, client, subscriber, forecast, cadence, tags):
        url = reverse("forecasts:digest-preferences", args=[digest_links.manage_token(subscriber)])
        before = stored()
        html = assert_refused(client.post(url, {"cadence": cadence, "tags": tags}))
        assert stored() == before
        assert_not_echoed_raw(html, cadence, *tags)

    @few_examples
    @given(bad=bad_bytes())
    def test_not_utf8_on_every_link_page_is_a_400(self, client, subscriber, bad):
        before = stored()
        for url in digest_paths(digest_links.manage_token(subscriber)):
            body = b"cadence=weekly&x=" + percent_encoded(bad)
            assert client.post(url, body, content_type=FORM).status_code == 400
        assert stored() == before


# --- Review links and the review page ------------------------------------------------------


def link_path(reviewer, forecast, action):
    return path(links.review_url(reviewer=reviewer, forecast=forecast, action=action))


def evidence() -> st.SearchStrategy[dict[str, str]]:
    """Resolution evidence where at least one field is bad."""
    good = {"known_on": "2025-02-01", "evidence_url": "https://example.org/r", "note": "Seen."}
    bad = st.one_of(
        st.fixed_dictionaries({"known_on": date_text()}),
        st.fixed_dictionaries({"known_on": st.sampled_from(["2023-12-31", "2025-03-02"])}),
        st.fixed_dictionaries({"evidence_url": bad_urls(), "note": st.just("")}),
        st.fixed_dictionaries({"evidence_url": bad_urls()}),
        st.fixed_dictionaries({"evidence_url": st.just(""), "note": st.sampled_from(["", " \t"])}),
        st.fixed_dictionaries({"note": st.sampled_from(["x" * 5001, "x" * 100_000, "a\x00b"])}),
    )
    return bad.map(lambda changes: {**good, **changes})


def extension() -> st.SearchStrategy[dict[str, str]]:
    """A deadline extension where at least one field is bad."""
    good = {"new_resolve_by": "2025-06-30", "reason": "Not yet known."}
    bad = st.one_of(
        st.fixed_dictionaries({"new_resolve_by": date_text()}),
        st.fixed_dictionaries({"new_resolve_by": st.sampled_from(["2025-01-31", "2024-06-01"])}),
        st.fixed_dictionaries({"reason": st.sampled_from(["", "  ", "x" * 2001, "a\x00b"])}),
    )
    return bad.map(lambda changes: {**good, **changes})


class TestReviewLinks:
    @examples
    @given(action=st.sampled_from(["yes", "no", "annul"]), data=evidence())
    def test_bad_evidence_keeps_the_link_unused_and_changes_nothing(
        self, client, forecast, reviewer, action, data
    ):
        before = stored()
        response = client.post(link_path(reviewer, forecast, action), data)
        html = assert_refused(response)
        assert response.status_code == 200
        assert stored() == before
        assert_not_echoed_raw(html, *data.values())

    @examples
    @given(data=extension())
    def test_a_bad_extension_changes_nothing(self, client, forecast, reviewer, data):
        before = stored()
        response = client.post(link_path(reviewer, forecast, "extend"), data)
        assert_refused(response)
        assert response.status_code == 200
        assert stored() == before

    @examples
    @given(data=st.data())
    def test_a_tampered_link_is_refused(self, client, forecast, reviewer, data):
        token = links.review_token(reviewer=reviewer, forecast=forecast, action="yes")
        bad = data.draw(tampered(token))
        assume("/" not in bad and "\x00" not in bad)
        before = stored()
        url = reverse("forecasts:review-link", args=[forecast.slug, bad])
        for response in (
            client.get(url),
            client.post(url, {"note": "x", "known_on": "2025-02-01"}),
        ):
            html = assert_refused(response)
            assert response.status_code in (400, 404, 410)
            assert_not_echoed_raw(html, bad)
        assert stored() == before

    def test_expired_replayed_and_misdirected_links_are_refused(
        self, client, forecast, reviewer, time_machine, settings
    ):
        good = {"known_on": "2025-02-01", "note": "Seen."}
        other = ForecastFactory(made_on=dt.date(2024, 1, 10), resolve_by=dt.date(2025, 1, 31))
        ReviewerAssignment.objects.create(forecast=other, reviewer=reviewer)
        used = link_path(reviewer, forecast, "yes")
        extend = link_path(reviewer, forecast, "extend")
        # Another forecast's link on this forecast's page.
        token = links.review_token(reviewer=reviewer, forecast=other, action="no")
        misdirected = reverse("forecasts:review-link", args=[forecast.slug, token])
        # A digest token where a review token belongs (same key, other salt).
        digest = Subscriber.objects.create(email="d@example.org")
        foreign = reverse(
            "forecasts:review-link", args=[forecast.slug, digest_links.manage_token(digest)]
        )
        assert client.post(used, good).status_code == 200  # used once
        before = stored()
        assert_refused(client.post(used, good), message="already been used")
        assert_refused(client.post(extend, {"new_resolve_by": "2025-06-30", "reason": "x"}))
        assert client.post(misdirected, good).status_code == 400
        assert client.post(foreign, good).status_code == 400
        fresh = link_path(reviewer, other, "no")
        time_machine.move_to(NOW + dt.timedelta(days=settings.REVIEW_LINK_MAX_AGE_DAYS + 1))
        assert_refused(client.post(fresh, good), message="expired")
        intruder = Client()
        intruder.force_login(UserFactory(username="ivan"))
        assert intruder.post(fresh, good).status_code in (403, 410)
        assert stored() == before

    @few_examples
    @given(bad=bad_bytes())
    def test_not_utf8_is_a_400(self, client, forecast, reviewer, bad):
        before = stored()
        body = b"known_on=2025-02-01&note=" + percent_encoded(bad)
        response = client.post(link_path(reviewer, forecast, "yes"), body, content_type=FORM)
        assert response.status_code == 400
        assert stored() == before


class TestReviewPage:
    @pytest.fixture
    def logged_in(self, client, reviewer):
        client.force_login(reviewer)
        return client

    def url(self, forecast):
        return reverse("forecasts:review-forecast", args=[forecast.slug])

    @examples
    @given(data=evidence(), outcome=st.one_of(st.just("YES"), nasty_text()))
    def test_bad_resolution_is_a_form_error(self, logged_in, forecast, data, outcome):
        before = stored()
        posted = {f"resolve-{name}": value for name, value in {**data, "outcome": outcome}.items()}
        html = assert_refused(logged_in.post(self.url(forecast), posted))
        assert stored() == before
        assert_not_echoed_raw(html, *posted.values())

    @examples
    @given(data=extension())
    def test_bad_extension_is_a_form_error(self, logged_in, forecast, data):
        before = stored()
        posted = {"extend": "1", **{f"extend-{name}": value for name, value in data.items()}}
        html = assert_refused(logged_in.post(self.url(forecast), posted))
        assert stored() == before
        assert_not_echoed_raw(html, *data.values())

    def test_a_far_deadline_is_refused_so_the_page_keeps_working(self, logged_in, forecast):
        # 9999-12-31 was stored; then this page (the 90-day default) and the public
        # page (the chart's date axis) answered 500.
        posted = {"extend": "1", "extend-new_resolve_by": "9999-12-31", "extend-reason": "Later."}
        assert_refused(logged_in.post(self.url(forecast), posted), message="The date must be")
        assert logged_in.get(self.url(forecast)).status_code == 200
        assert logged_in.get(forecast.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("payload", SCRIPTS)
def test_markup_in_the_subscribe_form_is_escaped(client, payload):
    html = subscribe(client, {"email": payload, "cadence": payload}).content.decode()
    assert_not_echoed_raw(html, payload)


@examples
@given(cadence=st.one_of(nasty_text(), st.sampled_from(["", "daily", "WEEKLY"])))
def test_the_staff_digest_form_says_what_is_wrong(client, cadence):
    # The cadence's error was never shown: the page came back unchanged, without a word.
    client.force_login(UserFactory(username="stan", is_staff=True, email="stan@example.org"))
    before = stored()
    response = client.post(reverse("forecasts:digest-staff"), {"cadence": cadence})
    html = assert_refused(response)
    assert "Select a valid choice" in html or "This field is required" in html
    assert stored() == before
    assert_not_echoed_raw(html, cadence)


# --- Query parameters of the public pages ------------------------------------------------

PAGES_WITH_PARAMETERS = [
    ("forecasts:home", ["tag", "period", "sort"]),
    ("forecasts:list", ["status", "page"]),
    ("forecasts:scores", ["x"]),
]


@examples
@given(
    page=st.sampled_from(PAGES_WITH_PARAMETERS),
    choice=st.integers(min_value=0, max_value=2),
    value=st.one_of(
        st.sampled_from(["%00", "a%00b", "%ED%A0%80", "%FF", "9" * 30, "-1", "0", "1e3"]),
        nasty_text().map(lambda text: percent_encoded(text.encode()).decode()),
    ),
)
def test_query_parameters_are_a_400_or_ignored_never_a_500(client, forecast, page, choice, value):
    # "?tag=%00" was a 500 on PostgreSQL, which refuses NUL in a query parameter.
    name, parameters = page
    parameter = parameters[choice % len(parameters)]
    before = stored()
    response = client.get(f"{reverse(name)}?{parameter}={value}")
    assert response.status_code in (200, 400), (name, parameter, value)
    assert stored() == before
    leaderboard = reverse("forecasts:leaderboard", args=["forecasters"])
    assert client.get(f"{leaderboard}?{parameter}={value}").status_code in (200, 400)
