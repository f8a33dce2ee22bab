"""The Django admin is another client of the services: an add, change or delete there is
validated, audited and reconciled like one made on the pages; a service's
ValidationError is a form error (never a 500); audit events are read-only, superusers
included; a rotated secret is shown once, in that response, and stored nowhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from console.models import (
    AccessRule,
    AuditEvent,
    Membership,
    Plan,
    ServiceAccount,
    ServiceAccountState,
    Tenant,
)
from console.services import membership_add, tenant_create
from tests.console.test_quotas_pages import MiB, settle

pytestmark = pytest.mark.django_db
MODELS = ("plan", "tenant", "membership", "serviceaccount", "accessrule", "auditevent")


@pytest.fixture
def acme(operator: User) -> Tenant:
    Plan.objects.create(name="basic", producer_byte_rate=MiB)
    return tenant_create(actor=operator, name="Acme", slug="acme", plan="basic").tenant


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


def plan_form(**values: Any) -> dict[str, str]:
    data = {key: "" for key in Plan.QUOTA_KEYS + Plan.LIMIT_FIELDS}
    return data | {k: str(v) for k, v in values.items()}


def test_every_console_model_has_a_list_with_search_and_filters(
    operator_client: Client, acme: Tenant
) -> None:
    for model in MODELS:
        url = f"/admin/console/{model}/"
        assert operator_client.get(url).status_code == 200, url
        assert operator_client.get(url, {"q": "acme"}).status_code == 200, url
        page = operator_client.get(url).content.decode()
        assert 'id="searchbar"' in page and 'id="changelist-filter"' in page, url
    assert "acme-app" in operator_client.get("/admin/console/serviceaccount/").content.decode()
    filtered = operator_client.get("/admin/console/auditevent/", {"action": "tenant.create"})
    assert {e.action for e in filtered.context["cl"].result_list} == {"tenant.create"}


def test_someone_who_is_not_an_operator_gets_no_admin(acme: Tenant) -> None:
    user = User.objects.create_user("anna")
    Membership.objects.create(user=user, tenant=acme, role="admin")
    client = Client()
    client.force_login(user)
    response = client.get("/admin/console/plan/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("who", ["operator", "superuser"])
def test_audit_events_are_read_only_in_the_admin_even_for_superusers(
    operator_client: Client, superuser_client: Client, acme: Tenant, who: str
) -> None:
    client = operator_client if who == "operator" else superuser_client
    event = AuditEvent.objects.first()
    assert event is not None
    count = AuditEvent.objects.count()
    listing = client.get("/admin/console/auditevent/")
    assert listing.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    assert "/admin/console/auditevent/add/" not in listing.content.decode()
    assert client.get("/admin/console/auditevent/add/").status_code == 403
    view = client.get(f"/admin/console/auditevent/{event.pk}/change/")
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    changed = client.post(f"/admin/console/auditevent/{event.pk}/change/",
                          {"action": "forged", "actor_name": "nobody"})  # fmt: skip
    assert changed.status_code == 403
    assert client.post(f"/admin/console/auditevent/{event.pk}/delete/", {"post": "yes"}
                       ).status_code == 403  # fmt: skip
    bulk = client.post(
        "/admin/console/auditevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert AuditEvent.objects.count() == count
    assert AuditEvent.objects.get(pk=event.pk).action == event.action


def test_a_plan_change_in_the_admin_is_audited_and_reconciles_its_tenants(
    operator_client: Client, acme: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    plan = Plan.objects.get(name="basic")
    generation = Tenant.objects.get(pk=acme.pk).generation
    with django_capture_on_commit_callbacks() as callbacks:
        done = operator_client.post(
            f"/admin/console/plan/{plan.pk}/change/",
            plan_form(producer_byte_rate=2 * MiB, max_topics=3),
        )
    assert done.status_code == 302, done.content.decode()[:2000]
    assert settle(callbacks) == 1  # the tenant on the plan: a reconcile on commit
    assert Tenant.objects.get(pk=acme.pk).generation == generation + 1
    plan.refresh_from_db()
    assert (plan.producer_byte_rate, plan.max_topics) == (2 * MiB, 3)
    event = AuditEvent.objects.get(action="plan.update")
    assert event.actor_name == "operator"
    assert (event.before["producer_byte_rate"], event.after["producer_byte_rate"]) == (MiB, 2 * MiB)


def test_a_services_validation_error_is_an_admin_form_error_not_a_500(
    operator_client: Client, acme: Tenant
) -> None:
    plan = Plan.objects.get(name="basic")
    bad = operator_client.post(f"/admin/console/plan/{plan.pk}/change/",
                               plan_form(producer_byte_rate=0))  # fmt: skip
    assert bad.status_code == 200
    assert "greater than 0" in str(bad.context["adminform"].form.errors["producer_byte_rate"])
    assert Plan.objects.get(pk=plan.pk).producer_byte_rate == MiB
    taken = operator_client.post("/admin/console/tenant/add/",
                                 {"name": "Again", "slug": "acme", "plan": plan.pk})  # fmt: skip
    assert taken.status_code == 200
    assert "exists already" in str(taken.context["adminform"].form.errors["slug"])
    reserved = operator_client.post("/admin/console/tenant/add/",
                                    {"name": "X", "slug": "Bad-Slug", "plan": plan.pk})  # fmt: skip
    assert reserved.status_code == 200 and "slug" in reserved.context["adminform"].form.errors
    assert Tenant.objects.count() == 1
    # the last admin of a tenant stays: demoting them is refused on the form
    anna = User.objects.create_user("anna")
    membership_add(actor=User.objects.get(username="operator"), tenant_slug="acme",
                   username="anna", role="admin")  # fmt: skip
    membership = Membership.objects.get(user=anna)
    demote = operator_client.post(f"/admin/console/membership/{membership.pk}/change/",
                                  {"role": "viewer"})  # fmt: skip
    assert demote.status_code == 200
    assert "at least one admin" in str(demote.context["adminform"].form.errors)
    assert Membership.objects.get(pk=membership.pk).role == "admin"
    gone = operator_client.post(f"/admin/console/membership/{membership.pk}/delete/",
                                {"post": "yes"}, follow=True)  # fmt: skip
    assert gone.status_code == 200 and "at least one admin" in gone.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_tenant_and_membership_writes_in_the_admin_go_through_the_services(
    operator_client: Client, acme: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    plan = Plan.objects.get(name="basic")
    with django_capture_on_commit_callbacks() as callbacks:
        created = operator_client.post(
            "/admin/console/tenant/add/", {"name": "Globex", "slug": "globex", "plan": plan.pk}
        )
    assert created.status_code == 200 and created["Cache-Control"].count("no-store") == 1
    globex = Tenant.objects.get(slug="globex")
    account = ServiceAccount.objects.get(tenant=globex)
    assert "globex-app" in created.content.decode() and 'class="secret"' in created.content.decode()
    assert AccessRule.objects.filter(service_account=account).count() == 3  # the "full" preset
    assert AuditEvent.objects.filter(action="tenant.create", tenant_slug="globex").exists()
    assert settle(callbacks) >= 1
    bob = User.objects.create_user("bob")
    added = operator_client.post(
        "/admin/console/membership/add/", {"tenant": globex.pk, "user": bob.pk, "role": "admin"}
    )
    assert added.status_code == 302
    membership = Membership.objects.get(user=bob, tenant=globex)
    assert AuditEvent.objects.filter(action="membership.add", resource_name="bob").exists()
    carol = User.objects.create_user("carol")
    membership_add(actor=User.objects.get(username="operator"), tenant_slug="globex",
                   username="carol", role="viewer")  # fmt: skip
    changed = operator_client.post(
        f"/admin/console/membership/{Membership.objects.get(user=carol).pk}/change/",
        {"role": "developer"},
    )
    assert changed.status_code == 302
    assert Membership.objects.get(user=carol).role == "developer"
    assert AuditEvent.objects.get(action="membership.update").after == {"role": "developer"}
    removed = operator_client.post(
        f"/admin/console/membership/{Membership.objects.get(user=carol).pk}/delete/",
        {"post": "yes"},
    )
    assert removed.status_code == 302 and not Membership.objects.filter(user=carol).exists()
    assert AuditEvent.objects.filter(action="membership.remove", resource_name="carol").exists()
    assert membership.role == "admin"
    with django_capture_on_commit_callbacks() as callbacks:
        deleted = operator_client.post(f"/admin/console/tenant/{globex.pk}/delete/",
                                       {"post": "yes"})  # fmt: skip
    assert deleted.status_code == 302
    assert settle(callbacks) == 1
    assert Tenant.objects.get(pk=globex.pk).state == "deleting"  # the reconciler removes it
    assert AuditEvent.objects.filter(action="tenant.delete", tenant_slug="globex").exists()


def test_access_rules_are_added_and_deleted_through_the_services(
    operator_client: Client, acme: Tenant
) -> None:
    account = ServiceAccount.objects.get(tenant=acme)
    outside = operator_client.post("/admin/console/accessrule/add/", {
        "service_account": account.pk, "resource_type": "TOPIC", "resource_name": "globex.x",
        "pattern_type": "LITERAL", "operation": "READ", "permission_type": "ALLOW", "host": "*",
    })  # fmt: skip
    assert outside.status_code == 200 and outside.context["adminform"].form.errors
    assert not AccessRule.objects.filter(resource_name="globex.x").exists()
    inside = operator_client.post("/admin/console/accessrule/add/", {
        "service_account": account.pk, "resource_type": "TOPIC", "resource_name": "acme.orders",
        "pattern_type": "LITERAL", "operation": "READ", "permission_type": "ALLOW", "host": "*",
    })  # fmt: skip
    assert inside.status_code == 302, inside.context["adminform"].form.errors
    rule = AccessRule.objects.get(resource_name="acme.orders")
    assert AuditEvent.objects.filter(action="access_rule.create", tenant_slug="acme").count() == 4
    assert operator_client.get(f"/admin/console/accessrule/{rule.pk}/change/").status_code == 200
    edit = operator_client.post(f"/admin/console/accessrule/{rule.pk}/change/",
                                {"resource_name": "acme.other"})  # fmt: skip
    assert edit.status_code == 403
    deleted = operator_client.post(f"/admin/console/accessrule/{rule.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert AccessRule.objects.get(pk=rule.pk).deleting is True  # the reconciler removes the ACL
    assert AuditEvent.objects.filter(action="access_rule.delete").exists()


def test_rotate_shows_the_new_secret_once_and_stores_it_nowhere(
    operator_client: Client, acme: Tenant
) -> None:
    account = ServiceAccount.objects.get(tenant=acme)
    response = operator_client.post("/admin/console/serviceaccount/", {
        "action": "rotate_secret", "_selected_action": [account.pk],
    })  # fmt: skip
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [credential] = response.context["credentials"]
    secret = credential.password
    assert len(secret) >= 40 and secret in response.content.decode()
    assert AuditEvent.objects.filter(action="service_account.rotate").count() == 1
    for value in response.cookies.values():
        assert secret not in value.value
    from django.contrib.sessions.models import Session

    assert all(secret not in str(s.get_decoded()) for s in Session.objects.all())
    assert all(secret not in str(e.after) + str(e.message) for e in AuditEvent.objects.all())
    again = operator_client.get("/admin/console/serviceaccount/").content.decode()
    assert secret not in again
    assert secret not in operator_client.get(
        f"/admin/console/serviceaccount/{account.pk}/change/").content.decode()  # fmt: skip


def test_revoke_action_and_no_hard_delete_for_service_accounts(
    operator_client: Client, acme: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    account = ServiceAccount.objects.get(tenant=acme)
    listing = operator_client.get("/admin/console/serviceaccount/").content.decode()
    assert "rotate_secret" in listing and "revoke" in listing and "delete_selected" not in listing
    with django_capture_on_commit_callbacks() as callbacks:
        done = operator_client.post("/admin/console/serviceaccount/", {
            "action": "revoke", "_selected_action": [account.pk],
        })  # fmt: skip
    assert done.status_code == 302
    assert settle(callbacks) == 1
    account.refresh_from_db()
    assert account.state == ServiceAccountState.REVOKED
    assert AuditEvent.objects.filter(action="service_account.revoke").exists()
    assert operator_client.post(f"/admin/console/serviceaccount/{account.pk}/delete/",
                                {"post": "yes"}).status_code == 403  # fmt: skip
    assert ServiceAccount.objects.filter(pk=account.pk).exists()
    rotate = operator_client.post("/admin/console/serviceaccount/", {
        "action": "rotate_secret", "_selected_action": [account.pk],
    }, follow=True)  # fmt: skip
    assert rotate.status_code == 200 and "is revoked" in rotate.content.decode()
