"""Fetch (key 1): whole record batches from the fetch offset, with long polling.

The request waits up to ``max_wait_ms`` until at least ``min_bytes`` are available,
woken by appends. Per-partition and request ``max_bytes`` are honoured at batch
granularity, except that the first non-empty partition always returns at least one
whole batch so a consumer can progress. Fetch sessions (KIP-227) are not created:
the response's session_id is 0, which clients treat as sessionless.

Authorization (Kafka's): a consumer needs READ on each topic (checked once per topic);
a follower (``replica_id`` >= 0) CLUSTER_ACTION on the cluster. Refused partitions get
TOPIC_AUTHORIZATION_FAILED.
"""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass

from broker.common.acls import AclOperation
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import authorize_cluster, denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol import compression, records
from broker.protocol.messages import build

ZSTD_MIN_FETCH_VERSION = 10


@dataclass(slots=True)
class _PartitionRead:
    partition_index: int
    error: ErrorCode
    high_watermark: int = -1
    log_start_offset: int = -1
    records: bytes | memoryview = b""


def _leader_epoch_error(ctx: RequestContext, topic: str, partition: object) -> ErrorCode | None:
    requested = getattr(partition, "current_leader_epoch", -1)
    if requested == -1:
        return None
    record = ctx.broker.metadata.topic(topic)
    if record is None or partition.partition >= len(record.partitions):  # type: ignore[attr-defined]
        return None
    epoch = record.partitions[partition.partition].leader_epoch  # type: ignore[attr-defined]
    if requested > epoch:
        return ErrorCode.unknown_leader_epoch
    if requested < epoch:
        return ErrorCode.fenced_leader_epoch
    return None


def _has_zstd(data: bytes | memoryview) -> bool:
    """Fetch v0-9 consumers cannot read zstd (KIP-110): Kafka answers such fetches with
    UNSUPPORTED_COMPRESSION_TYPE instead of data they would fail on."""
    return any(h.compression == compression.ZSTD for h in records.iter_batches(data))


def _denied(ctx: RequestContext, request: object) -> frozenset[str]:
    """The requested topics this fetch may not read."""
    if ctx.broker.authorizer is None:
        return frozenset()
    names = {topic.topic for topic in request.topics}  # type: ignore[attr-defined]
    if getattr(request, "replica_id", -1) >= 0:  # a follower
        return frozenset() if authorize_cluster(ctx, AclOperation.CLUSTER_ACTION) else names
    return denied_topics(ctx, AclOperation.READ, names)


def _read_all(
    ctx: RequestContext, request: object, denied: frozenset[str]
) -> tuple[list[tuple[str, list[_PartitionRead]]], int, bool]:
    """One pass over the requested partitions: (per-topic reads, bytes read, any error)."""
    remaining = request.max_bytes  # type: ignore[attr-defined]
    total = 0
    errored = False
    result = []
    for topic in request.topics:  # type: ignore[attr-defined]
        reads = []
        for partition in topic.partitions:
            if topic.topic in denied:
                reads.append(
                    _PartitionRead(partition.partition, ErrorCode.topic_authorization_failed)
                )
                errored = True
                continue
            epoch_error = _leader_epoch_error(ctx, topic.topic, partition)
            if epoch_error is not None:
                reads.append(_PartitionRead(partition.partition, epoch_error))
                errored = True
                continue
            try:
                partition_log = ctx.broker.partition_log(topic.topic, partition.partition)
                data: bytes | memoryview = b""
                if remaining > 0 or total == 0:
                    data = partition_log.read(
                        partition.fetch_offset,
                        min(partition.partition_max_bytes, max(remaining, 0)),
                    )
                if ctx.version < ZSTD_MIN_FETCH_VERSION and _has_zstd(data):
                    raise BrokerError(ErrorCode.unsupported_compression_type)
            except BrokerError as exc:
                reads.append(_PartitionRead(partition.partition, exc.code))
                errored = True
                continue
            total += len(data)
            remaining -= len(data)
            reads.append(
                _PartitionRead(
                    partition.partition,
                    ErrorCode.none,
                    partition_log.high_watermark,
                    partition_log.log_start_offset,
                    data,
                )
            )
        result.append((topic.topic, reads))
    return result, total, errored


@api(key=1, min_version=4, max_version=12)
async def handle(ctx: RequestContext, request: object) -> object:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + request.max_wait.total_seconds()  # type: ignore[attr-defined]
    denied = _denied(ctx, request)
    while True:
        reads, total, errored = _read_all(ctx, request, denied)
        remaining = deadline - loop.time()
        if errored or total >= request.min_bytes or remaining <= 0:  # type: ignore[attr-defined]
            break
        await ctx.broker.appends.wait(remaining)
    response = ctx.response
    if ctx.broker.quotas.fetch_throttled(ctx.quota, total):
        reads = []  # Kafka's throttled answer: no data, only throttle_time_ms
    responses = tuple(
        build(
            response.FetchableTopicResponse,
            topic=topic,
            partitions=tuple(
                build(
                    response.PartitionData,
                    partition_index=r.partition_index,
                    error_code=r.error,
                    high_watermark=r.high_watermark,
                    last_stable_offset=r.high_watermark,
                    log_start_offset=r.log_start_offset,
                    aborted_transactions=None,
                    preferred_read_replica=-1,
                    records=r.records,
                )
                for r in partitions
            ),
        )
        for topic, partitions in reads
    )
    return build(
        response.FetchResponse,
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        session_id=0,
        responses=responses,
    )
