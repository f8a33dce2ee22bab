"""A tenant's service accounts: list, create and rotate (the secret in that one
response), get (connection settings without the secret), revoke; quotas (operators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from console import services
from console.api.access_rules import AccessRuleOut, rule_out
from console.api.schemas import ConditionOut, Text, responses
from console.api.tenants import CredentialOut, Mechanism, credential_out, never_cached
from console.models import ServiceAccount
from console.roles import Action
from console.selectors import tenants as selectors
from console.tenancy import authorize

router = Router(tags=["service accounts"])
BASE = "/{slug}/service-accounts"


class ServiceAccountOut(Schema):
    name: str
    username: str = Field(description="the SCRAM user: <slug>-<name>")
    principal: str
    description: str
    state: str
    mechanism: str
    credential_set: bool
    rotated_at: datetime | None
    quota_overrides: dict[str, float | None]
    quotas: dict[str, float] = Field(description="the client quotas the cluster should hold")
    condition: ConditionOut
    drift: list[dict[str, Any]]
    created_at: datetime


class ConnectionOut(Schema):
    bootstrap_servers: str
    security_protocol: str
    mechanism: str
    username: str


class ServiceAccountDetailOut(ServiceAccountOut):
    access_rules: list[AccessRuleOut]
    connection: ConnectionOut


class ServiceAccountCreateIn(Schema):
    name: Text(64)
    description: Text(200) = ""
    mechanism: Mechanism = "SCRAM-SHA-256"


class ServiceAccountCreatedOut(Schema):
    service_account: ServiceAccountOut
    credential: CredentialOut


QuotaValue = Annotated[float, Field(allow_inf_nan=False)] | None


class QuotasIn(Schema):
    """Per-account client quotas replacing the plan's; null: back to the plan's value."""

    quotas: dict[Text(64), QuotaValue] = Field(
        description="producer_byte_rate, consumer_byte_rate, request_percentage, "
        "controller_mutation_rate"
    )


def account_out(account: ServiceAccount) -> dict[str, Any]:
    return {
        "name": account.name, "username": account.username, "principal": account.principal,
        "description": account.description, "state": account.state,
        "mechanism": account.mechanism, "credential_set": account.credential_set,
        "rotated_at": account.rotated_at, "quota_overrides": account.quota_overrides,
        "quotas": account.quotas(), "condition": account.condition,
        "drift": account.drift or [], "created_at": account.created_at,
    }  # fmt: skip


def _detail(request: HttpRequest, slug: str, name: str) -> dict[str, Any]:
    detail = selectors.service_account_get(actor=request.auth, slug=slug, name=name)
    connection = detail.connection
    return account_out(detail.account) | {
        "access_rules": [rule_out(rule) for rule in detail.rules],
        "connection": {
            "bootstrap_servers": connection.bootstrap_servers,
            "security_protocol": selectors.SECURITY_PROTOCOL,
            "mechanism": connection.mechanism,
            "username": connection.username,
        },
    }


@router.get(BASE, response=responses(list[ServiceAccountOut]), summary="List service accounts")
def service_account_list(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    page = selectors.service_account_list(actor=request.auth, slug=slug)
    return [account_out(account) for account in page.accounts]


@router.post(BASE, response=responses(ServiceAccountCreatedOut, 201),
             summary="Create a service account")  # fmt: skip
def service_account_create(
    request: HttpRequest, response: HttpResponse, slug: str, payload: ServiceAccountCreateIn
) -> Status[dict[str, Any]]:
    credential = services.service_account_create(
        actor=request.auth, tenant_slug=slug, **payload.dict()
    )
    never_cached(response)
    account = selectors.service_account_get(actor=request.auth, slug=slug, name=payload.name)
    body = {
        "service_account": account_out(account.account),
        "credential": credential_out(credential),
    }
    return Status(201, body)


@router.get(BASE + "/{name}", response=responses(ServiceAccountDetailOut),
            summary="Get a service account")  # fmt: skip
def service_account_get(request: HttpRequest, slug: str, name: str) -> dict[str, Any]:
    return _detail(request, slug, name)


@router.post(BASE + "/{name}/rotate", response=responses(CredentialOut),
             summary="Rotate a service account's secret")  # fmt: skip
def service_account_rotate(
    request: HttpRequest, response: HttpResponse, slug: str, name: str
) -> dict[str, Any]:
    credential = services.service_account_rotate(actor=request.auth, tenant_slug=slug, name=name)
    never_cached(response)
    return credential_out(credential)


@router.post(BASE + "/{name}/revoke", response=responses(ServiceAccountDetailOut),
             summary="Revoke a service account")  # fmt: skip
def service_account_revoke(request: HttpRequest, slug: str, name: str) -> dict[str, Any]:
    """The reconciler removes its SCRAM user, ACLs and quotas from the cluster."""
    services.service_account_revoke(actor=request.auth, tenant_slug=slug, name=name)
    return _detail(request, slug, name)


@router.put(BASE + "/{name}/quotas", response=responses(ServiceAccountDetailOut),
            summary="Set a service account's quotas (operators)")  # fmt: skip
def quota_update(request: HttpRequest, slug: str, name: str, payload: QuotasIn) -> dict[str, Any]:
    """Operators; for anyone else the endpoint does not exist (404), as the quotas page."""
    authorize(actor=request.auth, action=Action.QUOTA_MANAGE)
    services.quota_update(actor=request.auth, tenant_slug=slug, name=name, quotas=payload.quotas)
    return _detail(request, slug, name)
