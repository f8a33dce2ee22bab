"""API tokens: made and revoked on /account/tokens/ (secret shown once, only its hash
kept, audited), a token authenticates as its user, a revoked one is 401; the browser's
session works too, with CSRF enforced on writes."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import User
from django.test import Client

from console.models import ApiToken, AuditEvent
from tests.console.api.conftest import Api, error_of

pytestmark = pytest.mark.django_db


def test_the_tokens_page_shows_a_new_secret_once_and_keeps_only_its_hash(
    users: dict[str, User],
) -> None:
    client = Client()
    client.force_login(users["viewer"])
    response = client.post("/account/tokens/", {"name": "ci"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=users["viewer"], name="ci")
    page = response.content.decode()
    secret = page.split('class="the-secret">')[1].split("<")[0]
    assert secret.startswith("hwt_") and secret.startswith(token.prefix)
    assert token.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(token.__dict__)
    listing = client.get("/account/tokens/").content.decode()
    assert token.prefix in listing and secret not in listing
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor_name == "acme-viewer" and secret not in str(event.after)

    api = Api(users["viewer"], secret)
    assert api.get("/tenants").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    revoke = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert revoke.status_code == 302
    response = api.get("/tenants")
    assert response.status_code == 401 and "Bearer" in response["WWW-Authenticate"]
    error_of(response)
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1
    assert "revoked" in client.get("/account/tokens/").content.decode()


def test_a_token_name_is_required_and_unique_per_user(users: dict[str, User]) -> None:
    client = Client()
    client.force_login(users["viewer"])
    assert "Give the token a name" in client.post("/account/tokens/", {"name": ""}).content.decode()
    client.post("/account/tokens/", {"name": "ci"})
    again = client.post("/account/tokens/", {"name": "ci"}).content.decode()
    assert "already" in again and ApiToken.objects.count() == 1


def test_one_cannot_revoke_anothers_token(users: dict[str, User], api_as) -> None:
    api_as("admin")
    theirs = ApiToken.objects.get(user=users["admin"])
    client = Client()
    client.force_login(users["viewer"])
    assert client.post(f"/account/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "test-admin" not in client.get("/account/tokens/").content.decode()


@pytest.mark.parametrize(
    "header",
    ["", "Bearer ", "Bearer hwt_not-a-token", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500],
)
def test_no_or_a_wrong_token_is_401_json(users: dict[str, User], header: str) -> None:
    client = Client(headers={"Authorization": header} if header else {})
    response = client.get("/api/v1/tenants")
    assert response.status_code == 401
    assert "token" in error_of(response)["detail"]


def test_an_inactive_users_token_is_refused(users: dict[str, User], api_as) -> None:
    api = api_as("viewer")
    User.objects.filter(pk=users["viewer"].pk).update(is_active=False)
    assert api.get("/tenants").status_code == 401


def test_the_session_works_and_writes_need_the_csrf_token(users: dict[str, User]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["admin"])
    assert client.get("/api/v1/tenants").status_code == 200
    body = {"username": "acme-viewer", "role": "developer"}
    refused = client.put("/api/v1/tenants/acme/members/acme-viewer", body,
                         content_type="application/json")  # fmt: skip
    assert refused.status_code == 403 and "CSRF" in error_of(refused)["detail"]
    client.get("/account/tokens/")  # sets the csrftoken cookie, as a page does
    csrf = client.cookies["csrftoken"].value
    allowed = client.put(
        "/api/v1/tenants/acme/members/acme-viewer", body,
        content_type="application/json", headers={"X-CSRFToken": csrf},
    )  # fmt: skip
    assert allowed.status_code == 200, allowed.content
    assert allowed.json() == {"username": "acme-viewer", "role": "developer"}


def test_a_bearer_token_needs_no_csrf_token(api_as) -> None:
    api = api_as("admin")
    api.client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {api.secret}"})
    response = api.call("PUT", "/tenants/acme/members/acme-viewer", {"role": "developer"})
    assert response.status_code == 200


def test_the_tokens_page_needs_a_login() -> None:
    response = Client().get("/account/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_operator_sees_tokens_in_the_admin_and_revokes_a_leaked_one(
    users: dict[str, User], api_as
) -> None:
    api = api_as("viewer")
    token = ApiToken.objects.get(user=users["viewer"])
    client = Client()
    client.force_login(users["operator"])
    listing = client.get("/admin/console/apitoken/").content.decode()
    assert "test-viewer" in listing and token.secret_sha256 not in listing
    detail = client.get(f"/admin/console/apitoken/{token.pk}/change/").content.decode()
    assert token.secret_sha256 not in detail
    response = client.post("/admin/console/apitoken/",
                           {"action": "revoke_tokens", "_selected_action": [token.pk]})  # fmt: skip
    assert response.status_code == 302
    assert api.get("/tenants").status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor_name == "operator" and event.resource_name == "acme-viewer/test-viewer"
    member = Client()
    member.force_login(users["admin"])
    assert member.get("/admin/console/apitoken/").status_code == 302  # to the admin login
