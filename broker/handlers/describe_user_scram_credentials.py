"""DescribeUserScramCredentials (key 50): users' SCRAM mechanisms and iterations (KIP-554).

Every user with credentials when no users are named; a named user without credentials
is RESOURCE_NOT_FOUND and a user named twice DUPLICATE_RESOURCE, with Kafka's
messages. Salts and keys are never returned. Needs DESCRIBE on the cluster
(CLUSTER_AUTHORIZATION_FAILED, no results).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclOperation
from broker.errors import ErrorCode
from broker.handlers.authorization import MESSAGES, authorize_cluster
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build
from broker.security.credentials import describe


@api(key=50, min_version=0, max_version=0)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    if not authorize_cluster(ctx, AclOperation.DESCRIBE):
        error = ErrorCode.cluster_authorization_failed
        return build(
            response.DescribeUserScramCredentialsResponse,
            throttle_time=datetime.timedelta(0),
            error_code=error,
            error_message=MESSAGES[error],
            results=tuple(
                build(
                    response.DescribeUserScramCredentialsResult,
                    user=user.name,
                    error_code=error,
                    error_message=MESSAGES[error],
                    credential_infos=(),
                )
                for user in request.users or ()  # type: ignore[attr-defined]
            ),
        )
    users = request.users  # type: ignore[attr-defined]
    names = None if users is None else [user.name for user in users]
    results = tuple(
        build(
            response.DescribeUserScramCredentialsResult,
            user=item.user,
            error_code=item.error_code,
            error_message=item.error_message,
            credential_infos=tuple(
                build(response.CredentialInfo, mechanism=code, iterations=iterations)
                for code, iterations in item.credentials
            ),
        )
        for item in describe(names, ctx.broker.metadata.scram_users())
    )
    return build(
        response.DescribeUserScramCredentialsResponse,
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        error_message=None,
        results=results,
    )
