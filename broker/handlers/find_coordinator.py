"""FindCoordinator (key 10): which broker coordinates a consumer group (or transaction).

With one broker, this broker coordinates every group. The transaction coordinator does
not exist yet, so the transaction key type answers COORDINATOR_NOT_AVAILABLE, as Kafka
does while its coordinator is loading. v4 (KIP-699) batches several keys.

Advertising this API also matters beyond groups: librdkafka enables its LZ4 feature
only when the broker lists FindCoordinator, and silently sends lz4 topics uncompressed
otherwise.

Authorization (Kafka's): DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED) or on the
transactional ID (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), per key.
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.errors import ErrorCode
from broker.handlers.authorization import MESSAGES
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

GROUP_KEY_TYPE = 0
TRANSACTION_KEY_TYPE = 1


_RESOURCES = {
    GROUP_KEY_TYPE: (ResourceType.GROUP, ErrorCode.group_authorization_failed),
    TRANSACTION_KEY_TYPE: (
        ResourceType.TRANSACTIONAL_ID,
        ErrorCode.transactional_id_authorization_failed,
    ),
}


def _coordinator(
    ctx: RequestContext, key_type: int, key: str
) -> tuple[ErrorCode, str | None, int, str, int]:
    """(error, message, node_id, host, port) for one key."""
    if key_type in _RESOURCES:
        resource_type, error = _RESOURCES[key_type]
        if not ctx.authorize(AclOperation.DESCRIBE, resource_type, key):
            return error, MESSAGES[error], -1, "", -1
    if key_type == TRANSACTION_KEY_TYPE:
        return (
            ErrorCode.coordinator_not_available,
            "The transaction coordinator is not available.",
            -1,
            "",
            -1,
        )
    if key_type != GROUP_KEY_TYPE:
        return ErrorCode.invalid_request, f"Unknown coordinator key type {key_type}.", -1, "", -1
    listener = ctx.broker.config.advertised_listener(ctx.listener_name)
    return ErrorCode.none, None, ctx.broker.node_id, listener.host, listener.port


@api(key=10, min_version=0, max_version=4)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    key_type = getattr(request, "key_type", GROUP_KEY_TYPE)
    if hasattr(request, "coordinator_keys"):
        coordinators = []
        for key in request.coordinator_keys:
            error, message, node_id, host, port = _coordinator(ctx, key_type, key)
            coordinators.append(
                build(
                    response.Coordinator,
                    key=key,
                    node_id=node_id,
                    host=host,
                    port=port,
                    error_code=error,
                    error_message=message,
                )
            )
        return build(
            response.FindCoordinatorResponse,
            throttle_time=datetime.timedelta(0),
            coordinators=tuple(coordinators),
        )
    error, message, node_id, host, port = _coordinator(ctx, key_type, request.key)  # type: ignore[attr-defined]
    return build(
        response.FindCoordinatorResponse,
        throttle_time=datetime.timedelta(0),
        error_code=error,
        error_message=message,
        node_id=node_id,
        host=host,
        port=port,
    )
