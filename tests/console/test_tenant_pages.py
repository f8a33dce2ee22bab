"""Tenant pages through the Django test client, on the session's PostgreSQL: each role
sees what console/roles.py allows, forms put the services' errors on their fields, and a
secret appears in exactly one response."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from console.models import AccessRule, AuditEvent, Membership, Plan, ServiceAccount, Tenant
from console.services import tenant_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(db: None) -> Plan:
    return Plan.objects.create(name="basic", max_topics=10, max_partitions=30)


@pytest.fixture
def acme(operator: User, plan: Plan) -> Tenant:
    tenant = tenant_create(actor=operator, name="Acme", slug="acme", plan="basic").tenant
    Tenant.objects.filter(pk=tenant.pk).update(
        usage={"topics": 3, "partitions": 12},
        ready_state="drifted",
        ready_reason="Drifted",
        ready_message="the cluster differs",
        drift=[{"kind": "acl_missing", "message": "ACL ALLOW ALL TOPIC acme. was removed"}],
    )
    return Tenant.objects.get(pk=tenant.pk)


@pytest.fixture
def other(operator: User, plan: Plan) -> Tenant:
    return tenant_create(actor=operator, name="Other", slug="other", plan="basic").tenant


def member(tenant: Tenant, role: str) -> Client:
    user = User.objects.create_user(f"{role}-{tenant.slug}", password="x")
    Membership.objects.create(user=user, tenant=tenant, role=role)
    client = Client()
    client.force_login(user)
    return client


PAGES = ["/tenants/acme/", "/tenants/acme/service-accounts/", "/tenants/acme/acls/",
         "/tenants/acme/members/", "/tenants/acme/service-accounts/app/"]  # fmt: skip


@pytest.mark.parametrize("role", ["viewer", "developer", "admin"])
def test_members_see_their_tenant_pages_with_the_buttons_their_role_allows(
    acme: Tenant, other: Tenant, role: str
) -> None:
    client = member(acme, role)
    listing = client.get("/tenants/").content.decode()
    assert "acme" in listing and "other" not in listing and role in listing
    writes = role == "admin"
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
    assert ("Re-apply" in client.get("/tenants/acme/").content.decode()) is writes
    assert ("Create a service account" in client.get(PAGES[1]).content.decode()) is writes
    assert ("Add a rule" in client.get(PAGES[2]).content.decode()) is writes
    assert ("Add a member" in client.get(PAGES[3]).content.decode()) is writes
    assert "Delete this tenant" not in client.get("/tenants/acme/").content.decode()
    for url in ["/tenants/other/", "/tenants/other/acls/", "/tenants/acme/delete/"]:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("role", ["viewer", "developer"])
def test_a_forbidden_post_is_403_in_ones_tenant_and_404_elsewhere(
    acme: Tenant, other: Tenant, role: str
) -> None:
    client = member(acme, role)
    posts = [
        ("/tenants/acme/service-accounts/", {"name": "x", "mechanism": "SCRAM-SHA-256"}),
        ("/tenants/acme/service-accounts/app/rotate/", {}),
        ("/tenants/acme/service-accounts/app/revoke/", {}),
        ("/tenants/acme/acls/", {"form": "preset", "account": "app", "preset": "full"}),
        ("/tenants/acme/members/", {"username": "operator", "role": "admin"}),
        ("/tenants/acme/drift/reapply/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
        assert client.post(url.replace("acme", "other"), data).status_code == 404, url
    assert (
        client.post("/tenants/", {"name": "N", "slug": "new", "plan": "basic"}).status_code == 404
    )
    assert client.post("/tenants/acme/delete/", {"confirm_slug": "acme"}).status_code == 404
    assert ServiceAccount.objects.filter(tenant=acme).count() == 1


def test_operator_list_shows_usage_against_plan_and_searches_and_pages(
    operator_client: Client, acme: Tenant, other: Tenant
) -> None:
    page = operator_client.get("/tenants/").content.decode()
    assert (
        "3 / 10" in page and "12 / 30" in page and "drifted" in page and "Create a tenant" in page
    )
    found = operator_client.get("/tenants/?q=oth").content.decode()
    assert 'data-tenant="other"' in found and 'data-tenant="acme"' not in found
    assert "data-tenant" not in operator_client.get("/tenants/?page=99&q=zzz").content.decode()


@pytest.mark.parametrize(
    ("slug", "error"),
    [("Bad-Slug", "not a valid slug"), ("acme", "exists already"), ("admin", "reserved")],
)
def test_tenant_create_form_shows_slug_errors_on_the_field(
    operator_client: Client, acme: Tenant, slug: str, error: str
) -> None:
    response = operator_client.post("/tenants/", {"name": "X", "slug": slug, "plan": "basic"})
    assert response.status_code == 200
    assert error in response.context["form"].errors["slug"][0]


def test_account_and_rule_forms_show_errors_on_their_fields(
    operator_client: Client, acme: Tenant
) -> None:
    bad = operator_client.post(
        "/tenants/acme/service-accounts/", {"name": "Bad_Name", "mechanism": "SCRAM-SHA-256"}
    )
    assert bad.status_code == 200
    assert "not a valid service account name" in bad.context["form"].errors["name"][0]
    outside = operator_client.post("/tenants/acme/acls/", {
        "form": "rule", "account": "app", "resource_type": "TOPIC", "resource_name": "other.x",
        "pattern_type": "LITERAL", "operation": "READ", "permission_type": "ALLOW", "host": "*",
    })  # fmt: skip
    assert outside.status_code == 200
    assert "outside this tenant" in outside.context["rule_form"].errors["resource_name"][0]


def test_rules_by_hand_and_preset_and_delete(operator_client: Client, acme: Tenant) -> None:
    operator_client.post(
        "/tenants/acme/service-accounts/", {"name": "reader", "mechanism": "SCRAM-SHA-512"}
    )
    preset = {"form": "preset", "account": "reader", "preset": "consumer"}
    assert operator_client.post("/tenants/acme/acls/", preset).status_code == 302
    assert operator_client.post("/tenants/acme/acls/", {
        "form": "rule", "account": "reader", "resource_type": "TOPIC",
        "resource_name": "acme.audit", "pattern_type": "LITERAL", "operation": "WRITE",
        "permission_type": "DENY", "host": "*",
    }).status_code == 302  # fmt: skip
    rules = AccessRule.objects.filter(service_account__name="reader")
    assert rules.count() == 5
    page = operator_client.get("/tenants/acme/acls/?account=reader").content.decode()
    assert page.count("data-rule=") == 5
    rule = rules.get(operation="WRITE")
    operator_client.post(f"/tenants/acme/acls/{rule.pk}/delete/")
    assert AccessRule.objects.get(pk=rule.pk).deleting


def test_members_add_change_remove_and_the_last_admin_stays(
    operator_client: Client, acme: Tenant
) -> None:
    User.objects.create_user("alice")
    assert (
        operator_client.post(
            "/tenants/acme/members/", {"username": "alice", "role": "admin"}
        ).status_code
        == 302
    )
    missing = operator_client.post(
        "/tenants/acme/members/", {"username": "nobody", "role": "admin"}
    )
    assert "No active user" in missing.context["form"].errors["username"][0]
    response = operator_client.post("/tenants/acme/members/alice/", {"role": "viewer"}, follow=True)
    assert "keeps at least one admin" in response.content.decode()
    operator_client.post("/tenants/acme/members/alice/", {"action": "remove"}, follow=True)
    assert Membership.objects.filter(tenant=acme, user__username="alice").exists()


def _every_text_in_the_database() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT CAST(t.* AS text) FROM "{table}" t')
            chunks.extend(row[0] for row in cursor.fetchall())
    return "\n".join(chunks)


def test_the_secret_appears_exactly_once(operator_client: Client, plan: Plan) -> None:
    response = operator_client.post("/tenants/", {"name": "Acme", "slug": "acme", "plan": "basic"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["credential"].password
    body = response.content.decode()
    assert secret in body
    assert "security.protocol=SASL_PLAINTEXT" in body
    assert f"-X sasl.username=acme-app -X sasl.password=&#x27;{secret}&#x27; -L" in body
    for url in ["/tenants/", "/tenants/acme/", "/tenants/acme/service-accounts/",
                "/tenants/acme/service-accounts/app/"]:  # fmt: skip
        assert secret not in operator_client.get(url).content.decode(), url
    assert secret not in str(list(AuditEvent.objects.values()))
    assert secret not in _every_text_in_the_database()
    rotated = operator_client.post("/tenants/acme/service-accounts/app/rotate/")
    new_secret = rotated.context["credential"].password
    assert new_secret != secret and new_secret in rotated.content.decode()
    assert new_secret not in _every_text_in_the_database()


def test_delete_asks_for_the_slug_then_shows_progress_and_a_deleted_tenant_404s(
    operator_client: Client, acme: Tenant
) -> None:
    wrong = operator_client.post("/tenants/acme/delete/", {"confirm_slug": "acm"})
    assert "Type the tenant" in wrong.context["form"].errors["confirm_slug"][0]
    assert (
        operator_client.post("/tenants/acme/delete/", {"confirm_slug": "acme"}).status_code == 302
    )
    Tenant.objects.filter(pk=acme.pk).update(deletion_progress={
        "acls": {"state": "done", "removed": 3, "message": ""},
        "quotas": {"state": "error", "removed": 0, "message": "cluster down"},
    })  # fmt: skip
    page = operator_client.get("/tenants/acme/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert 'data-step="topics"' in page and "cluster down" in page
    Tenant.objects.filter(pk=acme.pk).delete()
    assert operator_client.get("/tenants/acme/").status_code == 404


def test_account_detail_shows_connection_settings_without_a_secret(
    operator_client: Client, acme: Tenant
) -> None:
    page = operator_client.get("/tenants/acme/service-accounts/app/").content.decode()
    assert "sasl.username=acme-app" in page and "sasl.mechanism=SCRAM-SHA-256" in page
    assert "the secret shown when it was created" in page
