"""DeleteGroups (key 42): remove empty groups and their committed offsets.

A group with members answers NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND. A
deleted group's offsets and metadata get tombstones in ``__consumer_offsets``. Each
group needs DELETE (GROUP_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def _delete(ctx: RequestContext, group_id: str) -> ErrorCode:
    if not ctx.authorize(AclOperation.DELETE, ResourceType.GROUP, group_id):
        return ErrorCode.group_authorization_failed
    return ctx.broker.groups.delete_group(group_id)


@api(key=42, min_version=0, max_version=2)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    return build(
        response.DeleteGroupsResponse,
        throttle_time=datetime.timedelta(0),
        results=tuple(
            build(
                response.DeletableGroupResult,
                group_id=group_id,
                error_code=_delete(ctx, group_id),
            )
            for group_id in request.groups_names  # type: ignore[attr-defined]
        ),
    )
