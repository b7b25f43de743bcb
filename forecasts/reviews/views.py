"""Review pages: a reviewer's queue, resolving one forecast, and the e-mailed one-click links.

Thin: the forms collect, the core services resolve and extend.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from forecasts.core import services as core_services
from forecasts.core.forms import CorrectionForm, ExtendForm, ResolveForm, add_service_errors
from forecasts.core.models import Forecast
from forecasts.core.permissions import can_resolve
from forecasts.core.selectors import forecasts_to_review
from forecasts.mail.links import LinkRefused
from forecasts.reviews import links


@login_required
@require_safe
def review_queue(request: HttpRequest) -> HttpResponse:
    """The reviewer's own queue: due forecasts they are responsible for."""
    forecasts = forecasts_to_review(user=request.user, at=timezone.now())  # type: ignore[arg-type]
    today = timezone.localdate()
    rows = [(forecast, (today - forecast.resolve_by).days) for forecast in forecasts]
    return render(request, "forecasts/review_queue.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def review_forecast(request: HttpRequest, slug: str) -> HttpResponse:
    """Resolve or extend one forecast (login and object-level permission required)."""
    forecast = get_object_or_404(Forecast.objects.published(), slug=slug)
    if not can_resolve(request.user, forecast):
        raise PermissionDenied("You are not a reviewer of this forecast.")
    current = forecast.current_resolution()

    def resolve_form_for(data: Any = None) -> ResolveForm:
        if current is None:
            return ResolveForm(data, prefix="resolve", deadline=forecast.resolve_by)
        return CorrectionForm(data, prefix="resolve", deadline=forecast.resolve_by, current=current)

    resolve_form = resolve_form_for()
    extend_form = ExtendForm(prefix="extend", current=forecast.resolve_by)
    if request.method == "POST":
        if "extend" in request.POST:
            extend_form = ExtendForm(request.POST, prefix="extend")
            if _extend(extend_form, forecast, request.user):  # type: ignore[arg-type]
                messages.success(request, "Deadline extended.")
                return redirect(forecast)
        else:
            resolve_form = resolve_form_for(request.POST)
            if _resolve(resolve_form, forecast, request.user):  # type: ignore[arg-type]
                messages.success(request, "Forecast resolved.")
                return redirect(forecast)
    return render(
        request,
        "forecasts/review_forecast.html",
        {
            "forecast": forecast,
            "current_resolution": current,
            "resolve_form": resolve_form,
            "extend_form": extend_form,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def review_link(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    """A one-click link from a review e-mail. GET only shows what would happen (mail
    scanners follow links); the reviewer confirms with a POST that adds evidence.

    Never cached (a shared cache must not keep a page behind a token), and the page
    names the reviewer only to the reviewer signed in: anyone else holding the link (a
    forwarded e-mail, a scanner) learns nothing of who reviews the forecast."""
    try:
        link = links.review_link_check(token, slug=slug, user=request.user)
    except LinkRefused as refused:
        return _link_refused(request, refused)
    if not can_resolve(link.reviewer, link.forecast):
        return _link_refused(
            request,
            LinkRefused("forbidden", "You are no longer a reviewer of this forecast."),
        )
    extending = link.action == "extend"
    if extending:
        form: ResolveForm | ExtendForm = ExtendForm(current=link.forecast.resolve_by)
    else:
        form = ResolveForm(
            fixed_outcome=links.OUTCOME_FOR_ACTION[link.action], deadline=link.forecast.resolve_by
        )
    if request.method == "POST":
        form = (
            ExtendForm(request.POST)
            if extending
            else ResolveForm(
                request.POST,
                fixed_outcome=links.OUTCOME_FOR_ACTION[link.action],
                deadline=link.forecast.resolve_by,
            )
        )
        if form.is_valid():
            arguments = (
                {
                    "new_resolve_by": form.cleaned_data["new_resolve_by"],
                    "reason": form.cleaned_data["reason"],
                }
                if isinstance(form, ExtendForm)
                else form.service_arguments()
            )
            arguments.pop("outcome", None)  # the link's action fixes it
            try:
                links.review_link_use(link=link, arguments=arguments)
            except LinkRefused as refused:
                return _link_refused(request, refused)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return render(
                    request,
                    "forecasts/review_link_done.html",
                    {
                        "forecast": link.forecast,
                        "link": link,
                        "resolution": link.forecast.current_resolution(),
                    },
                )
    return render(
        request,
        "forecasts/review_link.html",
        {
            "link": link,
            "form": form,
            "forecast": link.forecast,
            "signed_in_as_reviewer": request.user.is_authenticated
            and request.user.pk == link.reviewer.pk,
        },
    )


def _link_refused(request: HttpRequest, refused: LinkRefused) -> HttpResponse:
    return render(
        request, "forecasts/review_link_refused.html", {"refused": refused}, status=refused.status
    )


def _resolve(form: ResolveForm, forecast: Forecast, user: User) -> bool:
    """Run the resolve service from a valid form; errors go back onto the form."""
    if not form.is_valid():
        return False
    try:
        core_services.forecast_resolve(
            forecast=forecast, resolved_by=user, **form.service_arguments()
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True


def _extend(form: ExtendForm, forecast: Forecast, user: User) -> bool:
    if not form.is_valid():
        return False
    try:
        core_services.forecast_extend(
            forecast=forecast,
            new_resolve_by=form.cleaned_data["new_resolve_by"],
            reason=form.cleaned_data["reason"],
            extended_by=user,
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return False
    return True
