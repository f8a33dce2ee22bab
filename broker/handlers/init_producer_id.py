"""InitProducerId (key 22): producer IDs for idempotent producers.

IDs come from the cluster metadata store in persisted blocks, so they stay unique
across restarts. A producer presenting its current ID and epoch (v3+, KIP-360) gets
the same ID with the epoch bumped. Transactional IDs need the transaction coordinator,
which does not exist yet: such requests get COORDINATOR_NOT_AVAILABLE.

Authorization (Kafka's): a transactional ID needs WRITE on it
(TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an idempotent producer needs IDEMPOTENT_WRITE on
the cluster or, since KIP-679, WRITE on any topic (CLUSTER_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation, ResourceType
from broker.errors import ErrorCode
from broker.handlers.authorization import authorize_cluster
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

MAX_PRODUCER_EPOCH = 32767 - 1  # past this a fresh producer ID is handed out


def _refusal(ctx: RequestContext, transactional_id: str | None) -> ErrorCode | None:
    if transactional_id is not None:
        if ctx.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id):
            return None
        return ErrorCode.transactional_id_authorization_failed
    if authorize_cluster(ctx, AclOperation.IDEMPOTENT_WRITE, log_denied=False) or ctx.authorize_any(
        AclOperation.WRITE, ResourceType.TOPIC
    ):
        return None
    return ErrorCode.cluster_authorization_failed


@api(key=22, min_version=0, max_version=4)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    transactional_id = request.transactional_id  # type: ignore[attr-defined]
    refusal = _refusal(ctx, transactional_id)
    if refusal is None and transactional_id is not None:
        refusal = ErrorCode.coordinator_not_available
    if refusal is not None:
        return build(
            response.InitProducerIdResponse,
            throttle_time=datetime.timedelta(0),
            error_code=refusal,
            producer_id=-1,
            producer_epoch=-1,
        )
    producer_id = getattr(request, "producer_id", -1)
    producer_epoch = getattr(request, "producer_epoch", -1)
    if producer_id >= 0 and producer_epoch >= 0 and producer_epoch < MAX_PRODUCER_EPOCH:
        # KIP-360: an idempotent producer that lost its sequence state bumps its epoch
        # and keeps its ID; sequence numbering restarts at 0 for the new epoch.
        epoch = producer_epoch + 1
    else:
        producer_id, epoch = ctx.broker.metadata.allocate_producer_id(), 0
    return build(
        response.InitProducerIdResponse,
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        producer_id=producer_id,
        producer_epoch=epoch,
    )
