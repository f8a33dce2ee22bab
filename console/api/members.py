"""A tenant's members: users and their roles (tenant admins and operators change them)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from console import services
from console.api.schemas import Text, responses
from console.models import Membership
from console.selectors import tenants as selectors

router = Router(tags=["members"])
BASE = "/{slug}/members"
RoleName = Literal["admin", "developer", "viewer"]


class MemberOut(Schema):
    username: str
    role: str


class MemberIn(Schema):
    username: Text(150)
    role: RoleName


class RoleIn(Schema):
    role: RoleName


def member_out(membership: Membership) -> dict[str, Any]:
    return {"username": membership.user.get_username(), "role": membership.role}


@router.get(BASE, response=responses(list[MemberOut]), summary="List members")
def member_list(request: HttpRequest, slug: str) -> list[dict[str, Any]]:
    page = selectors.member_list(actor=request.auth, slug=slug)
    return [member_out(m) for m in page.members]


@router.post(BASE, response=responses(MemberOut, 201), summary="Add a member")
def membership_add(request: HttpRequest, slug: str, payload: MemberIn) -> Status[Any]:
    membership = services.membership_add(actor=request.auth, tenant_slug=slug, **payload.dict())
    return Status(201, member_out(membership))


@router.put(BASE + "/{username}", response=responses(MemberOut), summary="Change a role")
def membership_update(
    request: HttpRequest, slug: str, username: str, payload: RoleIn
) -> dict[str, Any]:
    membership = services.membership_update(
        actor=request.auth, tenant_slug=slug, username=username, role=payload.role
    )
    return member_out(membership)


@router.delete(BASE + "/{username}", response=responses(None, 204), summary="Remove a member")
def membership_remove(request: HttpRequest, slug: str, username: str) -> Status[None]:
    services.membership_remove(actor=request.auth, tenant_slug=slug, username=username)
    return Status(204, None)
