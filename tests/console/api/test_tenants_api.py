"""Tenants over REST: scoping by membership, operators create (the secret in that one
response), bad input as a JSON error by field."""

from __future__ import annotations

import pytest

from console.models import AuditEvent, Tenant
from tests.console.api.conftest import error_of

pytestmark = pytest.mark.django_db


def test_a_member_lists_only_its_tenants_with_its_role(api_as) -> None:
    body = api_as("viewer").get("/tenants").json()
    assert [(t["slug"], t["role"]) for t in body["items"]] == [("acme", "viewer")]
    assert body["count"] == 1
    everything = api_as("operator").get("/tenants").json()
    assert [t["slug"] for t in everything["items"]] == ["acme", "globex"]
    assert [t["slug"] for t in api_as("operator").get("/tenants", q="glob").json()["items"]] == [
        "globex"
    ]


def test_another_tenant_is_404_like_a_missing_one(api_as) -> None:
    outsider = api_as("outsider")
    for path in ("/tenants/acme", "/tenants/nosuch"):
        response = outsider.get(path)
        assert response.status_code == 404
        assert "acme" not in error_of(response)["detail"]
    detail = api_as("viewer").get("/tenants/acme").json()
    assert detail["prefix"] == "acme." and detail["role"] == "viewer"
    assert detail["service_accounts"] == 1 and detail["condition"]["type"] == "Ready"


def test_an_operator_creates_a_tenant_and_sees_the_secret_once(api_as) -> None:
    operator = api_as("operator")
    response = operator.post("/tenants", {"name": "Initech", "slug": "initech", "plan": "basic"})
    assert response.status_code == 201, response.content
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    secret = body["credential"]["password"]
    assert body["credential"]["username"] == "initech-app" and len(secret) >= 40
    assert body["tenant"]["slug"] == "initech"
    assert Tenant.objects.filter(slug="initech").exists()
    for path in ("/tenants/initech", "/tenants/initech/service-accounts",
                 "/tenants/initech/service-accounts/app", "/audit-events"):  # fmt: skip
        answer = operator.get(path)
        assert answer.status_code == 200 and secret not in answer.content.decode()
    assert not any(secret in str(e.after) for e in AuditEvent.objects.all())


def test_members_cannot_create_tenants(api_as) -> None:
    for who in ("admin", "viewer", "outsider"):
        response = api_as(who).post("/tenants", {"name": "X", "slug": "xx", "plan": "basic"})
        assert response.status_code == 404, who
        error_of(response)
    assert not Tenant.objects.filter(slug="xx").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Bad", "slug": "Bad-Slug", "plan": "basic"}, "slug"),
        ({"name": "Dup", "slug": "acme", "plan": "basic"}, "slug"),
        ({"name": "X", "slug": "newco", "plan": "gold"}, "plan"),
        ({"name": " ", "slug": "newco", "plan": "basic"}, "name"),
        ({"slug": "newco", "plan": "basic"}, "name"),
        ({"name": "X", "slug": "newco", "plan": "basic", "mechanism": "PLAIN"}, "mechanism"),
        ({"name": "X\x00", "slug": "newco", "plan": "basic"}, "name"),
    ],
)
def test_bad_input_is_a_json_error_on_its_field(api_as, body: dict, field: str) -> None:
    response = api_as("operator").post("/tenants", body)
    assert response.status_code == 422
    assert field in error_of(response)["errors"]
    assert not Tenant.objects.filter(slug="newco").exists()


def test_a_body_that_is_not_json_is_a_json_error(api_as) -> None:
    api = api_as("operator")
    response = api.client.post("/api/v1/tenants", "{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    error_of(response)


def test_delete_needs_the_slug_typed_and_an_operator(api_as) -> None:
    # operators only, as the delete page: 404 for everyone else, acme's own admin too
    assert api_as("admin").call("DELETE", "/tenants/acme", confirm_slug="acme").status_code == 404
    assert (
        api_as("outsider").call("DELETE", "/tenants/acme", confirm_slug="acme").status_code == 404
    )
    response = api_as("operator").call("DELETE", "/tenants/acme", confirm_slug="acm")
    assert response.status_code == 422 and "confirm_slug" in error_of(response)["errors"]
    response = api_as("operator").call("DELETE", "/tenants/acme", confirm_slug="acme")
    assert response.status_code == 202 and response.json()["state"] == "deleting"
    assert AuditEvent.objects.filter(action="tenant.delete", tenant_slug="acme").exists()


def test_drift_resolution_is_for_admins(api_as) -> None:
    assert api_as("viewer").post("/tenants/acme/drift/reapply").status_code == 403
    assert api_as("outsider").post("/tenants/acme/drift/adopt").status_code == 404
    assert api_as("admin").post("/tenants/acme/drift/reapply").status_code == 200
    assert api_as("admin").post("/tenants/acme/drift/adopt").json()["problems"] == []
