"""Security headers, admin brute-force lockout, health checks, and what the logs may hold."""

import json
import logging
import logging.config
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from forecasts.models import Forecast
from forecasts.reviews import links
from forecasts.web import health
from tracker.logs import REDACTED, ContextFilter, RedactFilter, logging_config

pytestmark = pytest.mark.django_db

PASSWORD = "a long test password"


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.org", PASSWORD)


def _login(client, username, password, address):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


@pytest.mark.parametrize("path", ["/", "/forecasts/", "/api/docs", "/admin/login/"])
def test_pages_carry_a_content_security_policy(client, seeded, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy["style-src-elem"]
    assert "<script>" not in response.content.decode()  # no inline script to allow


def test_an_attacker_guessing_passwords_locks_out_only_themselves(client, admin_user, settings):
    attacker, admin_address = "203.0.113.9", "198.51.100.7"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, "admin", "guess", attacker)
        assert response.status_code == 200  # the form again, with an error
    assert _login(client, "admin", "guess", attacker).status_code == 429  # the last straw
    locked = _login(client, "admin", PASSWORD, attacker)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    # The real admin, from their own address, still gets in.
    response = _login(client, "admin", PASSWORD, admin_address)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_failed_logins_below_the_limit_do_not_lock(client, admin_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "admin", "guess", "203.0.113.9")
    assert _login(client, "admin", PASSWORD, "203.0.113.9").status_code == 302


def test_healthz_checks_the_database_and_the_broker(client, monkeypatch):
    assert client.get("/healthz").content == b"ok\n"

    def broker_down():
        raise ConnectionRefusedError("no broker")

    monkeypatch.setitem(health.HEALTH_CHECKS, "broker", broker_down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable: broker\n"


def test_responses_carry_a_request_id(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-12345")["X-Request-ID"] == "abc-12345"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\nInjected: yes")["X-Request-ID"]
    assert "\n" not in forged
    assert forged != "x\nInjected: yes"


def test_review_tokens_never_reach_the_logs(client, seeded, caplog):
    reviewer = get_user_model().objects.create_user("rita", "rita@example.org", PASSWORD)
    forecast = Forecast.objects.get(slug="dprk-concessions-during-campaign")
    url = links.review_url(reviewer=reviewer, forecast=forecast, action="no")
    token = url.rstrip("/").rsplit("/", 1)[1]
    wrong = url.replace(f"/{forecast.slug}/", "/trump-wins-second-term/")
    caplog.handler.addFilter(RedactFilter())
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.request").warning("Bad Request: %s", wrong)
        logging.getLogger("gunicorn.access").info('"GET %s HTTP/1.1" 200', url)
    assert caplog.records
    text = caplog.text
    assert token not in text
    assert text.count(REDACTED) == 2


def test_json_logs_carry_request_and_task_ids(capsys):
    config = logging_config(level="INFO", json=True)
    formatter_spec = dict(config["formatters"]["json"])  # type: ignore[index]
    factory = formatter_spec.pop("()")
    module, name = factory.rsplit(".", 1)
    formatter = getattr(__import__(module, fromlist=[name]), name)(**formatter_spec)
    record = logging.LogRecord("forecasts", logging.INFO, __file__, 1, "sent %d", (3,), None)
    ContextFilter().filter(record)
    line = json.loads(formatter.format(record))
    assert line["message"] == "sent 3"
    assert line["level"] == "INFO"
    assert line["logger"] == "forecasts"
    assert line["request_id"] == "-"
    assert line["task_id"] == "-"


@pytest.mark.parametrize("embedded", [True, False])
def test_the_embedded_brokers_hostname_warning_is_not_printed(embedded, capsys):
    logger = logging.getLogger("kombu.connection")
    logger.filters.clear()  # dictConfig adds a logger's filters, never removes them
    logging.config.dictConfig(logging_config(level="INFO", json=False, embedded_broker=embedded))
    try:
        logger.warning("No hostname was supplied. Reverting to default '%s'", "localhost")
        logger.warning("Connection to broker lost.")
        printed = capsys.readouterr().err
    finally:
        logger.filters.clear()
        logging.config.dictConfig(settings.LOGGING)
    assert ("No hostname was supplied" in printed) is not embedded
    assert "Connection to broker lost." in printed


def test_django_request_logs_carry_the_request_id_and_no_token(client, seeded, caplog):
    caplog.handler.addFilter(ContextFilter())
    caplog.handler.addFilter(RedactFilter())
    reviewer = get_user_model().objects.create_user("rita", "rita@example.org", PASSWORD)
    forecast = Forecast.objects.get(slug="dprk-concessions-during-campaign")
    url = links.review_url(reviewer=reviewer, forecast=forecast, action="no")
    tampered = url[:-3] + "xx/"
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(tampered, HTTP_X_REQUEST_ID="req-12345678")
    assert response.status_code == 400
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.request_id == "req-12345678"
    assert REDACTED in record.getMessage()
    assert tampered.rsplit("/", 2)[1] not in caplog.text


def test_digest_link_tokens_never_reach_the_logs(caplog):
    from forecasts.digests import links as digest_links
    from forecasts.models import Subscriber

    subscriber = Subscriber.objects.create(email="reader@example.org")
    token = digest_links.manage_token(subscriber)
    caplog.handler.addFilter(RedactFilter())
    with caplog.at_level(logging.INFO):
        logging.getLogger("gunicorn.access").info('"POST /digests/unsubscribe/%s/ HTTP/1.1"', token)
    assert token not in caplog.text
    assert REDACTED in caplog.text
    # Ordinary messages with colons are left alone.
    logging.getLogger("forecasts").info("Snapshot scores as of 2026-11-30: 73360 resolved")
    assert "as of 2026-11-30: 73360 resolved" in caplog.text


@pytest.mark.parametrize("encode", [quote, lambda token: quote(quote(token))])
def test_percent_encoded_tokens_never_reach_the_logs(caplog, encode):
    """Issue 16 (4): a browser may send the token's colons as %3A; gunicorn logs the path
    as sent."""
    from forecasts.digests import links as digest_links
    from forecasts.models import Subscriber

    token = digest_links.manage_token(Subscriber.objects.create(email="reader@example.org"))
    encoded = encode(token)
    assert "%" in encoded
    assert ":" not in encoded
    caplog.handler.addFilter(RedactFilter())
    with caplog.at_level(logging.INFO):
        logging.getLogger("gunicorn.access").info('"GET /digests/manage/%s/ HTTP/1.1"', encoded)
    assert encoded not in caplog.text
    assert token.rsplit(":", 1)[1] not in caplog.text  # not even the signature
    assert REDACTED in caplog.text


def test_redacting_a_long_path_takes_time_in_proportion_to_it():
    """A request line of 100,000 word characters (none a token) is redacted in well under
    a second: every position inside a word was a start of the pattern, and matching was
    quadratic (8,000 characters took a second)."""
    for message in ("GET /" + "a" * 100_000, "x" + "a%3A" * 25_000, "abcdefghij:" * 10_000):
        record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, message, (), None)
        began = time.perf_counter()
        RedactFilter().filter(record)
        assert time.perf_counter() - began < 1.0
        assert record.getMessage() == message
