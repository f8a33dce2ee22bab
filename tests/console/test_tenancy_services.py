"""Services and selectors on PostgreSQL: roles as the table says, another tenant's
resources are "not found", validation by field, nothing half-created, audit kept."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from console import services, tenancy
from console.models import AccessRule, AuditEvent, Membership, Plan, ServiceAccount, Tenant
from console.roles import ROLE_ACTIONS, Action

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, User]:
    """Tenants acme and globex (made as rows: no cluster needed for these checks)."""
    plan = Plan.objects.create(name="small", max_topics=2)
    acme = Tenant.objects.create(name="Acme", slug="acme", plan=plan)
    globex = Tenant.objects.create(name="Globex", slug="globex", plan=plan)
    users = {"operator": User.objects.create_user("operator", is_staff=True)}
    for role in ("admin", "developer", "viewer"):
        users[role] = User.objects.create_user(role)
        Membership.objects.create(user=users[role], tenant=acme, role=role)
    users["outsider"] = User.objects.create_user("outsider")
    Membership.objects.create(user=users["outsider"], tenant=globex, role="admin")
    ServiceAccount.objects.create(tenant=acme, name="app")
    return users


ROLES = ("operator", "admin", "developer", "viewer", "outsider")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(Action, key=str))
def test_authorize_follows_the_role_table(
    world: dict[str, User], role: str, action: Action
) -> None:
    acme = Tenant.objects.get(slug="acme")
    if role == "outsider":
        with pytest.raises(tenancy.NotFound):
            tenancy.authorize(actor=world[role], action=action, tenant=acme)
    elif action in ROLE_ACTIONS[role]:
        tenancy.authorize(actor=world[role], action=action, tenant=acme)
    else:
        with pytest.raises((PermissionDenied, tenancy.NotFound)):
            tenancy.authorize(actor=world[role], action=action, tenant=acme)


def test_visible_tenants_are_the_members_tenants(world: dict[str, User]) -> None:
    slugs = lambda who: sorted(t.slug for t in tenancy.visible_tenants(actor=world[who]))  # noqa: E731
    assert slugs("operator") == ["acme", "globex"]
    assert slugs("viewer") == ["acme"]
    assert slugs("outsider") == ["globex"]


def test_another_tenants_account_is_not_found_not_forbidden(world: dict[str, User]) -> None:
    with pytest.raises(tenancy.NotFound):
        services.service_account_revoke(actor=world["outsider"], tenant_slug="acme", name="app")
    with pytest.raises(tenancy.NotFound):
        services.access_rules_from_preset(
            actor=world["outsider"], tenant_slug="acme", account_name="app", preset="producer"
        )
    assert ServiceAccount.objects.get(name="app").state == "active"


def test_a_viewer_may_not_create_a_rule(world: dict[str, User]) -> None:
    with pytest.raises(PermissionDenied):
        services.access_rules_from_preset(
            actor=world["viewer"], tenant_slug="acme", account_name="app", preset="producer"
        )
    assert not AccessRule.objects.exists()


@pytest.mark.parametrize(
    ("resource_name", "field"),
    [
        ("globex.orders", "resource_name"),
        ("acmex.orders", "resource_name"),
        ("orders", "resource_name"),
    ],
)
def test_rules_stay_inside_the_prefix(
    world: dict[str, User], resource_name: str, field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        services.access_rule_create(
            actor=world["admin"], tenant_slug="acme", account_name="app", resource_type="TOPIC",
            resource_name=resource_name, pattern_type="LITERAL", operation="READ",
        )  # fmt: skip
    assert field in raised.value.message_dict
    assert not AccessRule.objects.exists()


@pytest.mark.parametrize("slug", ["Acme", "acme.eu", "ac-me", "a", "x" * 33, "", "acme_eu"])
def test_bad_slugs_are_refused_by_field_and_nothing_is_created(
    world: dict[str, User], slug: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        services.tenant_create(actor=world["operator"], name="X", slug=slug, plan="small")
    assert "slug" in raised.value.message_dict
    assert Tenant.objects.count() == 2 and ServiceAccount.objects.count() == 1


def test_an_existing_slug_is_refused(world: dict[str, User]) -> None:
    with pytest.raises(ValidationError, match="exists already"):
        services.tenant_create(actor=world["operator"], name="X", slug="acme", plan="small")


def test_only_operators_create_tenants(world: dict[str, User]) -> None:
    with pytest.raises(tenancy.NotFound):
        services.tenant_create(actor=world["admin"], name="X", slug="newco", plan="small")


def test_the_last_admin_stays(world: dict[str, User]) -> None:
    with pytest.raises(ValidationError, match="at least one admin"):
        services.membership_update(
            actor=world["admin"], tenant_slug="acme", username="admin", role="viewer"
        )
    services.membership_update(
        actor=world["admin"], tenant_slug="acme", username="viewer", role="developer"
    )
    event = AuditEvent.objects.get(action="membership.update")
    assert (event.actor_name, event.before, event.after) == (
        "admin", {"role": "viewer"}, {"role": "developer"},
    )  # fmt: skip


def test_audit_events_are_immutable(world: dict[str, User]) -> None:
    services.membership_add(
        actor=world["admin"], tenant_slug="acme", username="outsider", role="viewer"
    )
    event = AuditEvent.objects.get(action="membership.add")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
