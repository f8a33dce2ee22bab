"""LeaveGroup (key 13): members leave a classic group, which rebalances.

v0-2 name one member and answer with its error; v3+ batch members (KIP-345), each
identified by member ID and/or ``group.instance.id`` (an empty member ID with an
instance ID removes that static member, as ``kafka-consumer-groups --remove-members``
does), each with its own error. Needs READ on the group (GROUP_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.coordinator.results import LeaveResponse
from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=13, min_version=0, max_version=5)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    batched = hasattr(request, "members")
    if batched:
        members = [(m.member_id, m.group_instance_id) for m in request.members]  # type: ignore[attr-defined]
    else:
        members = [(request.member_id, None)]  # type: ignore[attr-defined]
    if ctx.authorize(AclOperation.READ, ResourceType.GROUP, request.group_id):  # type: ignore[attr-defined]
        result = ctx.broker.groups.leave_group(request.group_id, members)  # type: ignore[attr-defined]
    else:
        result = LeaveResponse(ErrorCode.group_authorization_failed)
    error = result.error
    if not batched and error == ErrorCode.none and result.members:
        error = result.members[0].error
    return build(
        response.LeaveGroupResponse,
        throttle_time=datetime.timedelta(0),
        error_code=error,
        members=tuple(
            build(
                response.MemberResponse,
                member_id=member.member_id,
                group_instance_id=member.group_instance_id,
                error_code=member.error,
            )
            for member in result.members
        )
        if batched
        else (),
    )
