"""The REST API's world: tenants acme and globex (made by the services, in the test's
transaction: nothing reaches the cluster unless a test asks), a user per role, and
clients that call the API with a real API token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from console.models import Membership, Plan, Tenant
from console.services import tenant_create
from console.services.tokens import api_token_create
from tests.browser.conftest import chromium  # noqa: F401 (the browser tests' Chromium)

ROLES = ("admin", "developer", "viewer")


class Api:
    """A test client for ``/api/v1/`` with ``Authorization: Bearer <token>``."""

    def __init__(self, user: User | None, secret: str | None = None) -> None:
        self.user = user
        self.secret = secret
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self.client = Client(headers=headers)

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        url = f"/api/v1{path}"
        send = getattr(self.client, method.lower())
        if method.upper() in ("GET", "DELETE") and body is None:
            return (
                send(url, query)
                if method.upper() == "GET"
                else send(
                    url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
                )
            )
        return send(url, body, content_type="application/json")

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, **query)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, {} if body is None else body)


@pytest.fixture
def plan(db: None) -> Plan:
    return Plan.objects.create(name="basic", max_topics=10, max_partitions=30)


@pytest.fixture
def acme(operator: User, plan: Plan) -> Tenant:
    return tenant_create(actor=operator, name="Acme", slug="acme", plan="basic").tenant


@pytest.fixture
def globex(operator: User, plan: Plan) -> Tenant:
    return tenant_create(actor=operator, name="Globex", slug="globex", plan="basic").tenant


@pytest.fixture
def users(operator: User, acme: Tenant, globex: Tenant) -> dict[str, User]:
    """operator, acme's admin/developer/viewer, and globex's admin (``outsider``)."""
    made = {"operator": operator}
    for role in ROLES:
        made[role] = User.objects.create_user(f"acme-{role}")
        Membership.objects.create(user=made[role], tenant=acme, role=role)
    made["outsider"] = User.objects.create_user("globex-admin")
    Membership.objects.create(user=made["outsider"], tenant=globex, role="admin")
    return made


@pytest.fixture
def api_as(users: dict[str, User]) -> Callable[[str], Api]:
    """``api_as("viewer")``: an API client holding a fresh token of that user."""

    made: dict[str, Api] = {}

    def make(who: str) -> Api:
        if who not in made:
            created = api_token_create(actor=users[who], name=f"test-{who}")
            made[who] = Api(users[who], created.secret)
        return made[who]

    return make


def error_of(response: Any) -> dict[str, Any]:
    """The JSON error body (and that it is JSON, never a page)."""
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body
