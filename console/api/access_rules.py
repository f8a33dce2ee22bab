"""A tenant's access rules (desired ACLs inside its prefix): list by account, create one
or a preset's, delete (the reconciler removes the ACL, then the rule)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from ninja.responses import Status

from console import services
from console.api.schemas import INT64_MAX, ConditionOut, PageMeta, Text, page_of, responses
from console.models import AccessRule
from console.selectors import tenants as selectors

router = Router(tags=["access rules"])
BASE = "/{slug}/access-rules"

ResourceType = Literal["TOPIC", "GROUP", "TRANSACTIONAL_ID"]
PatternType = Literal["LITERAL", "PREFIXED"]
Permission = Literal["ALLOW", "DENY"]
Operation = Literal[
    "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE",
    "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE",
]  # fmt: skip
Preset = Literal["producer", "consumer", "full"]


class AccessRuleOut(Schema):
    id: int
    service_account: str
    principal: str
    resource_type: str
    resource_name: str
    pattern_type: str
    operation: str
    permission_type: str
    host: str
    deleting: bool
    condition: ConditionOut


class AccessRulePageOut(PageMeta):
    items: list[AccessRuleOut]


class AccessRuleIn(Schema):
    account: Text(64)
    resource_type: ResourceType
    resource_name: Text(249)
    pattern_type: PatternType = "LITERAL"
    operation: Operation
    permission_type: Permission = "ALLOW"
    host: Text(255) = "*"


class PresetIn(Schema):
    account: Text(64)
    preset: Preset


class AcceptedOut(Schema):
    detail: str


def rule_out(rule: AccessRule) -> dict[str, Any]:
    return {
        "id": rule.pk, "service_account": rule.service_account.name,
        "principal": rule.service_account.principal, "resource_type": rule.resource_type,
        "resource_name": rule.resource_name, "pattern_type": rule.pattern_type,
        "operation": rule.operation, "permission_type": rule.permission_type,
        "host": rule.host, "deleting": rule.deleting, "condition": rule.condition,
    }  # fmt: skip


@router.get(BASE, response=responses(AccessRulePageOut), summary="List access rules")
def access_rule_list(
    request: HttpRequest,
    slug: str,
    account: str = Query("", max_length=64),
    page: int = Query(1, ge=1),
) -> dict[str, Any]:
    listing = selectors.access_rule_list(actor=request.auth, slug=slug, account=account, page=page)
    return page_of(listing.rules, [rule_out(rule) for rule in listing.rules.object_list])


@router.post(BASE, response=responses(AccessRuleOut, 201), summary="Create an access rule")
def access_rule_create(
    request: HttpRequest, slug: str, payload: AccessRuleIn
) -> Status[dict[str, Any]]:
    fields = payload.dict()
    rule = services.access_rule_create(
        actor=request.auth, tenant_slug=slug, account_name=fields.pop("account"), **fields
    )
    return Status(201, rule_out(rule))


@router.post(BASE + "/presets", response=responses(list[AccessRuleOut], 201),
             summary="Add a preset's rules over the whole prefix")  # fmt: skip
def access_rules_from_preset(
    request: HttpRequest, slug: str, payload: PresetIn
) -> Status[list[dict[str, Any]]]:
    """``producer``, ``consumer`` or ``full``; rules the account has already are kept."""
    rules = services.access_rules_from_preset(
        actor=request.auth, tenant_slug=slug, account_name=payload.account, preset=payload.preset
    )
    return Status(201, [rule_out(rule) for rule in rules])


@router.delete(BASE + "/{rule_id}", response=responses(AcceptedOut, 202),
               summary="Delete an access rule")  # fmt: skip
def access_rule_delete(
    request: HttpRequest, slug: str, rule_id: int = Path(..., ge=1, le=INT64_MAX)
) -> Status[dict[str, str]]:
    services.access_rule_delete(actor=request.auth, tenant_slug=slug, rule_id=rule_id)
    return Status(202, {"detail": "the ACL is being removed from the cluster"})
