"""JoinGroup (key 11): a member joins (or rejoins) a classic group and waits for the
join phase to end.

The request is held until the group's join phase completes (every member rejoined, the
rebalance timeout or the initial rebalance delay expired): the coordinator answers it
through :mod:`broker.coordinator.service`. v4+ clients without a ``group.instance.id``
first get MEMBER_ID_REQUIRED with their member ID (KIP-394); v5+ carry static
membership (KIP-345); v7+ return the protocol type and a nullable protocol name; v9+
may tell a rejoining static leader to skip assigning (KIP-814). v0 has no rebalance
timeout: the session timeout serves as one, as in Kafka. Needs READ on the group
(GROUP_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.coordinator.classic import JoinRequest
from broker.coordinator.results import JoinResponse
from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

NULLABLE_PROTOCOL_NAME_VERSION = 7


def _ms(value: datetime.timedelta) -> int:
    return value // datetime.timedelta(milliseconds=1)


@api(key=11, min_version=0, max_version=9)
async def handle(ctx: RequestContext, request: object) -> object:
    session_timeout = _ms(request.session_timeout)  # type: ignore[attr-defined]
    rebalance = getattr(request, "rebalance_timeout", None)
    join = JoinRequest(
        group_id=request.group_id,  # type: ignore[attr-defined]
        member_id=request.member_id,  # type: ignore[attr-defined]
        group_instance_id=getattr(request, "group_instance_id", None),
        client_id=ctx.header.client_id or "",
        client_host=f"/{ctx.client_host}",
        session_timeout_ms=session_timeout,
        rebalance_timeout_ms=session_timeout if rebalance is None else _ms(rebalance),
        protocol_type=request.protocol_type,  # type: ignore[attr-defined]
        protocols=tuple((p.name, p.metadata) for p in request.protocols),  # type: ignore[attr-defined]
        version=ctx.version,
        reason=getattr(request, "reason", None),
    )
    if ctx.authorize(AclOperation.READ, ResourceType.GROUP, join.group_id):
        result = await ctx.broker.groups.join_group(join)
    else:
        result = JoinResponse(ErrorCode.group_authorization_failed, member_id="")
    response = ctx.response
    protocol_name = result.protocol_name
    if ctx.version < NULLABLE_PROTOCOL_NAME_VERSION:
        protocol_name = protocol_name or ""
    return build(
        response.JoinGroupResponse,
        throttle_time=datetime.timedelta(0),
        error_code=result.error,
        generation_id=result.generation_id,
        protocol_type=result.protocol_type,
        protocol_name=protocol_name,
        leader=result.leader,
        skip_assignment=result.skip_assignment,
        member_id=result.member_id,
        members=tuple(
            build(
                response.JoinGroupResponseMember,
                member_id=member.member_id,
                group_instance_id=member.group_instance_id,
                metadata=member.metadata,
            )
            for member in result.members
        ),
    )
