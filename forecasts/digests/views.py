"""Digest pages: subscribe, confirm, preferences, one-click unsubscribe, staff opt-in.

Thin: the forms collect, the services act. Every link page shows a confirmation
on GET (mail scanners follow links) and acts on POST.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from forecasts.digests import links as digest_links
from forecasts.digests import subscriptions
from forecasts.digests import tasks as digest_tasks
from forecasts.digests.forms import DigestPreferencesForm, StaffDigestForm, SubscribeForm
from forecasts.digests.models import Subscriber, SubscriberStatus
from forecasts.mail.links import LinkRefused
from tracker.clientip import client_ip


def _rate_limited(request: HttpRequest) -> bool:
    """More than ``DIGEST_SUBSCRIBE_RATE_PER_HOUR`` posts from this client this hour."""
    key = f"digest-subscribe:{client_ip(request)}"
    counters = caches["state"]  # never evicted by page entries (settings.CACHES)
    counters.add(key, 0, timeout=3600)
    try:
        count = counters.incr(key)
    except ValueError:  # expired between add and incr
        counters.set(key, 1, timeout=3600)
        count = 1
    return count > settings.DIGEST_SUBSCRIBE_RATE_PER_HOUR


@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm()
    if request.method == "POST":
        if _rate_limited(request):
            return render(request, "digests/rate_limited.html", status=429)
        form = SubscribeForm(request.POST)
        if form.is_valid():  # the input's shape only: nothing here depends on the address
            data = form.cleaned_data
            # The lookup, the writes and the confirmation's SMTP round trip happen in a
            # worker: done here, they made the page slower for an address not yet
            # subscribed, which told anyone timing it who is (issue 16, 5).
            digest_tasks.digests_subscribe_later(
                email=data["email"],
                cadence=data["cadence"],
                tags=list(data["tags"]),
                forecasters=list(data["forecasters"]),
            )
            # The same page whether the address was new, pending or subscribed already.
            return render(request, "digests/subscribe_done.html")
    return render(request, "digests/subscribe.html", {"form": form})


def _refused(request: HttpRequest, refused: LinkRefused) -> HttpResponse:
    return render(request, "digests/link_refused.html", {"refused": refused}, status=refused.status)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = digest_links.subscriber_from_token(token, purpose="confirm")
    except LinkRefused as refused:
        return _refused(request, refused)
    if subscriber.status not in (SubscriberStatus.PENDING, SubscriberStatus.CONFIRMED):
        return _refused(
            request,
            LinkRefused("gone", "This subscription has ended; subscribe again."),
        )
    if request.method == "POST":
        subscriber = subscriptions.subscriber_confirm(subscriber=subscriber, now=timezone.now())
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return render(
            request,
            "digests/confirmed.html",
            {"subscriber": subscriber, "preferences_url": digest_links.preferences_url(subscriber)},
        )
    return render(request, "digests/confirm.html", {"subscriber": subscriber})


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = digest_links.subscriber_from_token(token, purpose="manage")
    except LinkRefused as refused:
        return _refused(request, refused)
    saved = False
    if request.method == "POST":
        form = DigestPreferencesForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            subscriber = subscriptions.subscriber_update_preferences(
                subscriber=subscriber,
                cadence=data["cadence"],
                tags=data["tags"],
                forecasters=data["forecasters"],
                now=timezone.now(),
            )
            saved = True
    else:
        form = DigestPreferencesForm(
            initial={
                "cadence": subscriber.cadence,
                "tags": list(subscriber.tags.all()),
                "forecasters": list(subscriber.forecasters.all()),
            }
        )
    return render(
        request,
        "digests/preferences.html",
        {"form": form, "subscriber": subscriber, "token": token, "saved": saved},
    )


@csrf_exempt  # RFC 8058: mail clients POST here without cookies or a CSRF token.
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET only asks; a POST (one click in the mail client, or the button) unsubscribes.

    Idempotent, needs no session: the signed token is the authority.
    """
    try:
        subscriber = digest_links.subscriber_from_token(token, purpose="manage")
    except LinkRefused as refused:
        return _refused(request, refused)
    if request.method == "POST":
        subscriber = subscriptions.subscriber_unsubscribe(subscriber=subscriber, now=timezone.now())
        return render(
            request, "digests/unsubscribed.html", {"subscriber": subscriber, "token": token}
        )
    return render(request, "digests/unsubscribe.html", {"subscriber": subscriber, "token": token})


@staff_member_required
@never_cache
@require_http_methods(["GET", "POST"])
def staff_digest(request: HttpRequest) -> HttpResponse:
    """A staff member's own digest, with their overdue review queue."""
    user = request.user
    current = Subscriber.objects.filter(
        email=(getattr(user, "email", "") or "").strip().lower()
    ).first()
    error = ""
    if request.method == "POST":
        form = StaffDigestForm(request.POST)
        if form.is_valid():
            try:
                current = subscriptions.subscriber_staff_opt_in(
                    user=user,
                    cadence=form.cleaned_data["cadence"],
                    include_review_queue=form.cleaned_data["include_review_queue"],
                    now=timezone.now(),
                )
            except ValueError as exc:
                error = str(exc)
    else:
        form = StaffDigestForm(
            initial={
                "cadence": current.cadence if current else "weekly",
                "include_review_queue": current.include_review_queue if current else True,
            }
        )
    return render(
        request,
        "digests/staff.html",
        {
            "form": form,
            "current": current,
            "error": error,
            "preferences_url": digest_links.preferences_url(current) if current else "",
        },
    )
