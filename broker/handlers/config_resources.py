"""What the config APIs (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs) share:
resource types, authorization, duplicate detection and the per-resource error
convention."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar

from broker.cluster.configs import ResourceType
from broker.common import acls
from broker.common.topic_names import validate_topic_name
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import require
from broker.handlers.context import RequestContext
from broker.protocol.messages import build

R = TypeVar("R")

SUPPORTED = (ResourceType.TOPIC, ResourceType.BROKER)


def check_resource(resource_type: int, resource_name: str) -> ResourceType:
    """The resource type if Headwater serves it; INVALID_REQUEST otherwise, and
    INVALID_TOPIC_EXCEPTION for an illegal topic name."""
    try:
        kind = ResourceType(resource_type)
    except ValueError:
        raise BrokerError(
            ErrorCode.invalid_request, f"Unknown resource type {resource_type}."
        ) from None
    if kind not in SUPPORTED:
        raise BrokerError(ErrorCode.invalid_request, f"Unsupported resource type: {kind.name}")
    if kind == ResourceType.TOPIC:
        validate_topic_name(resource_name)
    return kind


def authorized_resource(
    ctx: RequestContext, resource: object, operation: acls.AclOperation
) -> tuple[ResourceType, str]:
    """A request resource's type and name, once :func:`check_resource` accepts it and the
    client may ``operation`` (DESCRIBE_CONFIGS or ALTER_CONFIGS) it. Kafka's rule: on
    the topic (TOPIC_AUTHORIZATION_FAILED), or on the cluster for a broker resource
    (CLUSTER_AUTHORIZATION_FAILED)."""
    name: str = resource.resource_name  # type: ignore[attr-defined]
    kind = check_resource(resource.resource_type, name)  # type: ignore[attr-defined]
    if kind == ResourceType.TOPIC:
        require(ctx, operation, acls.ResourceType.TOPIC, name, ErrorCode.topic_authorization_failed)
    else:
        require(
            ctx,
            operation,
            acls.ResourceType.CLUSTER,
            acls.CLUSTER_RESOURCE_NAME,
            ErrorCode.cluster_authorization_failed,
        )
    return kind, name


def each_resource(
    resources: Iterable[object],
    handle: Callable[[object], None],
    result: Callable[[object, ErrorCode, str | None], R],
) -> list[R]:
    """Run ``handle`` per resource and build one ``result`` each; a BrokerError becomes
    that resource's error. A resource named twice gets one INVALID_REQUEST "Duplicate
    resource." and is not changed (Kafka's AlterConfigs behaviour)."""
    resources = list(resources)
    counts = Counter((r.resource_type, r.resource_name) for r in resources)  # type: ignore[attr-defined]
    answered: set[tuple[int, str]] = set()
    results = []
    for resource in resources:
        key = (resource.resource_type, resource.resource_name)  # type: ignore[attr-defined]
        if counts[key] > 1:
            if key not in answered:
                answered.add(key)
                results.append(result(resource, ErrorCode.invalid_request, "Duplicate resource."))
            continue
        try:
            handle(resource)
        except BrokerError as exc:
            results.append(result(resource, exc.code, exc.message))
            continue
        results.append(result(resource, ErrorCode.none, None))
    return results


def alter_response(
    ctx: RequestContext,
    response_type: type,
    resources: Iterable[object],
    alter: Callable[[object], None],
) -> object:
    """The AlterConfigs / IncrementalAlterConfigs response: ``alter`` applied to each
    resource, one AlterConfigsResourceResponse each (both APIs share that entity)."""
    entity = ctx.response.AlterConfigsResourceResponse

    def result(resource: object, error: ErrorCode, message: str | None) -> object:
        return build(
            entity,
            error_code=error,
            error_message=message,
            resource_type=resource.resource_type,  # type: ignore[attr-defined]
            resource_name=resource.resource_name,  # type: ignore[attr-defined]
        )

    return build(
        response_type,
        throttle_time=datetime.timedelta(0),
        responses=tuple(each_resource(resources, alter, result)),
    )
