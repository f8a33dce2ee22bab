"""DescribeAcls (key 29): the ACL bindings a filter selects, grouped by resource pattern.

Needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED); without an authorizer
the answer is SECURITY_DISABLED, "No Authorizer is configured.", as Kafka's. A filter
with UNKNOWN parts is INVALID_REQUEST. Pattern type MATCH selects every binding that
applies to the named resource (literal, wildcard and prefixes); ANY every pattern type.
Served from v1, the first version with pattern types (Kafka 4 dropped v0, KIP-896).
"""

from __future__ import annotations

import datetime

from broker.common.acls import AclBinding, AclOperation, InvalidAcl, PatternType, ResourceType
from broker.errors import BrokerError, ErrorCode
from broker.handlers.acl_requests import acl_authorizer, acl_filter
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def _resources(ctx: RequestContext, bindings: list[AclBinding]) -> tuple[object, ...]:
    response = ctx.response
    grouped: dict[tuple[ResourceType, str, PatternType], list[AclBinding]] = {}
    for binding in bindings:
        key = (binding.resource_type, binding.resource_name, binding.pattern_type)
        grouped.setdefault(key, []).append(binding)
    return tuple(
        build(
            response.DescribeAclsResource,
            resource_type=resource_type,
            resource_name=resource_name,
            pattern_type=pattern_type,
            acls=tuple(
                build(
                    response.AclDescription,
                    principal=b.principal,
                    host=b.host,
                    operation=b.operation,
                    permission_type=b.permission_type,
                )
                for b in group
            ),
        )
        for (resource_type, resource_name, pattern_type), group in grouped.items()
    )


@api(key=29, min_version=1, max_version=3)
async def handle(ctx: RequestContext, request: object) -> object:
    def answer(error: ErrorCode, message: str | None, resources: tuple[object, ...] = ()) -> object:
        return build(
            ctx.response.DescribeAclsResponse,
            throttle_time=datetime.timedelta(0),
            error_code=error,
            error_message=message,
            resources=resources,
        )

    try:
        selected = acl_authorizer(ctx, AclOperation.DESCRIBE).acls(acl_filter(request))
    except BrokerError as exc:
        return answer(exc.code, exc.message)
    except InvalidAcl as exc:
        return answer(ErrorCode.invalid_request, str(exc))
    return answer(ErrorCode.none, None, _resources(ctx, selected))
