"""Tenancy in one place: who sees which tenant, and the permission check.

Every selector and service starts here. :func:`visible_tenants` narrows by the tenants
the acting user may see (all of them for operators, the ones they are a member of for
anyone else); :func:`authorize` is the one permission function: a tenant outside the
actor's view raises :class:`NotFound`, exactly as a slug that does not exist, so names
of other tenants never leak; a visible tenant whose role lacks the action raises
``PermissionDenied`` (403: the user already knows the tenant).
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from console.models import Membership, Tenant
from console.roles import OPERATOR, OPERATOR_ONLY, Action, allows

Actor: TypeAlias = AbstractBaseUser | AnonymousUser


class NotFound(Http404):
    """No such resource for this actor: missing, or another tenant's (the same answer)."""


def is_operator(actor: Actor) -> bool:
    return bool(getattr(actor, "is_active", False) and getattr(actor, "is_staff", False))


def visible_tenants(*, actor: Actor) -> QuerySet[Tenant]:
    """The tenants ``actor`` may see: every tenant for operators, else its memberships."""
    if is_operator(actor):
        return Tenant.objects.all()
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return Tenant.objects.none()
    return Tenant.objects.filter(memberships__user=actor).distinct()


def role_of(*, actor: Actor, tenant: Tenant) -> str | None:
    """``operator`` for staff, the member's role, or None."""
    if is_operator(actor):
        return OPERATOR
    if not getattr(actor, "is_authenticated", False):
        return None
    membership = Membership.objects.filter(user=actor, tenant=tenant).first()
    return membership.role if membership else None


def authorize(*, actor: Actor, action: Action, tenant: Tenant | None = None) -> str:
    """Raise unless ``actor`` may take ``action`` (on ``tenant``); the role that allows it.

    Operator-only actions answer NotFound to anyone else (the page does not exist for
    them); tenant actions answer NotFound outside the actor's tenants and
    PermissionDenied inside them when the role is too weak.
    """
    if is_operator(actor):
        return OPERATOR
    if tenant is None or action in OPERATOR_ONLY:
        if tenant is not None and role_of(actor=actor, tenant=tenant) is not None:
            raise PermissionDenied(f"only operators may do this ({action})")
        raise NotFound("no such page")
    role = role_of(actor=actor, tenant=tenant)
    if role is None:
        raise NotFound("no such tenant")
    if not allows(role, action):
        raise PermissionDenied(f"a tenant {role} may not do this ({action})")
    return role


def tenant_for(*, actor: Actor, slug: str, action: Action = Action.TENANT_VIEW) -> Tenant:
    """The tenant ``slug`` if ``actor`` may take ``action`` on it, else NotFound/403."""
    tenant = visible_tenants(actor=actor).select_related("plan").filter(slug=slug).first()
    if tenant is None:
        raise NotFound("no such tenant")
    authorize(actor=actor, action=action, tenant=tenant)
    return tenant


def tenant_of_name(name: str, tenants: QuerySet[Tenant] | list[Tenant]) -> Tenant | None:
    """The tenant whose prefix ``name`` (a topic, group, transactional id) is inside."""
    slug, dot, _ = name.partition(".")
    if not dot:
        return None
    for tenant in tenants:
        if tenant.slug == slug:
            return tenant
    return None
