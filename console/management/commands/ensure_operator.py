"""``manage.py ensure_operator``: a first operator account on a fresh install.

Creates a superuser (default admin / admin) only when no user exists yet, and prints
the login, so ``headwater up`` gives a usable console without an interactive step.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction


class Command(BaseCommand):
    help = "Create a first superuser (admin/admin by default) if there is no user yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")

    def handle(self, *args: Any, username: str, password: str, **options: Any) -> None:
        user_model = get_user_model()
        with transaction.atomic():
            if user_model.objects.exists():
                self.stdout.write("Operator accounts exist already; none created.")
                return
            user_model.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.WARNING(
                f"Created operator account: login {username!r}, password {password!r}. "
                "Change the password in the admin (/admin/)."
            )
        )
