"""Heartbeat (key 12): a member of a classic group is alive.

REBALANCE_IN_PROGRESS while the group prepares a rebalance (the member must rejoin),
ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID when it is no longer the
member it thinks it is. Needs READ on the group (GROUP_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=12, min_version=0, max_version=4)
async def handle(ctx: RequestContext, request: object) -> object:
    if not ctx.authorize(AclOperation.READ, ResourceType.GROUP, request.group_id):  # type: ignore[attr-defined]
        error = ErrorCode.group_authorization_failed
    else:
        error = ctx.broker.groups.heartbeat(
            request.group_id,  # type: ignore[attr-defined]
            request.member_id,  # type: ignore[attr-defined]
            getattr(request, "group_instance_id", None),
            request.generation_id,  # type: ignore[attr-defined]
        )
    return build(
        ctx.response.HeartbeatResponse, throttle_time=datetime.timedelta(0), error_code=error
    )
