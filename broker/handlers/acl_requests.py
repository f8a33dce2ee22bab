"""What the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls) share: who may call them,
and their wire fields as the model's bindings and filters.

A client needs DESCRIBE (to list) or ALTER (to change) on the cluster, else
CLUSTER_AUTHORIZATION_FAILED; with no authorizer the answer is SECURITY_DISABLED, "No
Authorizer is configured.", as Kafka's. Codes Kafka does not know become UNKNOWN, which
validation refuses (INVALID_REQUEST).
"""

from __future__ import annotations

from broker.cluster.authorizer import StandardAuthorizer
from broker.common.acls import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    PatternType,
    PermissionType,
    ResourceType,
    from_wire,
)
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import MESSAGES, authorize_cluster
from broker.handlers.context import RequestContext

NO_AUTHORIZER = "No Authorizer is configured."


def acl_authorizer(ctx: RequestContext, operation: AclOperation) -> StandardAuthorizer:
    """The authorizer, for a client allowed ``operation`` on the cluster; otherwise a
    BrokerError with Kafka's code and message."""
    if not authorize_cluster(ctx, operation):
        error = ErrorCode.cluster_authorization_failed
        raise BrokerError(error, MESSAGES[error])
    if ctx.broker.authorizer is None:
        raise BrokerError(ErrorCode.security_disabled, NO_AUTHORIZER)
    return ctx.broker.authorizer


def acl_filter(item: object) -> AclBindingFilter:
    """A DescribeAcls request's or DeleteAcls filter's fields as a filter (validated)."""
    acl_filter = AclBindingFilter(
        resource_type=from_wire(ResourceType, item.resource_type_filter),  # type: ignore[attr-defined]
        resource_name=item.resource_name_filter,  # type: ignore[attr-defined]
        pattern_type=from_wire(PatternType, item.pattern_type_filter),  # type: ignore[attr-defined]
        principal=item.principal_filter,  # type: ignore[attr-defined]
        host=item.host_filter,  # type: ignore[attr-defined]
        operation=from_wire(AclOperation, item.operation),  # type: ignore[attr-defined]
        permission_type=from_wire(PermissionType, item.permission_type),  # type: ignore[attr-defined]
    )
    acl_filter.validate()
    return acl_filter


def acl_binding(creation: object) -> AclBinding:
    """A CreateAcls creation as a binding (not yet validated)."""
    return AclBinding(
        resource_type=from_wire(ResourceType, creation.resource_type),  # type: ignore[attr-defined]
        resource_name=creation.resource_name,  # type: ignore[attr-defined]
        pattern_type=from_wire(PatternType, creation.resource_pattern_type),  # type: ignore[attr-defined]
        principal=creation.principal,  # type: ignore[attr-defined]
        host=creation.host,  # type: ignore[attr-defined]
        operation=from_wire(AclOperation, creation.operation),  # type: ignore[attr-defined]
        permission_type=from_wire(PermissionType, creation.permission_type),  # type: ignore[attr-defined]
    )
