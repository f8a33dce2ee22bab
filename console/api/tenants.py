"""Tenants: list (members see their own), create (operators; the first service
account's secret in that one response), get, delete (type the slug), drift resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from console import services
from console.api.schemas import (
    ConditionOut,
    PageMeta,
    Text,
    page_of,
    responses,
)
from console.models import Tenant
from console.selectors import tenants as selectors
from console.services import Credential
from console.services.tenants import FIRST_ACCOUNT

router = Router(tags=["tenants"])

Slug = Text(32)
Mechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512"]


class UsageOut(Schema):
    used: int | None
    limit: int | None


class TenantOut(Schema):
    slug: str
    name: str
    prefix: str
    plan: str
    state: str
    role: str = Field(description="the caller's role in the tenant (operator for staff)")
    condition: ConditionOut
    usage: dict[str, UsageOut]
    created_at: datetime


class TenantPageOut(PageMeta):
    items: list[TenantOut]


class DeletionStepOut(Schema):
    name: str
    state: str
    removed: int | None
    message: str


class TenantDetailOut(TenantOut):
    drift: list[dict[str, Any]]
    service_accounts: int
    access_rules: int
    members: int
    deletion_steps: list[DeletionStepOut]


class CredentialOut(Schema):
    """A secret, in the one response that made it: the console does not keep it."""

    username: str
    password: str
    mechanism: str
    credential_set: bool = Field(description="the cluster accepted the credential")
    message: str
    bootstrap_servers: str
    security_protocol: str


class TenantCreateIn(Schema):
    name: Text(100)
    slug: Slug
    plan: Text(64)
    first_account: Text(64) = FIRST_ACCOUNT
    mechanism: Mechanism = "SCRAM-SHA-256"


class TenantCreatedOut(Schema):
    tenant: TenantDetailOut
    credential: CredentialOut


class DriftOut(Schema):
    detail: str
    problems: list[str]


def tenant_out(tenant: Tenant, role: str, usage: dict[str, selectors.Usage]) -> dict[str, Any]:
    return {
        "slug": tenant.slug, "name": tenant.name, "prefix": tenant.prefix,
        "plan": tenant.plan.name, "state": tenant.state, "role": role,
        "condition": tenant.condition, "created_at": tenant.created_at,
        "usage": {k: {"used": u.used, "limit": u.limit} for k, u in usage.items()},
    }  # fmt: skip


def detail_out(detail: selectors.TenantDetail) -> dict[str, Any]:
    return tenant_out(detail.tenant, detail.allowed.role, detail.usage) | {
        "drift": detail.tenant.drift or [],
        "service_accounts": detail.accounts,
        "access_rules": detail.rules,
        "members": detail.members,
        "deletion_steps": [vars(step) for step in detail.deletion_steps],
    }


def credential_out(credential: Credential) -> dict[str, Any]:
    connection = selectors.connection_settings(
        username=credential.username, mechanism=credential.mechanism
    )
    return {
        "username": credential.username, "password": credential.password,
        "mechanism": credential.mechanism, "credential_set": credential.credential_set,
        "message": credential.message, "bootstrap_servers": connection.bootstrap_servers,
        "security_protocol": selectors.SECURITY_PROTOCOL,
    }  # fmt: skip


def never_cached(response: HttpResponse) -> None:
    """A response with a secret: no cache keeps it."""
    patch_cache_control(response, no_store=True, private=True)


@router.get("", response=responses(TenantPageOut), summary="List tenants")
def tenant_list(
    request: HttpRequest, q: str = Query("", max_length=100), page: int = Query(1, ge=1)
) -> dict[str, Any]:
    listing = selectors.tenant_list(actor=request.auth, query=q, page=page)
    return page_of(listing.page, [tenant_out(r.tenant, r.role, r.usage) for r in listing.rows])


@router.post("", response=responses(TenantCreatedOut, 201), summary="Create a tenant")
def tenant_create(
    request: HttpRequest, response: HttpResponse, payload: TenantCreateIn
) -> Status[dict[str, Any]]:
    created = services.tenant_create(actor=request.auth, **payload.dict())
    never_cached(response)
    detail = selectors.tenant_get(actor=request.auth, slug=created.tenant.slug)
    return Status(
        201, {"tenant": detail_out(detail), "credential": credential_out(created.credential)}
    )


@router.get("/{slug}", response=responses(TenantDetailOut), summary="Get a tenant")
def tenant_get(request: HttpRequest, slug: str) -> dict[str, Any]:
    return detail_out(selectors.tenant_get(actor=request.auth, slug=slug))


@router.delete("/{slug}", response=responses(TenantDetailOut, 202), summary="Delete a tenant")
def tenant_delete(
    request: HttpRequest, slug: str, confirm_slug: str = Query(..., max_length=32)
) -> Status[dict[str, Any]]:
    """Operators. ``confirm_slug`` must repeat the slug; the reconciler then removes the
    tenant's ACLs, quotas, SCRAM users, groups and topics (``deletion_steps``)."""
    selectors.tenant_delete_get(actor=request.auth, slug=slug)  # the page's: 404 unless staff
    services.tenant_delete(actor=request.auth, slug=slug, confirm_slug=confirm_slug)
    return Status(202, detail_out(selectors.tenant_get(actor=request.auth, slug=slug)))


@router.post(
    "/{slug}/drift/reapply",
    response=responses(DriftOut),
    summary="Drift: re-apply the console's state",
)
def drift_reapply(request: HttpRequest, slug: str) -> dict[str, Any]:
    """Desired wins: the next reconcile makes the cluster match the console."""
    services.drift_reapply(actor=request.auth, tenant_slug=slug)
    return {"detail": "re-applying the console's state to the cluster", "problems": []}


@router.post(
    "/{slug}/drift/adopt", response=responses(DriftOut), summary="Drift: adopt the cluster's state"
)
def drift_adopt(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The cluster wins: what changed behind the console's back becomes desired state."""
    problems = services.drift_adopt(actor=request.auth, tenant_slug=slug)
    return {"detail": "adopting the cluster's state", "problems": problems}
