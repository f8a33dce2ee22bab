"""Plans, tenants and memberships."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from console.models import Membership, Plan, ReadyState, Role, Tenant, TenantState
from console.names import validate_slug
from console.roles import Action
from console.services._common import audit, field_error, request_reconcile
from console.services.access import add_preset
from console.services.accounts import Credential, create_account
from console.tenancy import Actor, NotFound, authorize, tenant_for

FIRST_ACCOUNT = "app"


def _validate_plan_values(values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key not in Plan.QUOTA_KEYS + Plan.LIMIT_FIELDS:
            raise field_error(key, f"Unknown plan field {key!r}.", "unknown")
        if value is not None and value <= 0:
            raise field_error(key, f"{key} must be greater than 0 (or empty: unlimited).", "min")


def plan_create(*, actor: Actor, name: str, **values: Any) -> Plan:
    """Operators: a plan with quotas and limits (unset: unlimited)."""
    authorize(actor=actor, action=Action.PLAN_MANAGE)
    _validate_plan_values(values)
    if not name.strip():
        raise field_error("name", "A plan needs a name.", "required")
    with transaction.atomic():
        if Plan.objects.filter(name=name).exists():
            raise field_error("name", f"A plan named {name!r} exists already.", "exists")
        plan = Plan.objects.create(name=name, **values)
        audit(actor=actor, action="plan.create", resource_type="plan", resource_name=name,
              after=plan.snapshot())  # fmt: skip
    return plan


def plan_update(*, actor: Actor, name: str, **values: Any) -> Plan:
    """Operators: change a plan; every tenant on it is reconciled (quotas, limits)."""
    authorize(actor=actor, action=Action.PLAN_MANAGE)
    _validate_plan_values(values)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().filter(name=name).first()
        if plan is None:
            raise NotFound("no such plan")
        before = plan.snapshot()
        for key, value in values.items():
            setattr(plan, key, value)
        plan.save()
        audit(actor=actor, action="plan.update", resource_type="plan", resource_name=name,
              before=before, after=plan.snapshot())  # fmt: skip
        for tenant in plan.tenants.filter(state=TenantState.ACTIVE):
            request_reconcile(tenant)
    return plan


@dataclass(frozen=True, repr=False)
class TenantCreated:
    tenant: Tenant
    credential: Credential  # the first service account's secret, shown once

    def __repr__(self) -> str:
        return f"TenantCreated(tenant={self.tenant.slug!r}, credential={self.credential!r})"


def tenant_create(
    *,
    actor: Actor,
    name: str,
    slug: str,
    plan: str,
    first_account: str = FIRST_ACCOUNT,
    mechanism: str = "SCRAM-SHA-256",
) -> TenantCreated:
    """Operators: a tenant with prefix ``<slug>.``, and its first service account (full
    access to the prefix), whose secret is returned once."""
    authorize(actor=actor, action=Action.TENANT_CREATE)
    try:
        validate_slug(slug)
    except ValidationError as exc:
        raise ValidationError({"slug": exc}) from exc
    if not name.strip():
        raise field_error("name", "A tenant needs a name.", "required")
    chosen = Plan.objects.filter(name=plan).first()
    if chosen is None:
        raise field_error("plan", f"No plan named {plan!r}.", "unknown_plan")
    try:
        with transaction.atomic():
            if Tenant.objects.filter(slug=slug).exists():
                raise field_error("slug", f"A tenant with slug {slug!r} exists already.", "exists")
            tenant = Tenant.objects.create(name=name.strip(), slug=slug, plan=chosen)
            audit(
                actor=actor, action="tenant.create", tenant=tenant, resource_type="tenant",
                resource_name=slug, after={"name": tenant.name, "slug": slug, "plan": plan},
            )  # fmt: skip
            credential = create_account(
                actor=actor, tenant=tenant, name=first_account, mechanism=mechanism
            )
            add_preset(actor=actor, tenant=tenant, account_id=credential.account_id, preset="full")
    except IntegrityError as exc:  # the same slug created concurrently
        raise field_error("slug", f"A tenant with slug {slug!r} exists already.", "exists") from exc
    return TenantCreated(tenant=tenant, credential=credential)


def tenant_delete(*, actor: Actor, slug: str, confirm_slug: str) -> None:
    """Operators: delete the tenant (its slug typed to confirm). The reconciler removes
    its ACLs, quotas, SCRAM users, consumer groups and topics, then the tenant itself;
    a failure half-way resumes on the next run."""
    tenant = tenant_for(actor=actor, slug=slug, action=Action.TENANT_DELETE)
    if confirm_slug != tenant.slug:
        raise field_error(
            "confirm_slug", f"Type the tenant's slug ({tenant.slug}) to confirm.", "confirm"
        )
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if locked.state == TenantState.DELETING:
            return
        locked.state = TenantState.DELETING
        locked.deletion_progress = {}
        locked.ready_state = ReadyState.PENDING
        locked.ready_reason = "Deleting"
        locked.ready_message = "removing the tenant's resources from the cluster"
        locked.ready_transition = timezone.now()
        locked.save()
        audit(
            actor=actor, action="tenant.delete", tenant=locked, resource_type="tenant",
            resource_name=slug, before={"name": locked.name, "plan": locked.plan.name},
        )  # fmt: skip
        request_reconcile(locked)


def _user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise field_error("username", f"No active user named {username!r}.", "unknown_user")
    return user


def _role(role: str) -> str:
    if role not in Role.values:
        raise field_error(
            "role", f"Unknown role {role!r}: one of {', '.join(Role.values)}.", "role"
        )
    return role


def membership_add(*, actor: Actor, tenant_slug: str, username: str, role: str) -> Membership:
    """Tenant admins and operators: give an existing user a role in the tenant."""
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.MEMBER_MANAGE)
    user = _user(username)
    with transaction.atomic():
        if Membership.objects.filter(tenant=tenant, user=user).exists():
            raise field_error("username", f"{username} is a member already.", "exists")
        membership = Membership.objects.create(tenant=tenant, user=user, role=_role(role))
        audit(actor=actor, action="membership.add", tenant=tenant, resource_type="membership",
              resource_name=username, after={"role": role})  # fmt: skip
    return membership


def _membership(tenant: Tenant, username: str) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .filter(tenant=tenant, user__username=username)
        .first()
    )
    if membership is None:
        raise NotFound("no such member")
    return membership


def _keeps_an_admin(tenant: Tenant, membership: Membership, new_role: str | None) -> None:
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    others = Membership.objects.filter(tenant=tenant, role=Role.ADMIN).exclude(pk=membership.pk)
    if not others.exists():
        raise field_error("role", "A tenant keeps at least one admin.", "last_admin")


def membership_update(*, actor: Actor, tenant_slug: str, username: str, role: str) -> Membership:
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.MEMBER_MANAGE)
    with transaction.atomic():
        membership = _membership(tenant, username)
        _keeps_an_admin(tenant, membership, _role(role))
        before = {"role": membership.role}
        membership.role = role
        membership.save(update_fields=["role"])
        audit(actor=actor, action="membership.update", tenant=tenant,
              resource_type="membership", resource_name=username, before=before,
              after={"role": role})  # fmt: skip
    return membership


def membership_remove(*, actor: Actor, tenant_slug: str, username: str) -> None:
    tenant = tenant_for(actor=actor, slug=tenant_slug, action=Action.MEMBER_MANAGE)
    with transaction.atomic():
        membership = _membership(tenant, username)
        _keeps_an_admin(tenant, membership, None)
        before = {"role": membership.role}
        membership.delete()
        audit(actor=actor, action="membership.remove", tenant=tenant,
              resource_type="membership", resource_name=username, before=before)  # fmt: skip
