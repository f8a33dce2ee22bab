"""CreateTopics (key 19): create topics with partitions, replication factor and configs.

-1 partitions / replication factor take ``num.partitions`` /
``default.replication.factor``. Manual assignments may name only live brokers. Configs
are checked against Kafka's topic config definitions (INVALID_CONFIG with Kafka's
message, e.g. "Unknown topic config name: x"); v5+ responses carry the topic's full
effective config list, sorted by name, as Kafka's do. ``validate_only`` checks
everything and creates nothing.

Limits (``broker.common.limits``): at most 10,000 partitions over all topics of one
request, as Kafka's controller allows, and at most ``max.broker.partitions`` on the
broker; beyond either a topic is POLICY_VIOLATION and nothing of it is created. A name
that collides with an existing topic once '.' and '_' are alike is
INVALID_TOPIC_EXCEPTION ("Topic 'a_b' collides with existing topic: a.b").

Authorization (Kafka's): CREATE on the cluster, or else on each topic
(TOPIC_AUTHORIZATION_FAILED, "Authorization failed."); the created topic's configs are
returned only to a client that may DESCRIBE_CONFIGS it (otherwise the topic's config
error is TOPIC_AUTHORIZATION_FAILED and the list is empty).
"""

from __future__ import annotations

import datetime
from collections import Counter

from broker.common.acls import AclOperation
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import authorize_cluster, denied_topics
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build
from broker.server.quota_manager import MutationQuota

STRICT_QUOTA_VERSION = 6  # KIP-599: THROTTLING_QUOTA_EXCEEDED per topic from v6


def _partitions_from_assignments(ctx: RequestContext, topic: object) -> tuple[int, int]:
    assignments = topic.assignments  # type: ignore[attr-defined]
    if topic.num_partitions != -1 or topic.replication_factor != -1:  # type: ignore[attr-defined]
        raise BrokerError(
            ErrorCode.invalid_request,
            "Both numPartitions or replicationFactor and replicasAssignments were set. "
            "Both cannot be used at the same time.",
        )
    indexes = sorted(a.partition_index for a in assignments)
    if indexes != list(range(len(indexes))):
        raise BrokerError(
            ErrorCode.invalid_replica_assignment, "Partitions must be numbered 0..n-1."
        )
    for assignment in assignments:
        if not assignment.broker_ids or any(b != ctx.broker.node_id for b in assignment.broker_ids):
            raise BrokerError(
                ErrorCode.invalid_replica_assignment,
                f"Replica assignment {list(assignment.broker_ids)} names unknown brokers.",
            )
    return len(indexes), len(assignments[0].broker_ids)


def _create(
    ctx: RequestContext,
    topic: object,
    validate_only: bool,
    denied: bool,
    mutations: MutationQuota,
    in_request: int,
) -> tuple[object, int]:
    """The topic's result, and the partitions it added (or, validating, would add)."""
    response = ctx.response
    num_partitions = topic.num_partitions  # type: ignore[attr-defined]
    replication_factor = topic.replication_factor  # type: ignore[attr-defined]
    configs = {c.name: c.value for c in topic.configs}  # type: ignore[attr-defined]
    try:
        if denied:
            raise BrokerError(ErrorCode.topic_authorization_failed, "Authorization failed.")
        mutations.check()
        if topic.assignments:  # type: ignore[attr-defined]
            num_partitions, replication_factor = _partitions_from_assignments(ctx, topic)
        record = ctx.broker.create_topic(
            topic.name,  # type: ignore[attr-defined]
            num_partitions=num_partitions,
            replication_factor=replication_factor,
            configs=configs,
            validate_only=validate_only,
            in_request=in_request,
            principal=ctx.principal,
        )
    except BrokerError as exc:
        return build(
            response.CreatableTopicResult,
            name=topic.name,  # type: ignore[attr-defined]
            topic_id=None,
            error_code=exc.code,
            error_message=exc.message,
            topic_config_error_code=0,
            num_partitions=-1,
            replication_factor=-1,
            configs=None,
        ), 0
    partition_count = ctx.broker.resolve_partition_count(num_partitions)
    if not validate_only:
        mutations.record(partition_count)
    replicas = ctx.broker.resolve_replicas(replication_factor)
    if denied_topics(ctx, AclOperation.DESCRIBE_CONFIGS, (record.name,), log_denied=False):
        config_error, config_entries = ErrorCode.topic_authorization_failed, ()
    else:
        config_error, config_entries = ErrorCode.none, _configs(ctx, configs)
    result = build(
        response.CreatableTopicResult,
        name=record.name,
        topic_id=None if validate_only else record.topic_id,
        error_code=ErrorCode.none,
        error_message=None,
        topic_config_error_code=config_error,
        num_partitions=partition_count,
        replication_factor=len(replicas),
        configs=config_entries if hasattr(response, "CreatableTopicConfigs") else None,
    )
    return result, partition_count


def _configs(ctx: RequestContext, configs: dict[str, str | None]) -> tuple[object, ...]:
    response = ctx.response
    return (
        tuple(
            build(
                response.CreatableTopicConfigs,
                name=entry.name,
                value=entry.value,
                read_only=entry.read_only,
                config_source=int(entry.source),
                is_sensitive=entry.is_sensitive,
            )
            for entry in ctx.broker.configs.describe_new_topic(
                {name: value for name, value in configs.items() if value is not None}
            )
        )
        if hasattr(response, "CreatableTopicConfigs")
        else ()
    )


@api(key=19, min_version=2, max_version=7)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    counts = Counter(t.name for t in request.topics)  # type: ignore[attr-defined]
    denied: frozenset[str] = frozenset()
    if not authorize_cluster(ctx, AclOperation.CREATE, log_denied=False):
        denied = denied_topics(ctx, AclOperation.CREATE, counts)
    results = []
    in_request = 0  # partitions created (or validated) by earlier topics: Kafka caps the sum
    mutations = ctx.broker.quotas.mutations(ctx.quota, strict=ctx.version >= STRICT_QUOTA_VERSION)
    for topic in request.topics:  # type: ignore[attr-defined]
        if counts[topic.name] > 1:
            results.append(
                build(
                    response.CreatableTopicResult,
                    name=topic.name,
                    topic_id=None,
                    error_code=ErrorCode.invalid_request,
                    error_message="Duplicate topic name in the request.",
                    topic_config_error_code=0,
                    num_partitions=-1,
                    replication_factor=-1,
                    configs=None,
                )
            )
            continue
        result, added = _create(
            ctx,
            topic,
            request.validate_only,  # type: ignore[attr-defined]
            topic.name in denied,
            mutations,
            in_request,
        )
        results.append(result)
        in_request += added
    return build(
        response.CreateTopicsResponse, throttle_time=datetime.timedelta(0), topics=tuple(results)
    )
