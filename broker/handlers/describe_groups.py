"""DescribeGroups (key 15): state, protocol and members of classic groups.

A group that does not exist is described as Dead with no members (Kafka before
DescribeGroups v6). Member metadata, assignments and the protocol name are only shown
while the group is Stable. Each group needs DESCRIBE (GROUP_AUTHORIZATION_FAILED).
v3+ report the client's authorized operations on the group when asked: with no
authorizer, everything a group supports (READ, DESCRIBE, DELETE).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.coordinator.group import GroupState
from broker.coordinator.results import DescribedGroup
from broker.errors import ErrorCode
from broker.handlers.authorization import operations
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def _dead(group_id: str) -> DescribedGroup:
    return DescribedGroup(group_id, ErrorCode.none, GroupState.DEAD.value, "", "")


def _describe(ctx: RequestContext, group_id: str) -> DescribedGroup:
    if not ctx.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, group_id):
        return DescribedGroup(group_id, ErrorCode.group_authorization_failed, "", "", "")
    return ctx.broker.groups.describe_group(group_id) or _dead(group_id)


@api(key=15, min_version=0, max_version=5)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    wanted = bool(getattr(request, "include_authorized_operations", False))
    described = []
    for group_id in request.groups:  # type: ignore[attr-defined]
        group = _describe(ctx, group_id)
        allowed = group.error != ErrorCode.group_authorization_failed
        described.append(
            build(
                response.DescribedGroup,
                error_code=group.error,
                group_id=group.group_id,
                group_state=group.state,
                protocol_type=group.protocol_type,
                protocol_data=group.protocol_data,
                members=tuple(
                    build(
                        response.DescribedGroupMember,
                        member_id=member.member_id,
                        group_instance_id=member.group_instance_id,
                        client_id=member.client_id,
                        client_host=member.client_host,
                        member_metadata=member.metadata,
                        member_assignment=member.assignment,
                    )
                    for member in group.members
                ),
                authorized_operations=operations(
                    ctx, wanted and allowed, ResourceType.GROUP, group_id
                ),
            )
        )
    return build(
        response.DescribeGroupsResponse,
        throttle_time=datetime.timedelta(0),
        groups=tuple(described),
    )
