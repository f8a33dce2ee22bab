"""InitProducerId (key 22): producer IDs for idempotent producers.

IDs come from the cluster metadata store in persisted blocks, so they stay unique
across restarts. Transactional IDs need the transaction coordinator, which does not
exist yet: such requests get COORDINATOR_NOT_AVAILABLE.
"""

from __future__ import annotations

import datetime

from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=22, min_version=0, max_version=4)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    if request.transactional_id is not None:  # type: ignore[attr-defined]
        return build(
            response.InitProducerIdResponse,
            throttle_time=datetime.timedelta(0),
            error_code=ErrorCode.coordinator_not_available,
            producer_id=-1,
            producer_epoch=-1,
        )
    return build(
        response.InitProducerIdResponse,
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        producer_id=ctx.broker.metadata.allocate_producer_id(),
        producer_epoch=0,
    )
