"""DeleteAcls (key 31): delete the ACL bindings each filter matches; per filter, the
bindings it deleted.

Needs ALTER on the cluster (every filter result CLUSTER_AUTHORIZATION_FAILED
otherwise); without an authorizer every result is SECURITY_DISABLED, as in Kafka. A
filter with UNKNOWN parts gets INVALID_REQUEST and deletes nothing; the others are
applied together in one metadata write (a binding two filters match is listed under
both). Filters are those of DescribeAcls (MATCH, ANY, LITERAL, PREFIXED).
"""

from __future__ import annotations

import datetime
import logging

from broker.common.acls import AclBinding, AclBindingFilter, AclOperation, InvalidAcl
from broker.errors import BrokerError, ErrorCode
from broker.handlers.acl_requests import acl_authorizer, acl_filter
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build

log = logging.getLogger(__name__)

Outcome = tuple[ErrorCode, str | None, list[AclBinding]]


def _outcomes(ctx: RequestContext, filters: tuple[object, ...]) -> list[Outcome]:
    try:
        authorizer = acl_authorizer(ctx, AclOperation.ALTER)
    except BrokerError as exc:
        return [(exc.code, exc.message, [])] * len(filters)
    parsed: list[AclBindingFilter | str] = []
    for item in filters:
        try:
            parsed.append(acl_filter(item))
        except InvalidAcl as exc:
            parsed.append(str(exc))
    valid = [f for f in parsed if isinstance(f, AclBindingFilter)]
    deleted = iter(authorizer.delete_acls(valid))
    outcomes: list[Outcome] = []
    for item in parsed:
        if isinstance(item, str):
            outcomes.append((ErrorCode.invalid_request, item, []))
        else:
            outcomes.append((ErrorCode.none, None, next(deleted)))
    for binding in {b for _e, _m, bindings in outcomes for b in bindings}:
        log.info("%s deleted ACL %s", ctx.principal, binding)
    return outcomes


@api(key=31, min_version=1, max_version=3)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    outcomes = _outcomes(ctx, request.filters)  # type: ignore[attr-defined]
    return build(
        response.DeleteAclsResponse,
        throttle_time=datetime.timedelta(0),
        filter_results=tuple(
            build(
                response.DeleteAclsFilterResult,
                error_code=error,
                error_message=message,
                matching_acls=tuple(
                    build(
                        response.DeleteAclsMatchingAcl,
                        error_code=ErrorCode.none,
                        error_message=None,
                        resource_type=b.resource_type,
                        resource_name=b.resource_name,
                        pattern_type=b.pattern_type,
                        principal=b.principal,
                        host=b.host,
                        operation=b.operation,
                        permission_type=b.permission_type,
                    )
                    for b in bindings
                ),
            )
            for error, message, bindings in outcomes
        ),
    )
