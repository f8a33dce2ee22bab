"""The audit log: who did what, when, before and after; newest first. Operators see
every event, members their tenants' events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema

from console.api.schemas import INT64_MAX, PageMeta, page_of, responses
from console.models import AuditEvent
from console.selectors import api_reads as selectors

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
    action: str = Query("", max_length=64),
    page: int = Query(1, ge=1),
) -> dict[str, Any]:
    events = selectors.audit_event_list(actor=request.auth, tenant=tenant, action=action, page=page)
    return page_of(events, [event_out(event) for event in events.object_list])


@router.get("/{event_id}", response=responses(AuditEventOut), summary="Get an audit event")
def audit_event_get(
    request: HttpRequest, event_id: int = Path(..., ge=1, le=INT64_MAX)
) -> dict[str, Any]:
    return event_out(selectors.audit_event_get(actor=request.auth, event_id=event_id))
