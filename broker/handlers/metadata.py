"""Metadata (key 3): brokers, cluster id, controller, topics and their partitions.

Topics named in the request that do not exist are created when
``auto.create.topics.enable`` is on and the request allows it (v4+; always for v0-3),
as Kafka does; otherwise they get UNKNOWN_TOPIC_OR_PARTITION. A name that is not a
legal topic name gets INVALID_TOPIC_EXCEPTION either way, as in Kafka. Authorized
operations (v8+, when asked for) are, with no authorizer, every operation the cluster
or topic resource supports, as Kafka answers without an authorizer.
"""

from __future__ import annotations

import datetime
import logging

from broker.cluster.metadata import TopicRecord, validate_topic_name
from broker.errors import BrokerError, ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

log = logging.getLogger(__name__)

AUTHORIZED_OPERATIONS_OMITTED = -(2**31)
# Kafka's AclOperation codes
READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE = 3, 4, 5, 6, 7, 8
CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE = 9, 10, 11, 12


def _bitfield(*operations: int) -> int:
    return sum(1 << op for op in operations)


# What each resource supports (Kafka's AclEntry.supportedOperations): with no authorizer,
# Kafka reports all of them as authorized.
CLUSTER_OPERATIONS = _bitfield(
    CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE
)
TOPIC_OPERATIONS = _bitfield(
    READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS
)


def _wants(ctx: RequestContext, request: object, field: str) -> bool:
    return ctx.version >= 8 and bool(getattr(request, field, False))


def _topic_entry(ctx: RequestContext, record: TopicRecord, operations: bool = False) -> object:
    response = ctx.response
    partitions = tuple(
        build(
            response.MetadataResponsePartition,
            error_code=ErrorCode.none,
            partition_index=p.partition_index,
            leader_id=p.leader_id,
            leader_epoch=p.leader_epoch,
            replica_nodes=tuple(p.replicas),
            isr_nodes=tuple(p.replicas),
            offline_replicas=(),
        )
        for p in record.partitions
    )
    return build(
        response.MetadataResponseTopic,
        error_code=ErrorCode.none,
        name=record.name,
        topic_id=record.topic_id,
        is_internal=record.is_internal,
        partitions=partitions,
        topic_authorized_operations=TOPIC_OPERATIONS
        if operations
        else AUTHORIZED_OPERATIONS_OMITTED,
    )


def _error_entry(ctx: RequestContext, name: str | None, code: ErrorCode, topic_id=None) -> object:  # type: ignore[no-untyped-def]
    return build(
        ctx.response.MetadataResponseTopic,
        error_code=code,
        name=name,
        topic_id=topic_id,
        is_internal=False,
        partitions=(),
        topic_authorized_operations=AUTHORIZED_OPERATIONS_OMITTED,
    )


def _requested_topic(
    ctx: RequestContext, requested: object, auto_create: bool, operations: bool
) -> object:
    broker = ctx.broker
    name = getattr(requested, "name", None)
    topic_id = getattr(requested, "topic_id", None)
    if name is None:
        record = broker.metadata.topic_by_id(topic_id) if topic_id else None
        if record is None:
            return _error_entry(ctx, None, ErrorCode.unknown_topic_id, topic_id)
        return _topic_entry(ctx, record, operations)
    record = broker.metadata.topic(name)
    if record is not None:
        return _topic_entry(ctx, record, operations)
    if not auto_create:
        try:
            validate_topic_name(name)
        except BrokerError as exc:
            return _error_entry(ctx, name, exc.code)
        return _error_entry(ctx, name, ErrorCode.unknown_topic_or_partition)
    try:
        record = broker.create_topic(name)
    except BrokerError as exc:
        return _error_entry(ctx, name, exc.code)
    log.info("auto-created topic %s for client %s", name, ctx.header.client_id)
    return _topic_entry(ctx, record, operations)


@api(key=3, min_version=0, max_version=12)
async def handle(ctx: RequestContext, request: object) -> object:
    broker = ctx.broker
    response = ctx.response
    requested = request.topics  # type: ignore[attr-defined]
    if ctx.version == 0 and requested == ():
        requested = None  # v0: an empty list means all topics
    operations = _wants(ctx, request, "include_topic_authorized_operations")
    if requested is None:
        topics = tuple(_topic_entry(ctx, record, operations) for record in broker.metadata.topics())
    else:
        allowed = getattr(request, "allow_auto_topic_creation", True)
        auto_create = broker.config.auto_create_topics_enable and allowed
        topics = tuple(_requested_topic(ctx, item, auto_create, operations) for item in requested)
    brokers = tuple(
        build(
            response.MetadataResponseBroker,
            node_id=broker.node_id,
            host=listener.host,
            port=listener.port,
            rack=None,
        )
        for listener in (broker.config.advertised_listener(ctx.listener_name),)
    )
    return build(
        response.MetadataResponse,
        throttle_time=datetime.timedelta(0),
        brokers=brokers,
        cluster_id=broker.cluster_id,
        controller_id=broker.node_id,
        topics=topics,
        cluster_authorized_operations=(
            CLUSTER_OPERATIONS
            if _wants(ctx, request, "include_cluster_authorized_operations")
            else AUTHORIZED_OPERATIONS_OMITTED
        ),
    )
