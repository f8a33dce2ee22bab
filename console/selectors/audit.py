"""Reads for the audit log: ``/audit/`` (filtered, paged, newest first) and one event.

Operators see every event; anyone else sees the events of the tenants where their role
allows ``audit.view``, and an event outside them is NotFound (404), like an id that does
not exist. Events without a tenant (plans) are operators' only. A filter naming a tenant
the actor cannot see is refused with the same message as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from console.models import AuditEvent, Membership
from console.roles import ROLE_ACTIONS, Action
from console.services._common import field_error
from console.tenancy import Actor, NotFound, is_operator, visible_tenants

PAGE_SIZE = 50


def _roles_with(action: Action) -> list[str]:
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


def visible_events(*, actor: Actor) -> QuerySet[AuditEvent]:
    """Every event for operators; else those of tenants whose role allows audit.view."""
    if is_operator(actor):
        return AuditEvent.objects.all()
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return AuditEvent.objects.none()
    roles = _roles_with(Action.AUDIT_VIEW)
    tenants = Membership.objects.filter(user=actor, role__in=roles).values("tenant_id")
    return AuditEvent.objects.filter(tenant_id__in=tenants)


def may_view_audit(*, actor: Actor) -> bool:
    """Whether the Audit page has anything for ``actor`` (the nav link)."""
    if is_operator(actor):
        return True
    if not getattr(actor, "is_authenticated", False):
        return False
    roles = _roles_with(Action.AUDIT_VIEW)
    return Membership.objects.filter(user=actor, role__in=roles).exists()


@dataclass(frozen=True)
class AuditFilters:
    tenant: str = ""
    actor: str = ""
    action: str = ""
    resource: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def as_query(self) -> dict[str, str]:
        """The filters as GET parameters (for the pager's links)."""
        values = {
            "tenant": self.tenant, "actor": self.actor, "action": self.action,
            "resource": self.resource,
            "from": self.since.isoformat(timespec="minutes") if self.since else "",
            "to": self.until.isoformat(timespec="minutes") if self.until else "",
        }  # fmt: skip
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class AuditListPage:
    page: Page[Any]
    filters: AuditFilters
    tenants: list[str]
    actions: list[str]
    operator: bool


def audit_list(
    *, actor: Actor, filters: AuditFilters = AuditFilters(), page: int | str = 1
) -> AuditListPage:
    """``/audit/``: the actor's events, filtered, newest first, PAGE_SIZE at a time.

    Raises ValidationError (by filter field) for a tenant the actor cannot see."""
    events = visible_events(actor=actor)
    tenants = list(visible_tenants(actor=actor).order_by("slug").values_list("slug", flat=True))
    actions = sorted(set(events.values_list("action", flat=True).distinct()))
    if filters.tenant:
        known = filters.tenant in tenants or (
            is_operator(actor) and events.filter(tenant_slug=filters.tenant).exists()
        )
        if not known:
            raise field_error("tenant", f"No tenant {filters.tenant!r}.", "unknown_tenant")
        events = events.filter(tenant_slug=filters.tenant)
    if filters.actor:
        events = events.filter(actor_name__icontains=filters.actor)
    if filters.action:
        events = events.filter(action__istartswith=filters.action)
    if filters.resource:
        events = events.filter(
            Q(resource_name__icontains=filters.resource)
            | Q(resource_type__icontains=filters.resource)
        )
    if filters.since:
        events = events.filter(at__gte=filters.since)
    if filters.until:
        events = events.filter(at__lte=filters.until)
    paged = Paginator(events.order_by("-at", "-id"), PAGE_SIZE).get_page(page)
    return AuditListPage(
        page=paged, filters=filters, tenants=tenants, actions=actions,
        operator=is_operator(actor),
    )  # fmt: skip


@dataclass(frozen=True)
class DiffRow:
    """One field of an event's state: before, after, and whether it changed."""

    key: str
    before: Any
    after: Any
    in_before: bool
    in_after: bool

    @property
    def changed(self) -> bool:
        return self.in_before != self.in_after or self.before != self.after

    @property
    def kind(self) -> str:
        if not self.in_before:
            return "added"
        if not self.in_after:
            return "removed"
        return "changed" if self.changed else "same"


_MISSING = object()


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; a non-dict value is the key ``prefix``
    (or ``value`` at the top)."""
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, inner in value.items():
            flat |= _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
        return flat
    return {prefix or "value": value}


def state_diff(before: Any, after: Any) -> list[DiffRow]:
    """The event's before and after, field by field, in a stable order."""
    old = {} if before is None else _flatten(before)
    new = {} if after is None else _flatten(after)
    keys = list(old) + [k for k in new if k not in old]
    return [
        DiffRow(key=k, before=old.get(k), after=new.get(k), in_before=k in old, in_after=k in new)
        for k in keys
    ]


@dataclass(frozen=True)
class AuditDetail:
    event: AuditEvent
    diff: list[DiffRow]


def audit_get(*, actor: Actor, event_id: int) -> AuditDetail:
    """``/audit/<id>/``: one event, its before/after as a diff; NotFound outside the
    actor's tenants."""
    event = visible_events(actor=actor).select_related("tenant").filter(pk=event_id).first()
    if event is None:
        raise NotFound("no such audit event")
    return AuditDetail(event=event, diff=state_diff(event.before, event.after))
