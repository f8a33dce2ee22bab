"""ListOffsets (key 2): earliest (-2), latest (-1), max timestamp (-3, v7+), or by time.

Latest is the high watermark (equal to the last stable offset until transactions
exist). A timestamp lookup answers, as Kafka does, with the first record (in offset
order) whose timestamp is at or after the given one, and that record's timestamp;
-1/-1 when there is none. Each topic needs DESCRIBE (TOPIC_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

LATEST_TIMESTAMP = -1
EARLIEST_TIMESTAMP = -2
MAX_TIMESTAMP = -3


def _lookup(ctx: RequestContext, topic: str, partition: object) -> tuple[ErrorCode, int, int]:
    try:
        partition_log = ctx.broker.partition_log(topic, partition.partition_index)  # type: ignore[attr-defined]
    except BrokerError as exc:
        return exc.code, -1, -1
    timestamp = partition.timestamp  # type: ignore[attr-defined]
    if timestamp == LATEST_TIMESTAMP:
        return ErrorCode.none, -1, partition_log.high_watermark
    if timestamp == EARLIEST_TIMESTAMP:
        return ErrorCode.none, -1, partition_log.log_start_offset
    if timestamp < 0 and not (timestamp == MAX_TIMESTAMP and ctx.version >= 7):
        return ErrorCode.invalid_request, -1, -1
    try:
        if timestamp == MAX_TIMESTAMP:
            found = partition_log.offset_of_max_timestamp()
        else:
            found = partition_log.offset_for_timestamp(timestamp)
    except BrokerError as exc:  # a failed read: this partition's error, the connection stays
        return exc.code, -1, -1
    if found is None:
        return ErrorCode.none, -1, -1
    offset, record_timestamp = found
    return ErrorCode.none, record_timestamp, offset


@api(key=2, min_version=1, max_version=7)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    topics = []
    names = (topic.name for topic in request.topics)  # type: ignore[attr-defined]
    denied = denied_topics(ctx, AclOperation.DESCRIBE, names)
    for topic in request.topics:  # type: ignore[attr-defined]
        partitions = []
        for partition in topic.partitions:
            if topic.name in denied:
                error, timestamp, offset = ErrorCode.topic_authorization_failed, -1, -1
            else:
                error, timestamp, offset = _lookup(ctx, topic.name, partition)
            partitions.append(
                build(
                    response.ListOffsetsPartitionResponse,
                    partition_index=partition.partition_index,
                    error_code=error,
                    timestamp=timestamp,
                    offset=offset,
                    leader_epoch=0 if error == ErrorCode.none else -1,
                )
            )
        topics.append(
            build(response.ListOffsetsTopicResponse, name=topic.name, partitions=tuple(partitions))
        )
    return build(
        response.ListOffsetsResponse, throttle_time=datetime.timedelta(0), topics=tuple(topics)
    )
