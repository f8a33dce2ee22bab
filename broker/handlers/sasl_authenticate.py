"""SaslAuthenticate (key 36): one SASL token each way (KIP-152).

The mechanism's server (``broker.security``) answers each token; the last answer
completes the login and the connection's principal becomes ``User:<name>``. A failure
is SASL_AUTHENTICATION_FAILED with Kafka's message, and the connection closes after
the answer. A PLAIN token costs a PBKDF2 run, so it is checked on the broker's one
password-check thread (``BrokerState.password_checks``) rather than on the event loop:
however many clients guess passwords at once, hashing takes at most one core. Session
lifetime is 0: no re-authentication (KIP-368).
"""

from __future__ import annotations

import asyncio
import datetime

from broker.errors import BrokerError, ErrorCode
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=36, min_version=0, max_version=2)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response.SaslAuthenticateResponse
    security = ctx.security
    token: bytes = request.auth_bytes  # type: ignore[attr-defined]
    try:
        if security is None:
            raise BrokerError(
                ErrorCode.illegal_sasl_state,
                "SaslAuthenticate request received after successful authentication",
            )
        if security.slow_step:
            answer = await asyncio.get_running_loop().run_in_executor(
                ctx.broker.password_checks, security.authenticate, token
            )
        else:
            answer = security.authenticate(token)
    except BrokerError as exc:
        return build(
            response,
            error_code=exc.code,
            error_message=exc.message,
            auth_bytes=b"",
            session_lifetime=datetime.timedelta(0),
        )
    return build(
        response,
        error_code=ErrorCode.none,
        error_message=None,
        auth_bytes=answer,
        session_lifetime=datetime.timedelta(0),
    )
