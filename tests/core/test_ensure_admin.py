"""The `make run` helper that creates the local admin account."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def login_printed(capsys):
    out = capsys.readouterr().out
    assert "Login: admin / " in out, out
    return out.split("Login: admin / ")[1].strip()


def test_creates_a_superuser_and_prints_a_login_that_works(var_dir, capsys):
    call_command("ensure_admin")
    password = login_printed(capsys)
    # Through the admin login's own backends (django-axes wants the request).
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="127.0.0.1")
    user = authenticate(request, username="admin", password=password)
    assert user is not None
    assert user.is_superuser
    assert user.is_staff
    assert (var_dir / "admin-password.txt").stat().st_mode & 0o777 == 0o600
    assert user.groups.filter(name="Reviewers").exists()


def test_second_run_reuses_the_account_and_prints_the_same_login(var_dir, capsys):
    call_command("ensure_admin")
    first = login_printed(capsys)
    call_command("ensure_admin")
    assert login_printed(capsys) == first
    assert get_user_model().objects.count() == 1


def test_a_password_changed_by_hand_is_not_printed_or_reset(var_dir, capsys):
    call_command("ensure_admin")
    login_printed(capsys)
    user = get_user_model().objects.get(username="admin")
    user.set_password("a-new-password-chosen-by-hand")
    user.save()
    call_command("ensure_admin")
    out = capsys.readouterr().out
    assert "changepassword admin" in out
    assert "a-new-password" not in out
