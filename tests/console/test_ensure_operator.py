"""``manage.py ensure_operator``: a first superuser only on a fresh install."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("ensure_operator", stdout=out)
    return out.getvalue()


def test_ensure_operator_creates_admin_superuser_on_empty_database() -> None:
    output = run()
    assert "login 'admin', password 'admin'" in output
    user = authenticate(username="admin", password="admin")
    assert user is not None
    assert user.is_superuser and user.is_staff


def test_ensure_operator_creates_nobody_the_second_time() -> None:
    run()
    assert "none created" in run()
    assert User.objects.count() == 1


def test_ensure_operator_creates_nobody_when_any_user_exists() -> None:
    User.objects.create_user("someone", password="pw")
    assert "none created" in run()
    assert not User.objects.filter(username="admin").exists()
