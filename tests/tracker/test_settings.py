"""Settings come from the environment; bad values stop start-up with one clear line."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3V9-rT6pZq1xW8yB2nM5cL7dF0gH4jS6aE9uI3oP1tR8vY2wQ",
    "ALLOWED_HOSTS": "forecasts.example.org",
    "SITE_URL": "https://forecasts.example.org",
    "DATABASE_URL": "postgres://tracker:secret@db.internal:5432/tracker",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_HOST": "smtp.example.org",
}
VARIABLES = [
    *PRODUCTION,
    "VAR_DIR",
    "TIME_ZONE",
    "EMAIL_PORT",
    "LOG_LEVEL",
    "CSRF_TRUSTED_ORIGINS",
    "BIND",
]


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "nonsense", "DATABASE_URL='nonsense' is not a supported database URL"),
        (
            "DATABASE_URL",
            "mysql://u@h/db",
            "DATABASE_URL='mysql://u@h/db' is not a supported database URL",
        ),
        ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' is not a valid URL"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT='twenty-five' is not a whole number"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE='Mars/Olympus' is not a known time zone"),
        (
            "SITE_URL",
            "forecasts.example.org",
            "SITE_URL='forecasts.example.org' is not a valid URL",
        ),
        ("SECRET_KEY", "", "SECRET_KEY must be set (required when DEBUG is off)"),
        ("SECRET_KEY", "short", "SECRET_KEY must be at least 50 characters"),
        ("ALLOWED_HOSTS", "", "ALLOWED_HOSTS must be set when DEBUG is off"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL='LOUD' is not one of"),
        # One resolved forecast must never be enough to be ranked.
        ("LEADERBOARD_MIN_RESOLVED", "1", "LEADERBOARD_MIN_RESOLVED=1 is below the minimum of 2"),
    ],
)
def test_bad_value_stops_start_up_with_one_line_naming_the_variable(variable, value, message):
    result = manage("check", **(PRODUCTION | {variable: value}))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Configuration error: ")
    assert message in lines[0]
    assert result.stdout == ""


def test_password_in_a_bad_database_url_is_not_printed():
    result = manage("check", **(PRODUCTION | {"DATABASE_URL": "mysql://app:hunter2@db/app"}))
    assert result.returncode == 2
    assert "hunter2" not in result.stderr
    assert "***" in result.stderr


def test_the_celery_app_fails_the_same_way():
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    result = subprocess.run(
        [sys.executable, "-c", "import tracker.celery"],
        cwd=REPO,
        env=clean | PRODUCTION | {"DATABASE_URL": "nonsense"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Configuration error: DATABASE_URL='nonsense'")


def test_embedded_defaults():
    """Unset, the variables give the one-machine setup `make run` uses."""
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.EMAIL_BACKEND, s.EMAIL_FILE_PATH)",
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    engine, broker, backend, mail_dir = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert mail_dir == str(REPO / "var" / "mail")


def test_redis_url_becomes_the_broker():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.CELERY_BROKER_URL)",
        DEBUG="1",
        REDIS_URL="redis://127.0.0.1:6379/5",
    )
    assert result.stdout.strip() == "redis://127.0.0.1:6379/5"


SHOW_DATABASE_OPTIONS = (
    "from django.conf import settings as s; "
    "o = s.DATABASES['default']['OPTIONS']; print(o.get('prepare_threshold'), o['options'])"
)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [({}, "0 -c jit=off"), ({"DATABASE_PREPARED_STATEMENTS": "0"}, "None -c jit=off")],
)
def test_postgresql_prepares_compiled_queries_unless_told_not_to(setting, expected):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        SHOW_DATABASE_OPTIONS,
        DEBUG="1",
        DATABASE_URL="postgres://tracker:secret@db.internal:5432/tracker",
        **setting,
    )
    assert result.stdout.strip() == expected, result.stderr


def test_mail_retry_settings_still_read_their_former_digest_names():
    show = (
        "from django.conf import settings as s;"
        "print(s.MAIL_SEND_ATTEMPTS, s.MAIL_RETRY_BACKOFF_SECONDS)"
    )
    former = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        DEBUG="1",
        DIGEST_SEND_ATTEMPTS="5",
        DIGEST_RETRY_BACKOFF_SECONDS="7",
    )
    assert former.stdout.split() == ["5", "7"], former.stderr
    both = manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        DEBUG="1",
        MAIL_SEND_ATTEMPTS="4",
        DIGEST_SEND_ATTEMPTS="4",
    )
    assert both.stdout.split() == ["4", "2"], both.stderr

    clash = manage("check", DEBUG="1", MAIL_SEND_ATTEMPTS="4", DIGEST_SEND_ATTEMPTS="5")
    assert clash.returncode == 2
    assert clash.stderr.strip() == (
        "Configuration error: MAIL_SEND_ATTEMPTS='4' and DIGEST_SEND_ATTEMPTS='5' "
        "(its former name) disagree: set MAIL_SEND_ATTEMPTS only."
    )
    bad = manage("check", DEBUG="1", DIGEST_SEND_ATTEMPTS="zero")
    assert "DIGEST_SEND_ATTEMPTS='zero' is not a whole number" in bad.stderr


SHOW_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"
PUBLIC_KEY = "django-insecure-local-development-only"  # what make run signed links with


def _printed_key(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]  # after the shell's own line


def test_a_local_instance_makes_a_private_key_of_its_own_once(tmp_path):
    """Issue 16 (8): with DEBUG on and no SECRET_KEY, links were signed with a key anyone
    could read in the code, so a forged review link was accepted."""
    var = tmp_path / "var"
    first = manage("shell", "-c", SHOW_KEY, DEBUG="1", VAR_DIR=str(var))
    assert first.returncode == 0, first.stderr
    key = _printed_key(first)
    assert key != PUBLIC_KEY
    assert len(key) >= 50
    assert (var / "secret_key").read_text().strip() == key
    assert (var / "secret_key").stat().st_mode & 0o777 == 0o600
    assert var.stat().st_mode & 0o777 == 0o700  # the database and e-mails under it too
    again = manage("shell", "-c", SHOW_KEY, DEBUG="1", VAR_DIR=str(var))
    assert _printed_key(again) == key  # sessions and links survive a restart
    other = manage("shell", "-c", SHOW_KEY, DEBUG="1", VAR_DIR=str(tmp_path / "elsewhere"))
    assert _printed_key(other) != key


def test_a_var_dir_left_readable_by_others_is_made_private(tmp_path):
    var = tmp_path / "var"
    (var / "mail").mkdir(parents=True)
    var.chmod(0o755)
    result = manage("shell", "-c", SHOW_KEY, DEBUG="1", VAR_DIR=str(var))
    assert result.returncode == 0, result.stderr
    assert var.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("bind", ["0.0.0.0:8000", "192.0.2.7:8000", "[::]:8000"])
def test_debug_refuses_to_listen_beyond_this_machine(tmp_path, bind):
    result = manage("check", DEBUG="1", VAR_DIR=str(tmp_path), BIND=bind)
    assert result.returncode == 2
    assert f"Configuration error: BIND={bind!r} listens beyond this machine" in result.stderr


@pytest.mark.parametrize("bind", ["127.0.0.1:8765", "localhost:8000", "[::1]:8000"])
def test_debug_listens_on_loopback(tmp_path, bind):
    result = manage("check", DEBUG="1", VAR_DIR=str(tmp_path), BIND=bind)
    assert result.returncode == 0, result.stderr


def test_a_link_signed_with_the_old_public_key_is_refused(db):
    from django.conf import settings
    from django.core import signing

    from forecasts.mail.links import LinkRefused
    from forecasts.reviews import links

    forged = signing.TimestampSigner(key=PUBLIC_KEY, salt=links._SALT).sign_object(
        {"r": 1, "f": 1, "a": "yes", "s": "2020-01-01:0"}, compress=True
    )
    assert settings.SECRET_KEY != PUBLIC_KEY
    with pytest.raises(LinkRefused) as refused:
        links.review_link_check(forged, slug="anything")
    assert refused.value.code == "invalid"
