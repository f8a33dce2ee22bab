"""Heartbeat (key 12): a member of a classic group is alive.

REBALANCE_IN_PROGRESS while the group prepares a rebalance (the member must rejoin),
ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID when it is no longer the
member it thinks it is.
"""

from __future__ import annotations

import datetime

from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=12, min_version=0, max_version=4)
async def handle(ctx: RequestContext, request: object) -> object:
    error = ctx.broker.groups.heartbeat(
        request.group_id,  # type: ignore[attr-defined]
        request.member_id,  # type: ignore[attr-defined]
        getattr(request, "group_instance_id", None),
        request.generation_id,  # type: ignore[attr-defined]
    )
    return build(
        ctx.response.HeartbeatResponse, throttle_time=datetime.timedelta(0), error_code=error
    )
