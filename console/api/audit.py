"""The audit log: who did what, when, before and after; newest first. Operators see
every event, members their tenants' events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from pydantic import Field

from console.api.schemas import INT64_MAX, Moment, PageMeta, page_of, responses
from console.models import AuditEvent
from console.selectors import audit as selectors

router = Router(tags=["audit events"])


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor: str
    tenant: str
    action: str
    resource_type: str
    resource_name: str
    before: Any = None
    after: Any = None
    result: str
    message: str


class AuditEventPageOut(PageMeta):
    items: list[AuditEventOut]


class DiffRowOut(Schema):
    key: str
    kind: str = Field(description="added, removed, changed or same")
    before: Any = None
    after: Any = None


class AuditEventDetailOut(AuditEventOut):
    diff: list[DiffRowOut]


def event_out(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk, "at": event.at, "actor": event.actor_name, "tenant": event.tenant_slug,
        "action": event.action, "resource_type": event.resource_type,
        "resource_name": event.resource_name, "before": event.before, "after": event.after,
        "result": event.result, "message": event.message,
    }  # fmt: skip


@router.get("", response=responses(AuditEventPageOut), summary="List audit events")
def audit_event_list(
    request: HttpRequest,
    tenant: str = Query("", max_length=32),
    actor: str = Query("", max_length=150, description="the user's name contains"),
    action: str = Query("", max_length=64, description="starts with, e.g. service_account."),
    resource: str = Query("", max_length=300, description="type or name contains"),
    since: Moment | None = Query(None, alias="from"),
    until: Moment | None = Query(None, alias="to"),
    page: int = Query(1, ge=1),
) -> dict[str, Any]:
    """The audit page's filters; a tenant the caller cannot see is refused (422) with
    the same message as one that does not exist."""
    filters = selectors.AuditFilters(
        tenant=tenant, actor=actor, action=action, resource=resource, since=since, until=until
    )
    listing = selectors.audit_list(actor=request.auth, filters=filters, page=page)
    return page_of(listing.page, [event_out(event) for event in listing.page.object_list])


@router.get("/{event_id}", response=responses(AuditEventDetailOut), summary="Get an audit event")
def audit_event_get(
    request: HttpRequest, event_id: int = Path(..., ge=1, le=INT64_MAX)
) -> dict[str, Any]:
    detail = selectors.audit_get(actor=request.auth, event_id=event_id)
    diff = [{"key": r.key, "kind": r.kind, "before": r.before, "after": r.after}
            for r in detail.diff]  # fmt: skip
    return event_out(detail.event) | {"diff": diff}
