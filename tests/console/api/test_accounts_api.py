"""Service accounts, access rules and members over REST: the roles the table gives,
another tenant's resources 404, a secret in one response, errors by field."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from console.models import AccessRule, AuditEvent, Membership, ServiceAccount
from tests.console.api.conftest import error_of

pytestmark = pytest.mark.django_db

ACCOUNTS = "/tenants/acme/service-accounts"


def test_members_list_and_get_accounts_without_any_secret(api_as) -> None:
    listing = api_as("viewer").get(ACCOUNTS).json()
    assert [a["username"] for a in listing] == ["acme-app"]
    detail = api_as("viewer").get(ACCOUNTS + "/app").json()
    assert detail["connection"]["username"] == "acme-app" and "password" not in str(detail)
    assert {r["operation"] for r in detail["access_rules"]} == {"ALL"}
    assert api_as("viewer").get(ACCOUNTS + "/nosuch").status_code == 404


@pytest.mark.parametrize("who", ["outsider"])
def test_another_tenants_accounts_are_404(api_as, who: str) -> None:
    api = api_as(who)
    for response in (
        api.get(ACCOUNTS),
        api.get(ACCOUNTS + "/app"),
        api.post(ACCOUNTS, {"name": "x"}),
        api.post(ACCOUNTS + "/app/rotate"),
        api.post(ACCOUNTS + "/app/revoke"),
    ):
        assert response.status_code == 404
        assert "acme" not in error_of(response)["detail"]
    assert ServiceAccount.objects.get(tenant__slug="acme", name="app").state == "active"


@pytest.mark.parametrize("who", ["viewer", "developer"])
def test_a_role_without_service_account_manage_is_403(api_as, who: str) -> None:
    api = api_as(who)
    for response in (
        api.post(ACCOUNTS, {"name": "billing"}),
        api.post(ACCOUNTS + "/app/rotate"),
        api.post(ACCOUNTS + "/app/revoke"),
    ):
        assert response.status_code == 403
        error_of(response)
    assert not ServiceAccount.objects.filter(name="billing").exists()


def test_an_admin_creates_rotates_and_revokes_each_secret_shown_once(api_as) -> None:
    admin = api_as("admin")
    created = admin.post(ACCOUNTS, {"name": "billing", "description": "invoices"})
    assert created.status_code == 201 and "no-store" in created["Cache-Control"]
    first = created.json()["credential"]["password"]
    assert created.json()["service_account"]["username"] == "acme-billing"
    rotated = admin.post(ACCOUNTS + "/billing/rotate")
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    second = rotated.json()["password"]
    assert second != first and len(second) >= 40
    for path in (ACCOUNTS, ACCOUNTS + "/billing", "/audit-events"):
        text = admin.get(path).content.decode()
        assert first not in text and second not in text
    revoked = admin.post(ACCOUNTS + "/billing/revoke")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    again = admin.post(ACCOUNTS + "/billing/rotate")
    assert again.status_code == 422 and "revoked" in error_of(again)["detail"]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"service_account.create", "service_account.rotate", "service_account.revoke"} <= actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Bad Name"}, "name"),
        ({"name": "app"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "mechanism": "PLAIN"}, "mechanism"),
        ({}, "name"),
    ],
)
def test_bad_account_input_is_422_by_field(api_as, body: dict, field: str) -> None:
    response = api_as("admin").post(ACCOUNTS, body)
    assert response.status_code == 422 and field in error_of(response)["errors"]


def test_quotas_are_for_operators(api_as) -> None:
    body = {"quotas": {"producer_byte_rate": 1048576}}
    assert api_as("admin").call("PUT", ACCOUNTS + "/app/quotas", body).status_code == 404
    response = api_as("operator").call("PUT", ACCOUNTS + "/app/quotas", body)
    assert response.status_code == 200
    assert response.json()["quotas"]["producer_byte_rate"] == 1048576
    bad = api_as("operator").call("PUT", ACCOUNTS + "/app/quotas", {"quotas": {"nope": 1}})
    assert bad.status_code == 422 and "nope" in error_of(bad)["errors"]
    negative = {"quotas": {"consumer_byte_rate": -5}}
    assert api_as("operator").call("PUT", ACCOUNTS + "/app/quotas", negative).status_code == 422


RULES = "/tenants/acme/access-rules"


def test_access_rules_by_role_and_tenant(api_as) -> None:
    rule = {"account": "app", "resource_type": "TOPIC", "resource_name": "acme.orders",
            "operation": "READ"}  # fmt: skip
    assert api_as("viewer").post(RULES, rule).status_code == 403
    assert api_as("outsider").post(RULES, rule).status_code == 404
    assert api_as("outsider").get(RULES).status_code == 404
    created = api_as("admin").post(RULES, rule)
    assert created.status_code == 201, created.content
    assert created.json()["principal"] == "User:acme-app"
    listing = api_as("viewer").get(RULES, account="app").json()
    assert listing["count"] == 4 and "acme.orders" in {r["resource_name"] for r in listing["items"]}
    preset = api_as("admin").post(RULES + "/presets", {"account": "app", "preset": "consumer"})
    assert preset.status_code == 201 and len(preset.json()) == 4
    rule_id = created.json()["id"]
    assert api_as("viewer").call("DELETE", f"{RULES}/{rule_id}").status_code == 403
    assert api_as("outsider").call("DELETE", f"{RULES}/{rule_id}").status_code == 404
    assert api_as("admin").call("DELETE", f"{RULES}/{rule_id}").status_code == 202
    assert AccessRule.objects.get(pk=rule_id).deleting
    assert api_as("admin").call("DELETE", f"{RULES}/{rule_id}").status_code == 404
    assert api_as("admin").call("DELETE", f"{RULES}/{2**62}").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"resource_name": "globex.orders"}, "resource_name"),
        ({"operation": "FLY"}, "operation"),
        ({"resource_type": "CLUSTER"}, "resource_type"),
        ({"account": "nosuch"}, None),
    ],
)
def test_a_bad_rule_is_a_json_error(api_as, change: dict, field: str | None) -> None:
    rule = {"account": "app", "resource_type": "TOPIC", "resource_name": "acme.orders",
            "operation": "READ"} | change  # fmt: skip
    response = api_as("admin").post(RULES, rule)
    if field is None:
        assert response.status_code == 404  # no such service account
    else:
        assert response.status_code == 422 and field in error_of(response)["errors"]
    assert not AccessRule.objects.filter(resource_name=rule["resource_name"]).exists()


MEMBERS = "/tenants/acme/members"


def test_members_by_role_and_tenant(api_as, users: dict[str, User]) -> None:
    User.objects.create_user("newbie")
    listing = api_as("viewer").get(MEMBERS).json()
    assert {m["username"]: m["role"] for m in listing}["acme-viewer"] == "viewer"
    assert api_as("outsider").get(MEMBERS).status_code == 404
    body = {"username": "newbie", "role": "viewer"}
    assert api_as("developer").post(MEMBERS, body).status_code == 403
    assert api_as("outsider").post(MEMBERS, body).status_code == 404
    assert api_as("admin").post(MEMBERS, body).status_code == 201
    assert api_as("admin").post(MEMBERS, body).status_code == 422  # a member already
    unknown = api_as("admin").post(MEMBERS, {"username": "ghost", "role": "viewer"})
    assert unknown.status_code == 422 and "username" in error_of(unknown)["errors"]
    bad_role = api_as("admin").post(MEMBERS, {"username": "newbie", "role": "owner"})
    assert bad_role.status_code == 422 and "role" in error_of(bad_role)["errors"]
    changed = api_as("admin").call("PUT", MEMBERS + "/newbie", {"role": "developer"})
    assert changed.json() == {"username": "newbie", "role": "developer"}
    last = api_as("admin").call("PUT", MEMBERS + "/acme-admin", {"role": "viewer"})
    assert last.status_code == 422 and "role" in error_of(last)["errors"]  # keeps an admin
    assert api_as("admin").call("DELETE", MEMBERS + "/newbie").status_code == 204
    assert not Membership.objects.filter(user__username="newbie").exists()
    assert api_as("admin").call("DELETE", MEMBERS + "/newbie").status_code == 404
