"""Who may resolve which forecast, and who is responsible for reviewing it.

Object-level: the admin, the review queue, one-click links and the API all ask
:func:`can_resolve` about the forecast in hand, not only about the model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.sql import Query

from forecasts.core.compiled import CompiledQuery
from forecasts.core.models import Forecast, ReviewerAssignment

REVIEWERS_GROUP = "Reviewers"
RESOLVE_PERMISSION = "forecasts.resolve_forecast"
EDIT_PERMISSION = "forecasts.change_forecast"


def can_edit(user: User | AnonymousUser | None) -> bool:
    """Editors: active staff who may change forecasts (amend published terms, record
    estimates, publish drafts)."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
        return False
    return bool(user.is_superuser or (user.is_staff and user.has_perm(EDIT_PERMISSION)))


def can_resolve(user: User | AnonymousUser | None, forecast: Forecast) -> bool:
    """Superusers; reviewers assigned to this forecast; members of Reviewers with the
    resolve permission (who cover every forecast)."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    # One round trip, its SQL compiled once (it is on the path of every resolution's
    # commit): assigned, or a member of Reviewers holding the permission through any
    # group or directly, as Django's ModelBackend grants it (``group_reviewers`` reads
    # it the same way).
    return bool(_MAY_RESOLVE.execute(user_id=user.pk, forecast_id=forecast.pk))


def _may_resolve(*, user_id: int, forecast_id: int) -> Query:
    """Whether this active user is assigned to the forecast or a reviewer holding the
    permission: an existence check."""
    member = Q(Exists(Group.objects.filter(name=REVIEWERS_GROUP, user=OuterRef("pk"))))
    holds = Q(Exists(_resolve_permission().filter(group__user=OuterRef("pk")))) | Q(
        Exists(_resolve_permission().filter(user=OuterRef("pk")))
    )
    assigned = Q(
        Exists(ReviewerAssignment.objects.filter(forecast_id=forecast_id, reviewer=OuterRef("pk")))
    )
    may = get_user_model().objects.filter(pk=user_id, is_active=True)
    check: Query = may.filter(assigned | (member & holds)).query.exists()
    return check


_MAY_RESOLVE = CompiledQuery(_may_resolve)


def _resolve_permission() -> QuerySet[Permission]:
    app_label, codename = RESOLVE_PERMISSION.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename)


def is_group_reviewer(user: User) -> bool:
    return user.groups.filter(name=REVIEWERS_GROUP).exists() and user.has_perm(RESOLVE_PERMISSION)


def group_reviewers() -> QuerySet[User]:
    """Active members of the Reviewers group who hold the resolve permission."""
    users: QuerySet[User] = get_user_model().objects.filter(
        is_active=True, groups__name=REVIEWERS_GROUP
    )
    with_permission = (
        Q(groups__permissions__codename="resolve_forecast")
        | Q(user_permissions__codename="resolve_forecast")
        | Q(is_superuser=True)
    )
    return users.filter(with_permission).distinct()


def responsible_reviewers(forecasts: Iterable[Forecast]) -> dict[int, list[User]]:
    """Who is prompted for each forecast: its assigned reviewers, or else every group reviewer.

    Two queries whatever the number of forecasts.
    """
    ids = [forecast.pk for forecast in forecasts]
    assigned: dict[int, list[User]] = defaultdict(list)
    rows = ReviewerAssignment.objects.filter(
        forecast_id__in=ids, reviewer__is_active=True
    ).select_related("reviewer")
    for row in rows.order_by("reviewer__username"):
        assigned[row.forecast_id].append(row.reviewer)
    fallback: list[User] | None = None
    result = {}
    for forecast_id in ids:
        if assigned.get(forecast_id):
            result[forecast_id] = assigned[forecast_id]
        else:
            if fallback is None:
                fallback = list(group_reviewers().order_by("username"))
            result[forecast_id] = fallback
    return result


def forecasts_reviewable_by(user: User) -> QuerySet[Forecast]:
    """The forecasts this user may resolve."""
    if user.is_superuser or is_group_reviewer(user):
        return Forecast.objects.all()
    return Forecast.objects.filter(reviewerassignment__reviewer=user)
