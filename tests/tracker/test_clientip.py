"""The client address behind reverse proxies: lockouts and rate limits key on it."""

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from tracker.clientip import client_ip

PASSWORD = "a long test password"
PROXY = "10.0.0.5"


def request(remote: str = PROXY, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, None, PROXY),
        (0, "203.0.113.9", PROXY),  # no proxy trusted: the header is anyone's to send
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own entry is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.4", "203.0.113.9"),
        (2, "203.0.113.9", PROXY),  # fewer entries than proxies: not through all of them
        (1, None, PROXY),
        (1, "", PROXY),
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, " 203.0.113.9 ", "203.0.113.9"),
    ],
)
def test_the_client_is_the_entry_the_outermost_trusted_proxy_wrote(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request(forwarded=forwarded)) == expected


@pytest.mark.django_db
def test_behind_a_proxy_a_lockout_keys_on_the_client_not_the_proxy(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    admin_user = get_user_model().objects.create_superuser("admin", "a@example.org", PASSWORD)

    def login(password: str, address: str, spoofed: str = ""):
        return client.post(
            reverse("admin:login"),
            {"username": "admin", "password": password, "next": "/admin/"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"{spoofed}{address}",
        )

    for n in range(settings.AXES_FAILURE_LIMIT):
        # Changing the entries left of the proxy's own does not escape the lockout.
        login("guess", "203.0.113.9", spoofed=f"192.0.2.{n}, ")
    assert login(PASSWORD, "203.0.113.9").status_code == 429

    # Every client reaches the site through the same proxy; the admin is not locked out.
    response = login(PASSWORD, "198.51.100.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)


@pytest.mark.django_db
def test_behind_a_proxy_the_subscribe_limit_is_per_client(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.DIGEST_SUBSCRIBE_RATE_PER_HOUR = 2

    def subscribe(n: int, address: str):
        return client.post(
            "/digests/subscribe/",
            {"email": f"reader{n}@example.org", "cadence": "weekly"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=address,
        ).status_code

    assert [subscribe(n, "203.0.113.9") for n in range(3)] == [200, 200, 429]
    assert subscribe(3, "198.51.100.7") == 200
