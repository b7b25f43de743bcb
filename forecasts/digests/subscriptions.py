"""Digest subscriptions: double opt-in, preferences, unsubscribing, and the staff digest.

Nothing but the confirmation e-mail is sent to an address until it confirms.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from forecasts.core.models import Forecaster, Tag
from forecasts.digests import links as digest_links
from forecasts.digests.models import (
    Cadence,
    Subscriber,
    SubscriberStatus,
)
from forecasts.mail import builder as emails

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


class ConfirmationNotSent(Exception):
    """The mail server did not take a confirmation e-mail (the subscriber's id is the
    argument: the address stays out of the logs)."""


def subscriber_subscribe(
    *,
    email: str,
    cadence: str,
    tags: Iterable[Tag] = (),
    forecasters: Iterable[Forecaster] = (),
    now: dt.datetime,
) -> bool:
    """Ask ``email`` to confirm a subscription; True when a confirmation was sent.

    Nothing is sent to a confirmed address, nor more than one confirmation per
    ``DIGEST_CONFIRM_RESEND_MINUTES`` to any address, so running it twice for one
    request sends one e-mail. Raises :class:`ConfirmationNotSent` when the mail
    server did not take the confirmation; nothing is then recorded as sent, and
    calling it again tries at once.

    Whoever asked must not learn which way it went, not even by how long it took
    (that would reveal who is subscribed): the subscribe page queues it for a
    worker (``tasks.digests_subscribe``) and answers at once.
    """
    address = email.strip().lower()
    if cadence not in Cadence.values:
        raise ValueError(f"Unknown cadence {cadence!r}.")
    try:
        with transaction.atomic():
            subscriber, _ = Subscriber.objects.select_for_update().get_or_create(email=address)
            if subscriber.status == SubscriberStatus.CONFIRMED:
                return False
            resend_after = dt.timedelta(minutes=settings.DIGEST_CONFIRM_RESEND_MINUTES)
            sent = subscriber.confirmation_sent_at
            if subscriber.status == SubscriberStatus.PENDING and sent and now - sent < resend_after:
                return False
            if subscriber.status != SubscriberStatus.PENDING:
                # Links from the ended subscription must not control the new one.
                subscriber.token_version += 1
                subscriber.status = SubscriberStatus.PENDING
            subscriber.cadence = cadence
            subscriber.confirmation_sent_at = now
            subscriber.save()
            subscriber.tags.set(list(tags))
            subscriber.forecasters.set(list(forecasters))
    except IntegrityError:
        # Someone subscribed the same address at the same moment: theirs stands.
        return False
    message = emails.build_message(
        "subscription_confirm",
        {
            "confirm_url": digest_links.confirm_url(subscriber),
            "cadence": subscriber.get_cadence_display().lower(),
            "max_age_days": settings.DIGEST_CONFIRM_MAX_AGE_DAYS,
            "site_url": settings.SITE_URL,
        },
        to=[address],
        headers={"Auto-Submitted": "auto-generated"},
    )
    try:
        message.send()
    except Exception as exc:
        # Not sent, so not recorded as sent: a retry (or the person asking again) sends it.
        logger.exception("Digest confirmation to subscriber %s could not be sent.", subscriber.pk)
        Subscriber.objects.filter(pk=subscriber.pk).update(confirmation_sent_at=None)
        raise ConfirmationNotSent(subscriber.pk) from exc
    return True


def subscriber_confirm(*, subscriber: Subscriber, now: dt.datetime) -> Subscriber:
    """Confirm a pending subscription (a confirmed one stays as it is)."""
    Subscriber.objects.filter(pk=subscriber.pk, status=SubscriberStatus.PENDING).update(
        status=SubscriberStatus.CONFIRMED, confirmed_at=now, permanent_failures=0
    )
    subscriber.refresh_from_db()
    return subscriber


def subscriber_update_preferences(
    *,
    subscriber: Subscriber,
    cadence: str,
    tags: Iterable[Tag],
    forecasters: Iterable[Forecaster],
    now: dt.datetime,
) -> Subscriber:
    """Change cadence and filters; a paused or unsubscribed subscriber who saves
    preferences from their own link is subscribed again (their address is proven)."""
    if cadence not in Cadence.values:
        raise ValueError(f"Unknown cadence {cadence!r}.")
    with transaction.atomic():
        subscriber.cadence = cadence
        if subscriber.status in (SubscriberStatus.PAUSED, SubscriberStatus.UNSUBSCRIBED):
            subscriber.status = SubscriberStatus.CONFIRMED
            subscriber.confirmed_at = now
            subscriber.unsubscribed_at = None
            subscriber.permanent_failures = 0
        subscriber.save()
        subscriber.tags.set(list(tags))
        subscriber.forecasters.set(list(forecasters))
    return subscriber


def subscriber_unsubscribe(*, subscriber: Subscriber, now: dt.datetime) -> Subscriber:
    """Stop every digest at once. Idempotent: a second click changes nothing."""
    Subscriber.objects.filter(pk=subscriber.pk).exclude(
        status=SubscriberStatus.UNSUBSCRIBED
    ).update(status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=now)
    subscriber.refresh_from_db()
    return subscriber


def subscriber_admin_check(
    *, was: str | None, status: str, user: Any, include_review_queue: bool
) -> None:
    """Raise ``ValidationError`` if :func:`subscriber_admin_update` would refuse to move a
    subscription from status ``was`` (None: a new one) to these values. The admin's
    form calls it to show the rules beside the fields."""
    proven = (SubscriberStatus.CONFIRMED, SubscriberStatus.PAUSED)
    if status in proven and status != was and was not in proven:
        # Paused is confirmed but resting: reaching it from pending would be a way round.
        raise ValidationError(
            {"status": "Only the subscriber can confirm, with the link in the confirmation e-mail."}
        )
    if include_review_queue and user is None:
        raise ValidationError(
            {"include_review_queue": "The review queue needs a user whose queue it is."}
        )


@transaction.atomic
def subscriber_admin_update(
    *,
    subscriber: Subscriber | None,
    email: str,
    cadence: str,
    status: str,
    tags: Iterable[Tag],
    forecasters: Iterable[Forecaster],
    user: Any,
    include_review_queue: bool,
    now: dt.datetime,
) -> Subscriber:
    """Add a subscription (``subscriber`` None) or change one, as staff typed it in the admin.

    Double opt-in holds: only the person behind an address confirms it, by the link,
    so staff may keep a subscription confirmed, pause it or resume it, but never
    confirm (or pause) a new, pending or unsubscribed one. Nothing is sent.
    """
    record = (
        Subscriber()
        if subscriber is None
        else Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    )
    was = record.status if record.pk is not None else None
    subscriber_admin_check(
        was=was, status=status, user=user, include_review_queue=include_review_queue
    )
    ended = (SubscriberStatus.PAUSED, SubscriberStatus.UNSUBSCRIBED)
    if status != was:
        if status == SubscriberStatus.UNSUBSCRIBED:
            record.unsubscribed_at = now
        elif status == SubscriberStatus.PENDING and was in ended:
            # Links from the ended subscription must not control the new one.
            record.token_version += 1
        elif status == SubscriberStatus.CONFIRMED:  # resumed (from paused, the only way here)
            record.permanent_failures = 0
    record.email = email.strip().lower()
    record.cadence, record.status = cadence, status
    record.user, record.include_review_queue = user, include_review_queue
    record.full_clean()
    record.save()
    record.tags.set(list(tags))
    record.forecasters.set(list(forecasters))
    return record


@transaction.atomic
def subscriber_delete(*, subscriber: Subscriber) -> None:
    """Erase a subscription that has had no digest (deliveries are the sending record)."""
    if subscriber.deliveries.exists():
        raise ValidationError(
            f"Digests were sent to {subscriber}: unsubscribe it instead of deleting it."
        )
    subscriber.delete()


def subscriber_staff_opt_in(
    *, user: Any, cadence: str, include_review_queue: bool, now: dt.datetime
) -> Subscriber:
    """A staff member's digest, to their account's address, with their overdue review queue.

    The address comes from the account, which the admins set up: no confirmation e-mail.
    """
    if not (user.is_active and user.is_staff):
        raise ValueError("Only active staff members have a staff digest.")
    address = (user.email or "").strip().lower()
    if not address:
        raise ValueError("Your account has no e-mail address; ask an admin to add one.")
    with transaction.atomic():
        subscriber, _ = Subscriber.objects.select_for_update().get_or_create(email=address)
        if subscriber.status != SubscriberStatus.CONFIRMED:
            if subscriber.status != SubscriberStatus.PENDING:
                subscriber.token_version += 1
            subscriber.status = SubscriberStatus.CONFIRMED
            subscriber.confirmed_at = now
            subscriber.unsubscribed_at = None
            subscriber.permanent_failures = 0
        subscriber.user = user
        subscriber.cadence = cadence
        subscriber.include_review_queue = include_review_queue
        subscriber.save()
    return subscriber
