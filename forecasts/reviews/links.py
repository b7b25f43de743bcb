"""Signed one-click review links: resolve YES / NO / ANNUL, or extend the deadline.

A token names the reviewer, the forecast, the action and a fingerprint of the
forecast's state (deadline and current resolution). It is refused when it is
tampered with, older than ``REVIEW_LINK_MAX_AGE_DAYS``, about another
forecast or reviewer than the page it is used on, already used (a
``ReviewLinkUse`` row), or when the forecast changed since it was sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.urls import reverse

from forecasts.core.models import DeadlineExtension, Forecast, Resolution
from forecasts.core.services import forecast_extend, forecast_resolve
from forecasts.mail.links import INVALID_MESSAGE, LinkRefused, int_fields, token_read, token_sign
from forecasts.reviews.models import ReviewLinkUse

ACTIONS = {
    "yes": "Resolve YES",
    "no": "Resolve NO",
    "annul": "Annul",
    "extend": "Extend the deadline",
}
OUTCOME_FOR_ACTION = {"yes": "YES", "no": "NO", "annul": "ANNULLED"}
_SALT = "forecasts.review-link"


@dataclass(frozen=True)
class ReviewLink:
    reviewer: User
    forecast: Forecast
    action: str
    digest: str

    @property
    def label(self) -> str:
        return ACTIONS[self.action]


UNRESOLVED = 0


def forecast_state(forecast: Forecast, *, current_resolution_id: int | None = None) -> str:
    """Changes whenever the forecast is resolved, corrected or extended.

    Pass ``current_resolution_id`` (``UNRESOLVED`` for none) when it is already
    known, e.g. for a batch of due forecasts, to save a query per link.
    """
    if current_resolution_id is None:
        current_resolution_id = (
            Resolution.objects.filter(forecast=forecast, is_current=True)
            .values_list("pk", flat=True)
            .first()
        ) or UNRESOLVED
    return f"{forecast.resolve_by.isoformat()}:{current_resolution_id}"


def review_token(
    *, reviewer: User, forecast: Forecast, action: str, current_resolution_id: int | None = None
) -> str:
    if action not in ACTIONS:
        raise ValueError(f"Unknown review action {action!r}; use one of {', '.join(ACTIONS)}.")
    state = forecast_state(forecast, current_resolution_id=current_resolution_id)
    payload = {"r": reviewer.pk, "f": forecast.pk, "a": action, "s": state}
    return token_sign(payload, salt=_SALT, expires=True)


def review_url(
    *, reviewer: User, forecast: Forecast, action: str, current_resolution_id: int | None = None
) -> str:
    """The absolute link for an e-mail (built from SITE_URL, never from a request)."""
    token = review_token(
        reviewer=reviewer,
        forecast=forecast,
        action=action,
        current_resolution_id=current_resolution_id,
    )
    path = reverse("forecasts:review-link", kwargs={"slug": forecast.slug, "token": token})
    return settings.SITE_URL + path


def review_link_check(
    token: str, *, slug: str, user: User | AnonymousUser | None = None
) -> ReviewLink:
    """The link's reviewer, forecast and action, or ``LinkRefused`` saying why not.

    ``slug`` is the forecast the page is about (from the URL); ``user`` is whoever
    is logged in, if anyone: a link sent to one reviewer is not usable by another.
    """
    payload = token_read(
        token,
        salt=_SALT,
        max_age=dt.timedelta(days=settings.REVIEW_LINK_MAX_AGE_DAYS),
        expired_message=(
            f"This link has expired: links work for {settings.REVIEW_LINK_MAX_AGE_DAYS} days. "
            "Use your review queue instead."
        ),
    )
    int_fields(payload, "f", "r")
    if payload.get("a") not in ACTIONS:
        raise LinkRefused("invalid", INVALID_MESSAGE)
    digest = hashlib.sha256(token.encode()).hexdigest()
    if ReviewLinkUse.objects.filter(digest=digest).exists():
        raise LinkRefused("used", "This link has already been used; each link works once.")
    forecast = Forecast.objects.filter(pk=payload["f"]).first()
    reviewer = get_user_model().objects.filter(pk=payload["r"], is_active=True).first()
    if forecast is None or reviewer is None:
        raise LinkRefused("missing", "The forecast or the reviewer of this link no longer exists.")
    if forecast.slug != slug:
        raise LinkRefused("invalid", "This link belongs to another forecast.")
    if user is not None and user.is_authenticated and user.pk != reviewer.pk:
        raise LinkRefused(
            "forbidden",
            f"This link was sent to another reviewer; you are logged in as {user}.",
        )
    if forecast_state(forecast) != payload.get("s"):
        raise LinkRefused(
            "changed",
            "This forecast has changed since the link was sent (it was resolved, corrected or "
            "its deadline moved); open it again from your review queue.",
        )
    return ReviewLink(reviewer=reviewer, forecast=forecast, action=payload["a"], digest=digest)


def review_link_use(
    *, link: ReviewLink, arguments: dict[str, Any]
) -> Resolution | DeadlineExtension:
    """Use a checked link once: record its use, then resolve (with ``arguments``: the
    known-on date and evidence) or extend (new deadline and reason), in one transaction.

    The use is recorded first, so a replay racing this one meets the unique digest
    and gets :class:`LinkRefused` ("used"). The core service's ``ValidationError``
    rolls everything back: a refused resolution leaves the link usable.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                ReviewLinkUse.objects.create(
                    digest=link.digest,
                    forecast=link.forecast,
                    reviewer=link.reviewer,
                    action=link.action,
                )
        except IntegrityError:
            raise LinkRefused("used", "This link has already been used.") from None
        if link.action == "extend":
            return forecast_extend(forecast=link.forecast, extended_by=link.reviewer, **arguments)
        return forecast_resolve(
            forecast=link.forecast,
            resolved_by=link.reviewer,
            **{**arguments, "outcome": OUTCOME_FOR_ACTION[link.action]},
        )
