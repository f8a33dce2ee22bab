"""Produce (key 0): validate client batches, assign offsets, append, acknowledge.

Advertised from v0 (librdkafka turns compression off when Produce's minimum is above 0,
KAFKA-18659); v0-2 predate RecordBatch v2 and are refused when actually sent. acks=0
gets no response at all; with one replica, acks=1 and acks=-1 (all) are acknowledged
once the batches are written to the log.

Records are validated and shaped for the topic by ``records.prepare_produce`` (Kafka's
LogValidator: timestamps, keys on compacted topics, inner records of compressed
batches, recompression to the topic's compression.type, LogAppendTime stamping).
Rejected records are named in ``record_errors`` (v8+), as Kafka does.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from broker.errors import BrokerError, ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol import records
from broker.protocol.messages import build

log = logging.getLogger(__name__)

VALID_ACKS = (-1, 0, 1)
ZSTD_MIN_VERSION = 7  # Kafka refuses zstd batches in older Produce versions


@dataclass(frozen=True, slots=True)
class _Outcome:
    error: ErrorCode
    base_offset: int = -1
    log_start_offset: int = -1
    message: str | None = None
    log_append_time_ms: int | None = None
    record_errors: tuple[tuple[int, str], ...] = ()


def _append(ctx: RequestContext, topic: str, partition: object) -> _Outcome:
    broker = ctx.broker
    try:
        partition_log = broker.partition_log(topic, partition.index)  # type: ignore[attr-defined]
        prepared = records.prepare_produce(
            partition.records or b"",  # type: ignore[attr-defined]
            log_config=broker.log_config(topic),
            allow_zstd=ctx.version >= ZSTD_MIN_VERSION,
        )
        record = broker.metadata.topic(topic)
        leader_epoch = record.partitions[partition.index].leader_epoch if record else 0  # type: ignore[attr-defined]
        base_offset = partition_log.append(
            prepared.data,  # type: ignore[arg-type]
            prepared.headers,
            leader_epoch=leader_epoch,
        )
    except BrokerError as exc:
        if exc.code != ErrorCode.unknown_topic_or_partition:
            log.info("produce to %s-%s rejected: %s", topic, partition.index, exc)  # type: ignore[attr-defined]
        return _Outcome(
            exc.code, message=exc.message, record_errors=getattr(exc, "record_errors", ())
        )
    return _Outcome(
        ErrorCode.none,
        base_offset,
        partition_log.log_start_offset,
        log_append_time_ms=prepared.log_append_time_ms,
    )


def _record_errors(ctx: RequestContext, outcome: _Outcome) -> tuple[object, ...]:
    entity = getattr(ctx.response, "BatchIndexAndErrorMessage", None)  # Produce v8+
    if entity is None:
        return ()
    return tuple(
        build(entity, batch_index=index, batch_index_error_message=message)
        for index, message in outcome.record_errors
    )


def _append_time(ms: int | None) -> datetime.datetime | None:
    if ms is None:
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)


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
                outcome = _Outcome(
                    ErrorCode.invalid_required_acks, message=f"acks={acks} is not -1, 0 or 1"
                )
            else:
                outcome = _append(ctx, topic_data.name, partition)
                appended |= outcome.error == ErrorCode.none
            partitions.append(
                build(
                    response.PartitionProduceResponse,
                    index=partition.index,
                    error_code=outcome.error,
                    base_offset=outcome.base_offset,
                    log_append_time=_append_time(outcome.log_append_time_ms),
                    log_start_offset=outcome.log_start_offset,
                    record_errors=_record_errors(ctx, outcome),
                    error_message=outcome.message,
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
