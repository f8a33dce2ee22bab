"""CreatePartitions (key 37): grow topics to a new partition count.

Increase only (INVALID_PARTITIONS with Kafka's messages otherwise). Manual
``assignments`` give each new partition's replicas, checked like Kafka's controller
does; without them the new partitions get as many replicas as the existing ones.
New partitions are produceable at once and visible in Metadata. A topic named twice
in one request gets INVALID_REQUEST. ``validate_only`` checks and changes nothing.
Each topic needs ALTER (TOPIC_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime
from collections import Counter

from broker.common.acls import AclOperation, ResourceType
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import MESSAGES
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build
from broker.server.quota_manager import MutationQuota

STRICT_QUOTA_VERSION = 3  # KIP-599: THROTTLING_QUOTA_EXCEEDED per topic from v3


def _grow(
    ctx: RequestContext, topic: object, validate_only: bool, mutations: MutationQuota
) -> tuple[ErrorCode, str | None]:
    assignments = topic.assignments  # type: ignore[attr-defined]
    replicas = None if assignments is None else [list(a.broker_ids) for a in assignments]
    if not ctx.authorize(AclOperation.ALTER, ResourceType.TOPIC, topic.name):  # type: ignore[attr-defined]
        error = ErrorCode.topic_authorization_failed
        return error, MESSAGES[error]
    try:
        mutations.check()
        record = ctx.broker.metadata.topic(topic.name)  # type: ignore[attr-defined]
        current = len(record.partitions) if record is not None else 0
        ctx.broker.create_partitions(
            topic.name,  # type: ignore[attr-defined]
            topic.count,  # type: ignore[attr-defined]
            replicas,
            validate_only=validate_only,
            principal=ctx.principal,
        )
    except BrokerError as exc:
        return exc.code, exc.message
    if not validate_only:
        mutations.record(topic.count - current)  # type: ignore[attr-defined]
    return ErrorCode.none, None


@api(key=37, min_version=0, max_version=3)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    counts = Counter(t.name for t in request.topics)  # type: ignore[attr-defined]
    results = []
    mutations = ctx.broker.quotas.mutations(ctx.quota, strict=ctx.version >= STRICT_QUOTA_VERSION)
    for topic in request.topics:  # type: ignore[attr-defined]
        if counts[topic.name] > 1:
            error, message = ErrorCode.invalid_request, "Duplicate topic in request."
        else:
            error, message = _grow(ctx, topic, request.validate_only, mutations)  # type: ignore[attr-defined]
        results.append(
            build(
                response.CreatePartitionsTopicResult,
                name=topic.name,
                error_code=error,
                error_message=message,
            )
        )
    return build(
        response.CreatePartitionsResponse,
        throttle_time=datetime.timedelta(0),
        results=tuple(results),
    )
