"""DeleteRecords (key 21): advance partitions' log start offsets (kafka-delete-records).

An offset of -1 means the high watermark. Whole segments below the new log start are
deleted at once; the rest of the segment stays on disk but is no longer readable.
Each topic needs DELETE (TOPIC_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def _delete(ctx: RequestContext, topic: str, partition: object) -> tuple[ErrorCode, int]:
    try:
        partition_log = ctx.broker.partition_log(topic, partition.partition_index)  # type: ignore[attr-defined]
        return ErrorCode.none, partition_log.delete_records(partition.offset)  # type: ignore[attr-defined]
    except BrokerError as exc:
        return exc.code, -1


@api(key=21, min_version=0, max_version=2)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    topics = []
    denied = denied_topics(ctx, AclOperation.DELETE, (t.name for t in request.topics))  # type: ignore[attr-defined]
    for topic in request.topics:  # type: ignore[attr-defined]
        partitions = []
        for partition in topic.partitions:
            if topic.name in denied:
                error, low_watermark = ErrorCode.topic_authorization_failed, -1
            else:
                error, low_watermark = _delete(ctx, topic.name, partition)
            partitions.append(
                build(
                    response.DeleteRecordsPartitionResult,
                    partition_index=partition.partition_index,
                    low_watermark=low_watermark,
                    error_code=error,
                )
            )
        topics.append(
            build(response.DeleteRecordsTopicResult, name=topic.name, partitions=tuple(partitions))
        )
    return build(
        response.DeleteRecordsResponse, throttle_time=datetime.timedelta(0), topics=tuple(topics)
    )
