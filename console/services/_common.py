"""What every console service shares: the audit record and the reconcile request.

Each service validates, then inside one ``transaction.atomic()`` writes desired state,
calls :func:`audit` and :func:`request_reconcile`; the reconcile is enqueued by
``transaction.on_commit``, so a change that rolls back never reaches the cluster.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from console.models import AuditEvent, Tenant
from console.tenancy import Actor


def field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def audit(
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_name: str,
    tenant: Tenant | None = None,
    before: Any = None,
    after: Any = None,
    result: str = "ok",
    message: str = "",
) -> AuditEvent:
    """Record who did what (never a secret: callers pass descriptions, not credentials)."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=getattr(actor, "username", "") or "system",
        tenant=tenant,
        tenant_slug=tenant.slug if tenant else "",
        action=action,
        resource_type=resource_type,
        resource_name=resource_name,
        before=before,
        after=after,
        result=result,
        message=message,
    )


def request_reconcile(tenant: Tenant) -> None:
    """Mark the tenant's desired state changed and, once the transaction commits, ask a
    Celery worker to reconcile it."""
    Tenant.objects.filter(pk=tenant.pk).update(generation=F("generation") + 1)
    tenant_id = tenant.pk
    transaction.on_commit(lambda: enqueue_reconcile(tenant_id))


def enqueue_reconcile(tenant_id: int) -> None:
    from console.tasks import reconcile_tenant

    reconcile_tenant.delay(tenant_id)
