"""OffsetFetch (key 9): a group's committed offsets.

A partition without a committed offset (or of a group that does not exist) answers
offset -1 and empty metadata, with no error, as Kafka does. v2+ may ask for every
committed partition (null topics); v7+ may ask for stable offsets only
(``require_stable``: there are no transactional offset commits yet, so every offset
is stable); v8+ batch several groups (KIP-709); v9 names the member of a KIP-848 group,
whose epoch must be current (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID; no member: an
admin's fetch).

Authorization (Kafka's): DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED for that
group); the partitions of a named topic the client may not DESCRIBE answer
TOPIC_AUTHORIZATION_FAILED, and a fetch of every committed partition leaves such
topics out.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from broker.common.acls import AclOperation, ResourceType
from broker.coordinator.results import OffsetFetchPartition
from broker.errors import ErrorCode
from broker.handlers.authorization import denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

MULTI_GROUP_VERSION = 8
_TOPIC_DENIED = ErrorCode.topic_authorization_failed


def _topics(
    ctx: RequestContext, group_id: str, requested: Iterable[object] | None, names: tuple[str, str]
) -> tuple[object, ...]:
    """The response's topics for one group (``names``: topic and partition classes)."""
    asked = None
    refused: list[tuple[str, list[OffsetFetchPartition]]] = []
    if requested is not None:
        asked = [(t.name, list(t.partition_indexes)) for t in requested]  # type: ignore[attr-defined]
        denied = denied_topics(ctx, AclOperation.DESCRIBE, (name for name, _ in asked))
        refused = [
            (name, [OffsetFetchPartition(i, -1, -1, "", _TOPIC_DENIED) for i in indexes])
            for name, indexes in asked
            if name in denied
        ]
        asked = [(name, indexes) for name, indexes in asked if name not in denied]
    fetched = ctx.broker.groups.fetch_offsets(group_id, asked)
    if requested is None:
        hidden = denied_topics(
            ctx, AclOperation.DESCRIBE, (name for name, _ in fetched), log_denied=False
        )
        fetched = [(name, rows) for name, rows in fetched if name not in hidden]
    fetched = [*fetched, *refused]
    topic_type = getattr(ctx.response, names[0])
    partition_type = getattr(ctx.response, names[1])

    def partition(row: OffsetFetchPartition) -> object:
        return build(
            partition_type,
            partition_index=row.partition,
            committed_offset=row.offset,
            committed_leader_epoch=row.leader_epoch,
            metadata=row.metadata,
            error_code=row.error,
        )

    return tuple(
        build(topic_type, name=name, partitions=tuple(partition(row) for row in rows))
        for name, rows in fetched
    )


def _group_denied(ctx: RequestContext, group_id: str) -> ErrorCode | None:
    if ctx.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, group_id):
        return None
    return ErrorCode.group_authorization_failed


def _group_denied_topics(
    ctx: RequestContext, requested: Iterable[object] | None
) -> tuple[object, ...]:
    """v1 has no top-level error: as Kafka, every asked partition carries it (v2+: none)."""
    if ctx.version >= 2 or requested is None:
        return ()
    response = ctx.response
    return tuple(
        build(
            response.OffsetFetchResponseTopic,
            name=topic.name,  # type: ignore[attr-defined]
            partitions=tuple(
                build(
                    response.OffsetFetchResponsePartition,
                    partition_index=index,
                    committed_offset=-1,
                    committed_leader_epoch=-1,
                    metadata="",
                    error_code=ErrorCode.group_authorization_failed,
                )
                for index in topic.partition_indexes  # type: ignore[attr-defined]
            ),
        )
        for topic in requested
    )


@api(key=9, min_version=1, max_version=9)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    if ctx.version >= MULTI_GROUP_VERSION:
        groups = []
        for group in request.groups:  # type: ignore[attr-defined]
            error = _group_denied(ctx, group.group_id) or ctx.broker.groups.validate_offset_fetch(
                group.group_id,
                getattr(group, "member_id", None),
                getattr(group, "member_epoch", -1),
            )
            topics = ()
            if error is None:
                topics = _topics(
                    ctx,
                    group.group_id,
                    group.topics,
                    ("OffsetFetchResponseTopics", "OffsetFetchResponsePartitions"),
                )
            groups.append(
                build(
                    response.OffsetFetchResponseGroup,
                    group_id=group.group_id,
                    topics=topics,
                    error_code=error or ErrorCode.none,
                )
            )
        return build(
            response.OffsetFetchResponse, throttle_time=datetime.timedelta(0), groups=tuple(groups)
        )
    denied = _group_denied(ctx, request.group_id)  # type: ignore[attr-defined]
    if denied is not None:
        return build(
            response.OffsetFetchResponse,
            throttle_time=datetime.timedelta(0),
            topics=_group_denied_topics(ctx, request.topics),  # type: ignore[attr-defined]
            error_code=denied,
        )
    return build(
        response.OffsetFetchResponse,
        throttle_time=datetime.timedelta(0),
        topics=_topics(
            ctx,
            request.group_id,  # type: ignore[attr-defined]
            request.topics,  # type: ignore[attr-defined]
            ("OffsetFetchResponseTopic", "OffsetFetchResponsePartition"),
        ),
        error_code=ErrorCode.none,
    )
