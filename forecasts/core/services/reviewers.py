"""Reviewer assignments: who is prompted when a forecast falls due, and may resolve it
(:func:`forecasts.core.permissions.can_resolve`)."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from forecasts.core.models import Forecast, ReviewerAssignment
from forecasts.core.permissions import REVIEWERS_GROUP


@transaction.atomic
def reviewer_assign(*, forecast: Forecast, reviewer: User) -> ReviewerAssignment:
    """Make ``reviewer`` responsible for resolving ``forecast``, from now.

    Prompts go to a forecast's assigned reviewers instead of the whole Reviewers
    group, so an account that cannot sign in would leave it unprompted: refused.
    """
    if not reviewer.is_active:
        raise ValidationError({"reviewer": f"{reviewer} cannot review: the account is inactive."})
    assignment = ReviewerAssignment(
        forecast=forecast, reviewer=reviewer, assigned_at=timezone.now()
    )
    assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def reviewer_unassign(*, forecast: Forecast, reviewer: User) -> bool:
    """``reviewer`` is no longer responsible for ``forecast``; False if they were not.

    Prompts already sent stay in the history; a forecast left with no assigned
    reviewer is the Reviewers group's again.
    """
    deleted, _ = ReviewerAssignment.objects.filter(forecast=forecast, reviewer=reviewer).delete()
    return deleted > 0


@transaction.atomic
def reviewers_group_join(*, user: User) -> None:
    """Add ``user`` to the Reviewers group (created on first use): with the resolve
    permission the group holds (migration 0004), they review every forecast nobody is
    assigned to. Joining twice changes nothing."""
    group, _ = Group.objects.get_or_create(name=REVIEWERS_GROUP)
    user.groups.add(group)
