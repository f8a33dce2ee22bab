"""DescribeGroups (key 15): state, protocol and members of classic groups.

A group that does not exist is described as Dead with no members (Kafka before
DescribeGroups v6). Member metadata, assignments and the protocol name are only shown
while the group is Stable. v3+ report authorized operations when asked: with no
authorizer, everything a group supports (READ, DESCRIBE, DELETE).
"""

from __future__ import annotations

import datetime

from broker.coordinator.group import GroupState
from broker.coordinator.results import DescribedGroup
from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

AUTHORIZED_OPERATIONS_OMITTED = -(2**31)
READ, DELETE, DESCRIBE = 3, 6, 8  # Kafka's AclOperation codes
GROUP_OPERATIONS = (1 << READ) | (1 << DELETE) | (1 << DESCRIBE)


def _dead(group_id: str) -> DescribedGroup:
    return DescribedGroup(group_id, ErrorCode.none, GroupState.DEAD.value, "", "")


@api(key=15, min_version=0, max_version=5)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    operations = (
        GROUP_OPERATIONS
        if getattr(request, "include_authorized_operations", False)
        else AUTHORIZED_OPERATIONS_OMITTED
    )
    described = []
    for group_id in request.groups:  # type: ignore[attr-defined]
        group = ctx.broker.groups.describe_group(group_id) or _dead(group_id)
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
                authorized_operations=operations,
            )
        )
    return build(
        response.DescribeGroupsResponse,
        throttle_time=datetime.timedelta(0),
        groups=tuple(described),
    )
