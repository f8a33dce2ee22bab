"""DeleteTopics (key 20): delete topics by name (v1-5) or by name or topic ID (v6).

Each topic needs DELETE (TOPIC_AUTHORIZATION_FAILED, checked before whether it exists,
so a refused client learns nothing about other tenants' topics; a topic ID the client
may not DESCRIBE is answered without its name)."""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import MESSAGES
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build
from broker.server.quota_manager import MutationQuota

STRICT_QUOTA_VERSION = 5  # KIP-599: THROTTLING_QUOTA_EXCEEDED per topic from v5


def _delete(
    ctx: RequestContext, name: str | None, topic_id: object, mutations: MutationQuota
) -> tuple[str | None, object, ErrorCode, str | None]:
    broker = ctx.broker
    if name is None:
        record = broker.metadata.topic_by_id(topic_id) if topic_id else None  # type: ignore[arg-type]
        if record is None:
            return (
                None,
                topic_id,
                ErrorCode.unknown_topic_id,
                "This server does not host this topic ID.",
            )
        if not ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, record.name):
            error = ErrorCode.topic_authorization_failed  # the name stays hidden
            return None, topic_id, error, MESSAGES[error]
        name = record.name
    if not ctx.authorize(AclOperation.DELETE, ResourceType.TOPIC, name):
        error = ErrorCode.topic_authorization_failed
        return name, topic_id, error, MESSAGES[error]
    try:
        mutations.check()
        record = broker.delete_topic(name)
    except BrokerError as exc:
        return name, topic_id, exc.code, exc.message
    mutations.record(len(record.partitions))
    return name, record.topic_id, ErrorCode.none, None


@api(key=20, min_version=1, max_version=6)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    if hasattr(request, "topics"):
        wanted = [(t.name, t.topic_id) for t in request.topics]
    else:
        wanted = [(name, None) for name in request.topic_names]  # type: ignore[attr-defined]
    results = []
    mutations = ctx.broker.quotas.mutations(ctx.quota, strict=ctx.version >= STRICT_QUOTA_VERSION)
    for name, topic_id in wanted:
        name, topic_id, error, message = _delete(ctx, name, topic_id, mutations)
        results.append(
            build(
                response.DeletableTopicResult,
                name=name,
                topic_id=topic_id,
                error_code=error,
                error_message=message,
            )
        )
    return build(
        response.DeleteTopicsResponse, throttle_time=datetime.timedelta(0), responses=tuple(results)
    )
