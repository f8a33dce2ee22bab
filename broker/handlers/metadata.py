"""Metadata (key 3): brokers, cluster id, controller, topics and their partitions.

Topics named in the request that do not exist are created when
``auto.create.topics.enable`` is on and the request allows it (v4+; always for v0-3),
as Kafka does; otherwise they get UNKNOWN_TOPIC_OR_PARTITION. A name that is not a
legal topic name gets INVALID_TOPIC_EXCEPTION either way, as in Kafka.

Authorization (Kafka's): a listing of all topics leaves out those the client may not
DESCRIBE; a topic named without DESCRIBE gets TOPIC_AUTHORIZATION_FAILED, whether it
exists or not; auto-creation needs CREATE on the cluster or on the topic
(TOPIC_AUTHORIZATION_FAILED otherwise). Authorized operations (v8+, when asked for) are
the client's; with no authorizer, every operation the resource supports. The cluster's
are 0 for a client that may not DESCRIBE the cluster.

Topic IDs in the request are served from v12; in v10-11 the schema already has them
(and a nullable name) but Kafka refuses a null name or a non-zero ID there: every
requested topic gets INVALID_REQUEST, a null name answered as "" (the response's name
is not nullable before v12), as Kafka's ``MetadataRequest.getErrorResponse`` does.
"""

from __future__ import annotations

import datetime
import logging

from broker.cluster.metadata import PartitionRecord, TopicRecord
from broker.common.acls import AclOperation, ResourceType
from broker.common.topic_names import validate_topic_name
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import (
    AUTHORIZED_OPERATIONS_OMITTED,
    authorize_cluster,
    cluster_operations,
    denied_topics,
    operations,
)
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

log = logging.getLogger(__name__)

TOPIC_IDS_MIN_VERSION = 12


def _wants(ctx: RequestContext, request: object, field: str) -> bool:
    return ctx.version >= 8 and bool(getattr(request, field, False))


def _partition_entry(ctx: RequestContext, topic: str, p: PartitionRecord) -> object:
    """One partition; an offline one (its log could not be opened) as Kafka shows a
    partition without a live leader: LEADER_NOT_AVAILABLE, leader -1, its replica
    offline and not in sync."""
    offline = (topic, p.partition_index) in ctx.broker.offline_partitions
    return build(
        ctx.response.MetadataResponsePartition,
        error_code=ErrorCode.leader_not_available if offline else ErrorCode.none,
        partition_index=p.partition_index,
        leader_id=-1 if offline else p.leader_id,
        leader_epoch=p.leader_epoch,
        replica_nodes=tuple(p.replicas),
        isr_nodes=() if offline else tuple(p.replicas),
        offline_replicas=tuple(p.replicas) if offline else (),
    )


def _topic_entry(ctx: RequestContext, record: TopicRecord, wanted: bool = False) -> object:
    response = ctx.response
    partitions = tuple(_partition_entry(ctx, record.name, p) for p in record.partitions)
    return build(
        response.MetadataResponseTopic,
        error_code=ErrorCode.none,
        name=record.name,
        topic_id=record.topic_id,
        is_internal=record.is_internal,
        partitions=partitions,
        topic_authorized_operations=operations(ctx, wanted, ResourceType.TOPIC, record.name),
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


def _may_create(ctx: RequestContext, name: str) -> bool:
    return authorize_cluster(ctx, AclOperation.CREATE, log_denied=False) or ctx.authorize(
        AclOperation.CREATE, ResourceType.TOPIC, name
    )


def _requested_topic(
    ctx: RequestContext, requested: object, auto_create: bool, wanted: bool
) -> object:
    broker = ctx.broker
    name = getattr(requested, "name", None)
    topic_id = getattr(requested, "topic_id", None)
    if name is None:
        record = broker.metadata.topic_by_id(topic_id) if topic_id else None
        if record is None:
            return _error_entry(ctx, None, ErrorCode.unknown_topic_id, topic_id)
        if denied_topics(ctx, AclOperation.DESCRIBE, (record.name,)):
            return _error_entry(ctx, None, ErrorCode.topic_authorization_failed, topic_id)
        return _topic_entry(ctx, record, wanted)
    if denied_topics(ctx, AclOperation.DESCRIBE, (name,)):
        return _error_entry(ctx, name, ErrorCode.topic_authorization_failed)
    record = broker.metadata.topic(name)
    if record is not None:
        return _topic_entry(ctx, record, wanted)
    if auto_create and not _may_create(ctx, name):
        return _error_entry(ctx, name, ErrorCode.topic_authorization_failed)
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
    return _topic_entry(ctx, record, wanted)


def _by_id(requested: object) -> bool:
    topic_id = getattr(requested, "topic_id", None)
    return requested.name is None or (topic_id is not None and topic_id.int != 0)  # type: ignore[attr-defined]


@api(key=3, min_version=0, max_version=12)
async def handle(ctx: RequestContext, request: object) -> object:
    broker = ctx.broker
    response = ctx.response
    requested = request.topics  # type: ignore[attr-defined]
    if ctx.version == 0 and requested == ():
        requested = None  # v0: an empty list means all topics
    wanted = _wants(ctx, request, "include_topic_authorized_operations")
    if requested is None:
        records = broker.metadata.topics()
        hidden = denied_topics(
            ctx, AclOperation.DESCRIBE, (r.name for r in records), log_denied=False
        )
        topics = tuple(_topic_entry(ctx, r, wanted) for r in records if r.name not in hidden)
    elif ctx.version < TOPIC_IDS_MIN_VERSION and any(_by_id(item) for item in requested):
        topics = tuple(
            _error_entry(ctx, item.name or "", ErrorCode.invalid_request, item.topic_id)
            for item in requested
        )
    else:
        allowed = getattr(request, "allow_auto_topic_creation", True)
        auto_create = broker.config.auto_create_topics_enable and allowed
        topics = tuple(_requested_topic(ctx, item, auto_create, wanted) for item in requested)
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
        cluster_authorized_operations=cluster_operations(
            ctx, _wants(ctx, request, "include_cluster_authorized_operations")
        ),
    )
