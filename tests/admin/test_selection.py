"""Every admin on the site, this app's and other apps' (auth, axes), refuses an action
on a forged selection with a message instead of a server error."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import UserFactory

HUGE_ID = "9" * 21


def _admin_actions() -> list[tuple[str, str]]:
    request = RequestFactory().get("/")
    request.user = UserFactory.build(is_staff=True, is_superuser=True)
    found = []
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        found += [(url, action) for action in model_admin.get_actions(request)]
    return found


@pytest.mark.django_db
def test_the_walk_covers_other_apps_admins():
    urls = {url for url, _ in _admin_actions()}
    assert reverse("admin:auth_user_changelist") in urls
    assert reverse("admin:axes_accessattempt_changelist") in urls


@pytest.mark.django_db
@pytest.mark.parametrize("selected", [HUGE_ID, "abc", "1 OR 1=1"])
def test_a_forged_selection_is_refused_on_every_admin(client, selected):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    Group.objects.create(name="reviewers")
    client.force_login(superuser)
    client.raise_request_exception = False
    failures = []
    for url, action in _admin_actions():
        posted = {"action": action, "_selected_action": [selected], "post": "yes"}
        response = client.post(url, posted, follow=True)
        if response.status_code != 200 or "The selection is not valid" not in (
            response.content.decode()
        ):
            failures.append((url, action, response.status_code))
    assert failures == []
    assert Group.objects.filter(name="reviewers").exists()
    assert type(superuser).objects.filter(pk=superuser.pk).exists()
