"""Signed links for digest subscribers: confirm the subscription, manage it, unsubscribe.

A token names the subscriber and their ``token_version``: re-subscribing after an
unsubscribe bumps the version, so links from earlier e-mails stop working. The
confirmation token expires (``DIGEST_CONFIRM_MAX_AGE_DAYS``); the manage token in
every digest does not (RFC 8058 asks for unsubscribe links that keep working).
Tokens carry no e-mail address.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

from forecasts.models import Subscriber

_CONFIRM_SALT = "forecasts.digest-confirm"
_MANAGE_SALT = "forecasts.digest-manage"


class LinkRefused(Exception):
    """The link cannot be used; ``message`` says why in words for the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _payload(subscriber: Subscriber) -> dict[str, int]:
    return {"s": subscriber.pk, "v": subscriber.token_version}


def confirm_token(subscriber: Subscriber) -> str:
    return signing.TimestampSigner(salt=_CONFIRM_SALT).sign_object(_payload(subscriber))


def manage_token(subscriber: Subscriber) -> str:
    return signing.Signer(salt=_MANAGE_SALT).sign_object(_payload(subscriber))


def confirm_url(subscriber: Subscriber) -> str:
    path = reverse("forecasts:digest-confirm", kwargs={"token": confirm_token(subscriber)})
    return settings.SITE_URL + path


def unsubscribe_url(subscriber: Subscriber, *, token: str | None = None) -> str:
    token = token or manage_token(subscriber)
    return settings.SITE_URL + reverse("forecasts:digest-unsubscribe", kwargs={"token": token})


def preferences_url(subscriber: Subscriber, *, token: str | None = None) -> str:
    token = token or manage_token(subscriber)
    return settings.SITE_URL + reverse("forecasts:digest-preferences", kwargs={"token": token})


_INVALID = "This link is not valid: it may have been cut or altered."


def subscriber_from_token(token: str, *, purpose: str) -> Subscriber:
    """The subscriber a ``confirm`` or ``manage`` token names, or ``LinkRefused``."""
    try:
        if purpose == "confirm":
            max_age = dt.timedelta(days=settings.DIGEST_CONFIRM_MAX_AGE_DAYS)
            payload = signing.TimestampSigner(salt=_CONFIRM_SALT).unsign_object(
                token, max_age=max_age
            )
        elif purpose == "manage":
            payload = signing.Signer(salt=_MANAGE_SALT).unsign_object(token)
        else:
            raise ValueError(f"Unknown link purpose {purpose!r}.")
    except signing.SignatureExpired:
        raise LinkRefused(
            "expired",
            f"This confirmation link has expired (links work for "
            f"{settings.DIGEST_CONFIRM_MAX_AGE_DAYS} days). Subscribe again for a new one.",
        ) from None
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        raise LinkRefused("invalid", _INVALID) from None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("s"), int)
        or not isinstance(payload.get("v"), int)
    ):
        raise LinkRefused("invalid", _INVALID)
    subscriber = Subscriber.objects.filter(pk=payload["s"]).first()
    if subscriber is None or subscriber.token_version != payload["v"]:
        raise LinkRefused(
            "gone", "This link is no longer valid: the subscription it was sent for has ended."
        )
    return subscriber
