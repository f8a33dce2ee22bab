"""What handlers share for authorization: per-topic checks, messages, operation bitfields.

Handlers ask :meth:`RequestContext.authorize`; loops over many partitions use
:func:`denied_topics`, which checks each topic once and costs nothing when the broker
has no authorizer (Produce and Fetch call it on every request).
"""

from __future__ import annotations

from collections.abc import Iterable

from broker.common.acls import CLUSTER_RESOURCE_NAME, AclOperation, ResourceType
from broker.errors import BrokerError, ErrorCode
from broker.handlers.context import RequestContext

AUTHORIZED_OPERATIONS_OMITTED = -(2**31)
"""The schemas' default for ``*_authorized_operations`` when the client did not ask."""

MESSAGES = {
    ErrorCode.topic_authorization_failed: "Topic authorization failed.",
    ErrorCode.group_authorization_failed: "Group authorization failed.",
    ErrorCode.cluster_authorization_failed: "Cluster authorization failed.",
    ErrorCode.transactional_id_authorization_failed: "Transactional Id authorization failed.",
}
"""Kafka's default messages of the authorization errors (``Errors.message``)."""

Op = AclOperation


def denied_topics(
    ctx: RequestContext, operation: AclOperation, names: Iterable[str], *, log_denied: bool = True
) -> frozenset[str]:
    """The topics among ``names`` this client may not ``operation``, one check each."""
    if ctx.broker.authorizer is None:
        return frozenset()
    return frozenset(
        name
        for name in set(names)
        if not ctx.authorize(operation, ResourceType.TOPIC, name, log_denied=log_denied)
    )


def authorize_cluster(
    ctx: RequestContext, operation: AclOperation, *, log_denied: bool = True
) -> bool:
    return ctx.authorize(
        operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, log_denied=log_denied
    )


def require(
    ctx: RequestContext,
    operation: AclOperation,
    resource_type: ResourceType,
    name: str,
    error: ErrorCode,
) -> None:
    """Raise ``error`` (with Kafka's message) unless the client may do ``operation``."""
    if not ctx.authorize(operation, resource_type, name):
        raise BrokerError(error, MESSAGES[error])


def operations(ctx: RequestContext, wanted: bool, resource_type: ResourceType, name: str) -> int:
    """An ``authorized_operations`` field: the bitfield if asked for, else the default."""
    if not wanted:
        return AUTHORIZED_OPERATIONS_OMITTED
    return ctx.authorized_operations(resource_type, name)


def cluster_operations(ctx: RequestContext, wanted: bool) -> int:
    """Metadata's and DescribeCluster's cluster operations: as Kafka, 0 for a client
    that may not DESCRIBE the cluster."""
    if not wanted:
        return AUTHORIZED_OPERATIONS_OMITTED
    if not authorize_cluster(ctx, Op.DESCRIBE):
        return 0
    return ctx.authorized_operations(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
