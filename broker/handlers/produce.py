"""Produce (key 0): validate client batches, assign offsets, append, acknowledge.

Advertised from v0 (librdkafka turns compression off when Produce's minimum is above 0,
KAFKA-18659, and Kafka 4 advertises 0 too). v0-2 carry message format v0/v1, which Kafka
4 dropped (KIP-896): they are answered in their own format with UNSUPPORTED_VERSION for
every partition and nothing appended (Kafka 4 closes the connection instead; an answer
tells an old client what is wrong). With acks=0 there is no answer to carry the error,
so the connection is closed, as Kafka closes it for any failed acks=0 produce. acks=0
gets no response at all; with one replica, acks=1 and acks=-1 (all) are acknowledged
once the batches are written to the log, and on ``flush.mode=durable`` topics acks=all
waits for a group-commit fdatasync (:mod:`broker.server.flusher`).

Records are validated and shaped for the topic by ``records.prepare_produce`` (Kafka's
LogValidator: timestamps, keys on compacted topics, inner records of compressed
batches, recompression to the topic's compression.type, LogAppendTime stamping).
Rejected records are named in ``record_errors`` (v8+), as Kafka does.

Authorization (Kafka's): a transactional request needs WRITE on its transactional ID
(every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED); each topic needs WRITE
(TOPIC_AUTHORIZATION_FAILED, nothing appended to its partitions), checked once per
topic and not at all without an authorizer.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from broker.common.acls import AclOperation, ResourceType
from broker.errors import BrokerError, ErrorCode, ProtocolViolation
from broker.handlers.authorization import MESSAGES, denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import Deferred, api
from broker.protocol import records
from broker.protocol.messages import build
from broker.server.quota_manager import PRODUCE
from broker.storage.log_config import FlushMode
from broker.storage.partition_log import PartitionLog

log = logging.getLogger(__name__)

VALID_ACKS = (-1, 0, 1)
ZSTD_MIN_VERSION = 7  # Kafka refuses zstd batches in older Produce versions
RECORD_BATCH_MIN_VERSION = 3  # v0-2 carry message format v0/v1 (removed in Kafka 4)
LEGACY_REFUSAL = (
    "Produce v{version} (message format v0/v1) is not supported: Kafka 4.0 removed "
    "Produce v0-v2 (KIP-896); use a client that sends Produce v3 or later"
)


@dataclass(frozen=True, slots=True)
class _Outcome:
    error: ErrorCode
    base_offset: int = -1
    log_start_offset: int = -1
    message: str | None = None
    log_append_time_ms: int | None = None
    record_errors: tuple[tuple[int, str], ...] = ()
    durable_log: PartitionLog | None = None  # set when acks=all must wait for fdatasync


def _check_min_insync_replicas(in_sync: list[int], min_insync_replicas: int) -> None:
    """acks=all needs at least min.insync.replicas in-sync replicas (every replica of a
    partition on this single broker is in sync: the ISR is the replica list)."""
    if len(in_sync) < min_insync_replicas:
        raise BrokerError(
            ErrorCode.not_enough_replicas,
            f"The size of the current ISR {len(in_sync)} is insufficient to satisfy the "
            f"min.isr requirement of {min_insync_replicas}",
        )


def _append(ctx: RequestContext, topic: str, partition: object, acks: int) -> _Outcome:
    broker = ctx.broker
    try:
        partition_log = broker.partition_log(topic, partition.index)  # type: ignore[attr-defined]
        log_config = broker.log_config(topic)
        prepared = records.prepare_produce(
            partition.records or b"",  # type: ignore[attr-defined]
            log_config=log_config,
            allow_zstd=ctx.version >= ZSTD_MIN_VERSION,
        )
        record = broker.metadata.topic(topic)
        partition_record = record.partitions[partition.index] if record else None  # type: ignore[attr-defined]
        if acks == -1 and partition_record is not None:
            _check_min_insync_replicas(partition_record.replicas, log_config.min_insync_replicas)
        leader_epoch = partition_record.leader_epoch if partition_record else 0
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
    durable = acks == -1 and log_config.flush_mode is FlushMode.DURABLE
    return _Outcome(
        ErrorCode.none,
        base_offset,
        partition_log.log_start_offset,
        log_append_time_ms=prepared.log_append_time_ms,
        durable_log=partition_log if durable else None,
    )


async def _await_durability(ctx: RequestContext, outcomes: list[list[_Outcome]]) -> None:
    """acks=all on flush.mode=durable topics: answer only after a group-commit
    fdatasync covered the write; if it fails, those partitions get KAFKA_STORAGE_ERROR."""
    durable = [o.durable_log for row in outcomes for o in row if o.durable_log is not None]
    if not durable:
        return
    try:
        await ctx.broker.flusher.flush(durable)
    except BrokerError as exc:
        for row in outcomes:
            for index, outcome in enumerate(row):
                if outcome.durable_log is not None:
                    row[index] = _Outcome(exc.code, message=exc.message)


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
    acks = request.acks  # type: ignore[attr-defined]
    if ctx.version < RECORD_BATCH_MIN_VERSION:
        return _refuse_legacy(ctx, request)
    denied = _denied(ctx, request)
    outcomes: list[list[_Outcome]] = []
    for topic_data in request.topic_data:  # type: ignore[attr-defined]
        row = []
        refusal = denied.get(topic_data.name) or denied.get(None)
        for partition in topic_data.partition_data:
            if refusal is not None:
                row.append(refusal)
            elif acks not in VALID_ACKS:
                row.append(
                    _Outcome(
                        ErrorCode.invalid_required_acks, message=f"acks={acks} is not -1, 0 or 1"
                    )
                )
            else:
                row.append(_append(ctx, topic_data.name, partition, acks))
        outcomes.append(row)
    if any(o.error == ErrorCode.none for row in outcomes for o in row):
        ctx.broker.appends.notify()
    ctx.broker.quotas.record(ctx.quota, PRODUCE, ctx.quota.request_size)  # Kafka: whole request
    if acks == 0:
        return None
    if any(o.durable_log is not None for row in outcomes for o in row):
        # Appended already; only the answer waits for the fsync, so the connection can
        # go on with the next (pipelined) requests meanwhile.
        # Keep only names and indexes: the request's records must not live until the fsync.
        return Deferred(_respond_when_durable(ctx, _layout(request), outcomes))
    return _response(ctx, _layout(request), outcomes)


def _refuse_legacy(ctx: RequestContext, request: object) -> object:
    message = LEGACY_REFUSAL.format(version=ctx.version)
    if request.acks == 0:  # type: ignore[attr-defined]
        raise ProtocolViolation(f"{message} (acks=0: no response can carry the error)")
    log.info("%s (client %s)", message, ctx.header.client_id)
    refusal = _Outcome(ErrorCode.unsupported_version, message=message)
    layout = _layout(request)
    return _response(ctx, layout, [[refusal] * len(indexes) for _, indexes in layout])


def _denied(ctx: RequestContext, request: object) -> dict[str | None, _Outcome]:
    """Refusals by topic name (None: the whole request)."""
    if ctx.broker.authorizer is None:
        return {}
    transactional_id = getattr(request, "transactional_id", None)
    if transactional_id is not None and not ctx.authorize(
        AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id
    ):
        error = ErrorCode.transactional_id_authorization_failed
        return {None: _Outcome(error, message=MESSAGES[error])}
    names = (topic.name for topic in request.topic_data)  # type: ignore[attr-defined]
    error = ErrorCode.topic_authorization_failed
    refusal = _Outcome(error, message=MESSAGES[error])
    return {name: refusal for name in denied_topics(ctx, AclOperation.WRITE, names)}


def _layout(request: object) -> list[tuple[str, list[int]]]:
    """(topic name, partition indexes) of a request: all a response needs of it."""
    return [
        (topic.name, [partition.index for partition in topic.partition_data])
        for topic in request.topic_data  # type: ignore[attr-defined]
    ]


async def _respond_when_durable(
    ctx: RequestContext, layout: list[tuple[str, list[int]]], outcomes: list[list[_Outcome]]
) -> object:
    await _await_durability(ctx, outcomes)
    return _response(ctx, layout, outcomes)


def _response(
    ctx: RequestContext, layout: list[tuple[str, list[int]]], outcomes: list[list[_Outcome]]
) -> object:
    response = ctx.response
    topics = [
        build(
            response.TopicProduceResponse,
            name=name,
            partition_responses=tuple(
                build(
                    response.PartitionProduceResponse,
                    index=index,
                    error_code=outcome.error,
                    base_offset=outcome.base_offset,
                    log_append_time=_append_time(outcome.log_append_time_ms),
                    log_start_offset=outcome.log_start_offset,
                    record_errors=_record_errors(ctx, outcome),
                    error_message=outcome.message,
                )
                for index, outcome in zip(indexes, row, strict=True)
            ),
        )
        for (name, indexes), row in zip(layout, outcomes, strict=True)
    ]
    return build(
        response.ProduceResponse, responses=tuple(topics), throttle_time=datetime.timedelta(0)
    )
