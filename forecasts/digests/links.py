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
from django.urls import reverse

from forecasts.digests.models import Subscriber
from forecasts.mail.links import LinkRefused, int_fields, token_read, token_sign

_CONFIRM_SALT = "forecasts.digest-confirm"
_MANAGE_SALT = "forecasts.digest-manage"


def _payload(subscriber: Subscriber) -> dict[str, int]:
    return {"s": subscriber.pk, "v": subscriber.token_version}


def confirm_token(subscriber: Subscriber) -> str:
    return token_sign(_payload(subscriber), salt=_CONFIRM_SALT, expires=True)


def manage_token(subscriber: Subscriber) -> str:
    return token_sign(_payload(subscriber), salt=_MANAGE_SALT, expires=False)


def confirm_url(subscriber: Subscriber) -> str:
    path = reverse("forecasts:digest-confirm", kwargs={"token": confirm_token(subscriber)})
    return settings.SITE_URL + path


def manage_url(page: str, token: str) -> str:
    """The absolute link to a subscriber's ``"preferences"`` or ``"unsubscribe"`` page for a
    manage token (a digest rendered once for many subscribers passes a placeholder)."""
    return settings.SITE_URL + reverse(f"forecasts:digest-{page}", kwargs={"token": token})


def unsubscribe_url(subscriber: Subscriber) -> str:
    return manage_url("unsubscribe", manage_token(subscriber))


def preferences_url(subscriber: Subscriber) -> str:
    return manage_url("preferences", manage_token(subscriber))


def subscriber_from_token(token: str, *, purpose: str) -> Subscriber:
    """The subscriber a ``confirm`` or ``manage`` token names, or ``LinkRefused``."""
    if purpose == "confirm":
        payload = token_read(
            token,
            salt=_CONFIRM_SALT,
            max_age=dt.timedelta(days=settings.DIGEST_CONFIRM_MAX_AGE_DAYS),
            expired_message=(
                f"This confirmation link has expired (links work for "
                f"{settings.DIGEST_CONFIRM_MAX_AGE_DAYS} days). Subscribe again for a new one."
            ),
        )
    elif purpose == "manage":
        payload = token_read(token, salt=_MANAGE_SALT, max_age=None)
    else:
        raise ValueError(f"Unknown link purpose {purpose!r}.")
    int_fields(payload, "s", "v")
    subscriber = Subscriber.objects.filter(pk=payload["s"]).first()
    if subscriber is None or subscriber.token_version != payload["v"]:
        raise LinkRefused(
            "gone", "This link is no longer valid: the subscription it was sent for has ended."
        )
    return subscriber
