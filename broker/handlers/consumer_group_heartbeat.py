"""ConsumerGroupHeartbeat (key 68): KIP-848's consumer protocol, one request for joining,
staying, reconciling and leaving, with the assignment computed by the broker.

Topics travel by topic ID on the wire and by name in the coordinator: this handler
translates both ways with the cluster metadata, and hands the coordinator the partition
count of every topic (the metadata image its assignors work from). v1 (KIP-1082) lets the
client choose its member ID; an empty one gets a new UUID, as in v0.

Authorization (Kafka's): READ on the group (GROUP_AUTHORIZATION_FAILED); subscribed
topic names must all be topics the client may DESCRIBE (TOPIC_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.coordinator.consumer_group import HeartbeatRequest
from broker.errors import ErrorCode
from broker.handlers.authorization import MESSAGES, denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def _refusal(ctx: RequestContext, request: object) -> ErrorCode | None:
    if not ctx.authorize(AclOperation.READ, ResourceType.GROUP, request.group_id):  # type: ignore[attr-defined]
        return ErrorCode.group_authorization_failed
    if denied_topics(ctx, AclOperation.DESCRIBE, request.subscribed_topic_names or ()):  # type: ignore[attr-defined]
        return ErrorCode.topic_authorization_failed
    return None


@api(key=68, min_version=0, max_version=1)
async def handle(ctx: RequestContext, request: object) -> object:
    refusal = _refusal(ctx, request)
    if refusal is not None:
        return build(
            ctx.response.ConsumerGroupHeartbeatResponse,
            throttle_time=datetime.timedelta(0),
            error_code=refusal,
            error_message=MESSAGES[refusal],
            member_id=None,
            member_epoch=-1,
            heartbeat_interval=datetime.timedelta(0),
            assignment=None,
        )
    topics = ctx.broker.metadata.topics()
    by_id = {topic.topic_id: topic.name for topic in topics}
    ids = {topic.name: topic.topic_id for topic in topics}
    counts = {topic.name: len(topic.partitions) for topic in topics}
    owned = None
    if request.topic_partitions is not None:  # type: ignore[attr-defined]
        owned = {
            by_id[tp.topic_id]: set(tp.partitions)
            for tp in request.topic_partitions  # type: ignore[attr-defined]
            if tp.topic_id in by_id and tp.partitions
        }
    heartbeat = HeartbeatRequest(
        group_id=request.group_id,  # type: ignore[attr-defined]
        member_id=request.member_id,  # type: ignore[attr-defined]
        member_epoch=request.member_epoch,  # type: ignore[attr-defined]
        instance_id=request.instance_id,  # type: ignore[attr-defined]
        rack_id=request.rack_id,  # type: ignore[attr-defined]
        rebalance_timeout_ms=request.rebalance_timeout // datetime.timedelta(milliseconds=1),  # type: ignore[attr-defined]
        subscribed_topic_names=request.subscribed_topic_names,  # type: ignore[attr-defined]
        subscribed_topic_regex=getattr(request, "subscribed_topic_regex", None),
        server_assignor=request.server_assignor,  # type: ignore[attr-defined]
        owned=owned,
        client_id=ctx.header.client_id or "",
        client_host=f"/{ctx.client_host}",
    )
    result = ctx.broker.groups.consumer_group_heartbeat(heartbeat, counts)
    response = ctx.response
    assignment = None
    if result.assignment is not None:
        assignment = build(
            response.Assignment,
            topic_partitions=tuple(
                build(response.TopicPartitions, topic_id=ids[name], partitions=tuple(sorted(ps)))
                for name, ps in sorted(result.assignment.items())
                if name in ids
            ),
        )
    return build(
        response.ConsumerGroupHeartbeatResponse,
        throttle_time=datetime.timedelta(0),
        error_code=result.error,
        error_message=result.message,
        member_id=result.member_id,
        member_epoch=result.member_epoch,
        heartbeat_interval=datetime.timedelta(milliseconds=result.heartbeat_interval_ms),
        assignment=assignment,
    )
