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

from broker.cluster.acls import (
    AclBinding,
    AclOperation,
    InvalidAcl,
    PatternType,
    PermissionType,
    ResourceType,
    from_wire,
)
from broker.errors import ErrorCode
from broker.handlers.authorization import MESSAGES, authorize_cluster
from broker.handlers.context import RequestContext
from broker.handlers.describe_acls import NO_AUTHORIZER
from broker.handlers.registry import api
from broker.protocol.messages import build

log = logging.getLogger(__name__)


def _binding(creation: object) -> AclBinding:
    return AclBinding(
        resource_type=from_wire(ResourceType, creation.resource_type),  # type: ignore[attr-defined]
        resource_name=creation.resource_name,  # type: ignore[attr-defined]
        pattern_type=from_wire(PatternType, creation.resource_pattern_type),  # type: ignore[attr-defined]
        principal=creation.principal,  # type: ignore[attr-defined]
        host=creation.host,  # type: ignore[attr-defined]
        operation=from_wire(AclOperation, creation.operation),  # type: ignore[attr-defined]
        permission_type=from_wire(PermissionType, creation.permission_type),  # type: ignore[attr-defined]
    )


def _outcomes(
    ctx: RequestContext, creations: tuple[object, ...]
) -> list[tuple[ErrorCode, str | None]]:
    if not authorize_cluster(ctx, AclOperation.ALTER):
        error = ErrorCode.cluster_authorization_failed
        return [(error, MESSAGES[error])] * len(creations)
    authorizer = ctx.broker.authorizer
    if authorizer is None:
        return [(ErrorCode.security_disabled, NO_AUTHORIZER)] * len(creations)
    outcomes: list[tuple[ErrorCode, str | None]] = []
    valid: list[AclBinding] = []
    for creation in creations:
        binding = _binding(creation)
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
