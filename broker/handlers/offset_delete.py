"""OffsetDelete (key 47): delete some committed offsets of a group (KIP-496).

Allowed for an empty group; for a group with members that speak the consumer protocol,
only for topics none of them subscribes to (GROUP_SUBSCRIBED_TO_TOPIC for the others);
any other active group answers NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND.
Authorization (Kafka's): DELETE on the group (GROUP_AUTHORIZATION_FAILED), READ on each
topic (TOPIC_AUTHORIZATION_FAILED, those offsets stay).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.errors import ErrorCode
from broker.handlers.authorization import denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=47, min_version=0, max_version=0)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    broker = ctx.broker
    if not ctx.authorize(AclOperation.DELETE, ResourceType.GROUP, request.group_id):  # type: ignore[attr-defined]
        return build(
            response.OffsetDeleteResponse,
            error_code=ErrorCode.group_authorization_failed,
            throttle_time=datetime.timedelta(0),
            topics=(),
        )
    denied = denied_topics(ctx, AclOperation.READ, (t.name for t in request.topics))  # type: ignore[attr-defined]
    partitions = []
    unknown: set[tuple[str, int]] = set()
    refused: set[tuple[str, int]] = set()
    for topic in request.topics:  # type: ignore[attr-defined]
        known = broker.metadata.topic(topic.name)
        for partition in topic.partitions:
            tp = (topic.name, partition.partition_index)
            if topic.name in denied:
                refused.add(tp)
            elif known is None or not 0 <= tp[1] < len(known.partitions):
                unknown.add(tp)
            else:
                partitions.append(tp)
    error, errors = broker.groups.delete_offsets(request.group_id, partitions)  # type: ignore[attr-defined]
    for tp in unknown:
        errors[tp] = ErrorCode.unknown_topic_or_partition
    for tp in refused:
        errors[tp] = ErrorCode.topic_authorization_failed
    topics = ()
    if error == ErrorCode.none:
        topics = tuple(
            build(
                response.OffsetDeleteResponseTopic,
                name=topic.name,
                partitions=tuple(
                    build(
                        response.OffsetDeleteResponsePartition,
                        partition_index=partition.partition_index,
                        error_code=errors[(topic.name, partition.partition_index)],
                    )
                    for partition in topic.partitions
                ),
            )
            for topic in request.topics  # type: ignore[attr-defined]
        )
    return build(
        response.OffsetDeleteResponse,
        error_code=error,
        throttle_time=datetime.timedelta(0),
        topics=topics,
    )
