"""Operators' cluster-wide reads: every ACL, the SCRAM users, and the effective-permission
check (the broker's own authorizer rules over what the cluster reports). Anyone else: 404."""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema

from broker.common import acls
from console import selectors
from console.api.schemas import responses
from console.forms.topics import OPERATIONS, RESOURCE_TYPES

router = Router(tags=["cluster (operators)"])

OperationName = Literal[OPERATIONS]  # type: ignore[valid-type]
ResourceTypeName = Literal[RESOURCE_TYPES]  # type: ignore[valid-type]


class AclOut(Schema):
    resource_type: str
    resource_name: str
    pattern_type: str
    principal: str
    host: str
    operation: str
    permission_type: str


class ScramCredentialOut(Schema):
    mechanism: str
    iterations: int


class ScramUserOut(Schema):
    name: str
    credentials: list[ScramCredentialOut]


class DecisionOut(Schema):
    allowed: bool
    reason: str
    binding: AclOut | None


@router.get("/acls", response=responses(list[AclOut]), summary="Every ACL on the cluster")
def acl_list(request: HttpRequest) -> list[dict[str, str]]:
    return [binding.to_json() for binding in selectors.acl_list(actor=request.auth)]


@router.get("/scram-users", response=responses(list[ScramUserOut]), summary="SCRAM users")
def scram_user_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"name": user.name,
         "credentials": [{"mechanism": m, "iterations": i} for m, i in user.credentials]}
        for user in selectors.scram_user_list(actor=request.auth)
    ]  # fmt: skip


@router.get("/permission-check", response=responses(DecisionOut),
            summary="May a principal do an operation on a resource?")  # fmt: skip
def permission_check(
    request: HttpRequest,
    principal: str = Query(..., max_length=255, description="TYPE:NAME, e.g. User:acme-app"),
    operation: OperationName = Query(...),
    resource_type: ResourceTypeName = Query(...),
    resource_name: str = Query(..., max_length=255),
    host: str = Query("*", max_length=255),
) -> dict[str, Any]:
    kind, sep, name = principal.strip().partition(":")
    if not (kind and sep and name):
        raise ValidationError({"principal": ["A principal is TYPE:NAME, e.g. User:alice."]})
    decision = selectors.permission_check(
        actor=request.auth, principal=principal.strip(), host=host.strip() or "*",
        operation=acls.AclOperation[operation],
        resource_type=acls.ResourceType[resource_type], resource_name=resource_name.strip(),
    )  # fmt: skip
    binding = decision.binding.to_json() if decision.binding is not None else None
    return {"allowed": decision.allowed, "reason": str(decision.reason), "binding": binding}
