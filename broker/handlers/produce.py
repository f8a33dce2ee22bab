"""Produce (key 0): validate client batches, assign offsets, append, acknowledge.

Advertised from v0 (librdkafka turns compression off when Produce's minimum is above 0,
KAFKA-18659); v0-2 predate RecordBatch v2 and are refused when actually sent. acks=0
gets no response at all; with one replica, acks=1 and acks=-1 (all) are acknowledged
once the batches are written to the log.
"""

from __future__ import annotations

import datetime
import logging

from broker.errors import BrokerError, ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol import records
from broker.protocol.messages import build

log = logging.getLogger(__name__)

VALID_ACKS = (-1, 0, 1)


def _append(
    ctx: RequestContext, topic: str, partition: object
) -> tuple[ErrorCode, int, int, str | None]:
    """Returns (error, base_offset, log_start_offset, error_message) for one partition."""
    broker = ctx.broker
    try:
        partition_log = broker.partition_log(topic, partition.index)  # type: ignore[attr-defined]
        data = partition.records or b""  # type: ignore[attr-defined]
        headers = records.validate_produce_batches(
            data, max_message_bytes=broker.config.message_max_bytes
        )
        record = broker.metadata.topic(topic)
        leader_epoch = record.partitions[partition.index].leader_epoch if record else 0  # type: ignore[attr-defined]
        base_offset = partition_log.append(data, headers, leader_epoch=leader_epoch)
    except BrokerError as exc:
        if exc.code != ErrorCode.unknown_topic_or_partition:
            log.info("produce to %s-%s rejected: %s", topic, partition.index, exc)  # type: ignore[attr-defined]
        return exc.code, -1, -1, exc.message
    return ErrorCode.none, base_offset, partition_log.log_start_offset, None


@api(key=0, min_version=0, max_version=9)
async def handle(ctx: RequestContext, request: object) -> object | None:
    response = ctx.response
    acks = request.acks  # type: ignore[attr-defined]
    appended = False
    topics = []
    for topic_data in request.topic_data:  # type: ignore[attr-defined]
        partitions = []
        for partition in topic_data.partition_data:
            if acks not in VALID_ACKS:
                error, base_offset, log_start, message = (
                    ErrorCode.invalid_required_acks,
                    -1,
                    -1,
                    f"acks={acks} is not -1, 0 or 1",
                )
            else:
                error, base_offset, log_start, message = _append(ctx, topic_data.name, partition)
                appended |= error == ErrorCode.none
            partitions.append(
                build(
                    response.PartitionProduceResponse,
                    index=partition.index,
                    error_code=error,
                    base_offset=base_offset,
                    log_append_time=None,
                    log_start_offset=log_start,
                    record_errors=(),
                    error_message=message,
                )
            )
        topics.append(
            build(
                response.TopicProduceResponse,
                name=topic_data.name,
                partition_responses=tuple(partitions),
            )
        )
    if appended:
        ctx.broker.appends.notify()
    if acks == 0:
        return None
    return build(
        response.ProduceResponse, responses=tuple(topics), throttle_time=datetime.timedelta(0)
    )
