"""SaslHandshake (key 17): the client picks a SASL mechanism (KIP-43).

v1 means SaslAuthenticate requests carry the tokens; v0 means raw size-prefixed tokens
follow, without Kafka headers (old clients). An unknown mechanism gets
UNSUPPORTED_SASL_MECHANISM with the enabled list, and the connection closes after the
answer. On an authenticated connection, or a listener without SASL, the answer is
ILLEGAL_SASL_STATE, as Kafka's request handler gives.
"""

from __future__ import annotations

from broker.errors import ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=17, min_version=0, max_version=1)
async def handle(ctx: RequestContext, request: object) -> object:
    security = ctx.security
    if security is None:
        code, mechanisms = ErrorCode.illegal_sasl_state, ()
    else:
        code = security.handshake(request.mechanism, ctx.version)  # type: ignore[attr-defined]
        mechanisms = security.mechanisms
    return build(ctx.response.SaslHandshakeResponse, error_code=code, mechanisms=mechanisms)
