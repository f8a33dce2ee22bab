"""Reads the REST API needs that main had no selector for yet: audit events and plans.

Interim: the audit and plans pages (console/selectors/audit.py and plans.py, being
built beside this) are to serve the same data; once they are merged, the API's
endpoints should call those and this module goes, so that one selector serves the page
and the API.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet

from console.models import AuditEvent, Membership, Plan
from console.roles import ROLE_ACTIONS, Action
from console.tenancy import Actor, NotFound, authorize, is_operator, tenant_for

AUDIT_PAGE_SIZE = 50


def audit_event_list(
    *, actor: Actor, tenant: str = "", action: str = "", page: int = 1
) -> Page[Any]:
    """Newest first. Operators see every event; a member only its tenants' events where
    its role allows ``audit.view``; ``tenant`` narrows to one (another tenant's slug is
    NotFound)."""
    events: QuerySet[AuditEvent] = AuditEvent.objects.all()
    if tenant:
        events = events.filter(
            tenant=tenant_for(actor=actor, slug=tenant, action=Action.AUDIT_VIEW)
        )
    elif not is_operator(actor):
        roles = [role for role, actions in ROLE_ACTIONS.items() if Action.AUDIT_VIEW in actions]
        tenant_ids = Membership.objects.filter(
            user=actor if getattr(actor, "is_authenticated", False) else None, role__in=roles
        ).values("tenant_id")
        events = events.filter(tenant_id__in=tenant_ids)
    if action:
        events = events.filter(action=action)
    return Paginator(events.order_by("-at", "-id"), AUDIT_PAGE_SIZE).get_page(page)


def audit_event_get(*, actor: Actor, event_id: int) -> AuditEvent:
    """One event, if the actor may see it; else NotFound (the same as a missing id)."""
    event = AuditEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound("no such audit event")
    if is_operator(actor):
        return event
    if event.tenant is None:
        raise NotFound("no such audit event")
    try:
        authorize(actor=actor, action=Action.AUDIT_VIEW, tenant=event.tenant)
    except PermissionDenied as exc:
        raise NotFound("no such audit event") from exc
    return event


def plan_list(*, actor: Actor) -> list[Plan]:
    """Operators: every plan, with how many tenants use it (``tenant_count``)."""
    authorize(actor=actor, action=Action.PLAN_VIEW)
    return list(Plan.objects.annotate(tenant_count=Count("tenants")).order_by("name"))


def plan_get(*, actor: Actor, name: str) -> Plan:
    authorize(actor=actor, action=Action.PLAN_VIEW)
    plan = Plan.objects.annotate(tenant_count=Count("tenants")).filter(name=name).first()
    if plan is None:
        raise NotFound("no such plan")
    return plan
