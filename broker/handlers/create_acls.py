"""CreateAcls (key 30): add ACL bindings; one result per creation, in request order.

Needs ALTER on the cluster (every result CLUSTER_AUTHORIZATION_FAILED otherwise);
without an authorizer every result is SECURITY_DISABLED, as in Kafka. Each binding is
checked with Kafka's rules and messages (INVALID_REQUEST: "The only valid name for the
CLUSTER resource is kafka-cluster", "Invalid empty resource name", "Invalid patternType
MATCH", ...); the valid ones are stored together in one metadata write, and a binding
that already exists is a success. The authorizer applies them to the next request.
"""

from __future__ import annotations

import datetime
import logging

from broker.common.acls import AclBinding, AclOperation, InvalidAcl
from broker.errors import BrokerError, ErrorCode
from broker.handlers.acl_requests import acl_authorizer, acl_binding
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

log = logging.getLogger(__name__)


def _outcomes(
    ctx: RequestContext, creations: tuple[object, ...]
) -> list[tuple[ErrorCode, str | None]]:
    try:
        authorizer = acl_authorizer(ctx, AclOperation.ALTER)
    except BrokerError as exc:
        return [(exc.code, exc.message)] * len(creations)
    outcomes: list[tuple[ErrorCode, str | None]] = []
    valid: list[AclBinding] = []
    for creation in creations:
        binding = acl_binding(creation)
        try:
            binding.validate()
        except InvalidAcl as exc:
            outcomes.append((ErrorCode.invalid_request, str(exc)))
            continue
        valid.append(binding)
        outcomes.append((ErrorCode.none, None))
    if valid:
        authorizer.create_acls(valid)
        for binding in valid:
            log.info("%s created ACL %s", ctx.principal, binding)
    return outcomes


@api(key=30, min_version=1, max_version=3)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    outcomes = _outcomes(ctx, request.creations)  # type: ignore[attr-defined]
    return build(
        response.CreateAclsResponse,
        throttle_time=datetime.timedelta(0),
        results=tuple(
            build(response.AclCreationResult, error_code=error, error_message=message)
            for error, message in outcomes
        ),
    )
