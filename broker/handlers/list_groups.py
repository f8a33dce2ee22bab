"""ListGroups (key 16): the groups this coordinator knows, optionally filtered.

v4+ filter by state (KIP-518: Empty, PreparingRebalance, CompletingRebalance, Stable),
v5+ by type (KIP-848: classic, consumer); both case-insensitively. Groups that only
hold committed offsets (manually assigned consumers) are listed as Empty with an empty
protocol type, as Kafka lists them. A client that may DESCRIBE the cluster sees every
group; any other only the groups it may DESCRIBE.
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.errors import ErrorCode
from broker.handlers.authorization import authorize_cluster
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=16, min_version=0, max_version=5)
async def handle(ctx: RequestContext, request: object) -> object:
    listed = ctx.broker.groups.list_groups(
        getattr(request, "states_filter", ()), getattr(request, "types_filter", ())
    )
    if ctx.broker.authorizer is not None and not authorize_cluster(
        ctx, AclOperation.DESCRIBE, log_denied=False
    ):
        listed = [
            group
            for group in listed
            if ctx.authorize(
                AclOperation.DESCRIBE, ResourceType.GROUP, group.group_id, log_denied=False
            )
        ]
    response = ctx.response
    return build(
        response.ListGroupsResponse,
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        groups=tuple(
            build(
                response.ListedGroup,
                group_id=group.group_id,
                protocol_type=group.protocol_type,
                group_state=group.state,
                group_type=group.group_type,
            )
            for group in listed
        ),
    )
