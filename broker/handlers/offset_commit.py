"""OffsetCommit (key 8): store a group's consumed positions in ``__consumer_offsets``.

Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION here (Kafka checks them
before the coordinator); the rest go to the coordinator, which checks the member and
generation (a negative generation without a member ID is a "simple" commit, allowed
for empty groups), appends the OffsetCommit records and only then applies them.
Committed metadata strings are kept (up to ``offset.metadata.max.bytes``). v2-4 may
carry a retention time (kept as the offset's expire timestamp); v6+ the leader epoch;
v7+ the ``group.instance.id``; v9 names the generation "generation or member epoch".

Authorization (Kafka's): READ on the group (every partition GROUP_AUTHORIZATION_FAILED
otherwise), then READ on each topic (TOPIC_AUTHORIZATION_FAILED, before the unknown
topic check).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.coordinator.offsets import NO_RETENTION, CommitRequest, PartitionCommit
from broker.errors import ErrorCode
from broker.handlers.authorization import denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def _retention_ms(request: object) -> int:
    retention = getattr(request, "retention_time", None)
    if retention is None:
        return NO_RETENTION
    ms = retention // datetime.timedelta(milliseconds=1)
    return NO_RETENTION if ms < 0 else ms


@api(key=8, min_version=2, max_version=9)
async def handle(ctx: RequestContext, request: object) -> object:
    broker = ctx.broker
    errors: dict[tuple[str, int], ErrorCode] = {}
    commits = []
    if not ctx.authorize(AclOperation.READ, ResourceType.GROUP, request.group_id):  # type: ignore[attr-defined]
        group_denied, denied = True, frozenset[str]()
    else:
        names = (topic.name for topic in request.topics)  # type: ignore[attr-defined]
        group_denied, denied = False, denied_topics(ctx, AclOperation.READ, names)
    for topic in request.topics:  # type: ignore[attr-defined]
        known = broker.metadata.topic(topic.name)
        for partition in topic.partitions:
            index = partition.partition_index
            if group_denied:
                errors[(topic.name, index)] = ErrorCode.group_authorization_failed
            elif topic.name in denied:
                errors[(topic.name, index)] = ErrorCode.topic_authorization_failed
            elif known is None or not 0 <= index < len(known.partitions):
                errors[(topic.name, index)] = ErrorCode.unknown_topic_or_partition
                continue
            commits.append(
                PartitionCommit(
                    topic.name,
                    index,
                    partition.committed_offset,
                    getattr(partition, "committed_leader_epoch", -1),
                    partition.committed_metadata,
                )
            )
    if commits:
        errors.update(
            broker.groups.commit_offsets(
                CommitRequest(
                    group_id=request.group_id,  # type: ignore[attr-defined]
                    generation_id=request.generation_id_or_member_epoch,  # type: ignore[attr-defined]
                    member_id=request.member_id,  # type: ignore[attr-defined]
                    group_instance_id=getattr(request, "group_instance_id", None),
                    partitions=tuple(commits),
                    retention_ms=_retention_ms(request),
                )
            )
        )
    response = ctx.response
    return build(
        response.OffsetCommitResponse,
        throttle_time=datetime.timedelta(0),
        topics=tuple(
            build(
                response.OffsetCommitResponseTopic,
                name=topic.name,
                partitions=tuple(
                    build(
                        response.OffsetCommitResponsePartition,
                        partition_index=partition.partition_index,
                        error_code=errors[(topic.name, partition.partition_index)],
                    )
                    for partition in topic.partitions
                ),
            )
            for topic in request.topics  # type: ignore[attr-defined]
        ),
    )
