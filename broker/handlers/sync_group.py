"""SyncGroup (key 14): members collect their assignment; the leader brings it.

In CompletingRebalance the request is held until the leader's assignment has been
persisted to ``__consumer_offsets`` (a GroupMetadata record); in Stable it is answered
at once with the member's current assignment. v5+ name the protocol type and name,
which must match the group's (INCONSISTENT_GROUP_PROTOCOL otherwise). Needs READ on
the group (GROUP_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.coordinator.classic import SyncRequest
from broker.coordinator.results import SyncResponse
from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=14, min_version=0, max_version=5)
async def handle(ctx: RequestContext, request: object) -> object:
    sync = SyncRequest(
        group_id=request.group_id,  # type: ignore[attr-defined]
        generation_id=request.generation_id,  # type: ignore[attr-defined]
        member_id=request.member_id,  # type: ignore[attr-defined]
        group_instance_id=getattr(request, "group_instance_id", None),
        protocol_type=getattr(request, "protocol_type", None),
        protocol_name=getattr(request, "protocol_name", None),
        assignments={a.member_id: a.assignment for a in request.assignments},  # type: ignore[attr-defined]
    )
    if ctx.authorize(AclOperation.READ, ResourceType.GROUP, sync.group_id):
        result = await ctx.broker.groups.sync_group(sync)
    else:
        result = SyncResponse(ErrorCode.group_authorization_failed)
    return build(
        ctx.response.SyncGroupResponse,
        throttle_time=datetime.timedelta(0),
        error_code=result.error,
        protocol_type=result.protocol_type,
        protocol_name=result.protocol_name,
        assignment=result.assignment,
    )
