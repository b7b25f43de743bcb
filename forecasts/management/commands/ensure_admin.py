import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from forecasts.core.services import reviewers_group_join


class Command(BaseCommand):
    help = (
        "Create the local admin account if it is missing and print its login. The generated "
        "password is kept in var/admin-password.txt (readable by you only) so that later runs "
        "can print it again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args: Any, username: str, email: str, **options: Any) -> None:
        user_model = get_user_model()
        password_file = Path(settings.VAR_DIR) / "admin-password.txt"
        user = user_model.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(
                username=username, email=email, password=password
            )
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            os.chmod(password_file, 0o600)
            self.stdout.write(f"Admin account created. Login: {username} / {password}")
            self._join_reviewers(user)
        elif password_file.exists() and user.check_password(password_file.read_text().strip()):
            self._join_reviewers(user)
            password = password_file.read_text().strip()
            self.stdout.write(f"Admin account exists. Login: {username} / {password}")
        else:
            self.stdout.write(
                f"Admin account '{username}' exists with a password set by hand; "
                f"reset it with: python manage.py changepassword {username}"
            )

    def _join_reviewers(self, user: Any) -> None:
        # The local admin reviews the forecasts nobody is assigned to, so the seed
        # data's due forecasts prompt someone on the first start.
        reviewers_group_join(user=user)
