"""DescribeConfigs (key 32): topic and broker configs with source, synonyms and docs.

A topic lists every topic config with its effective value; broker resource
``"<node.id>"`` lists the broker's configs, ``""`` the cluster-wide dynamic defaults.
``configuration_keys`` filters by name (unknown names are simply not listed).
Synonyms (v1+) and documentation (v3+) only when asked for, as Kafka does. Served
from v1: v0 predates config sources and Kafka 4 dropped it too (KIP-896). Needs
DESCRIBE_CONFIGS on the topic (TOPIC_AUTHORIZATION_FAILED) or, for a broker resource,
on the cluster (CLUSTER_AUTHORIZATION_FAILED).
"""

from __future__ import annotations

import datetime

from broker.cluster.configs import ConfigEntry, ResourceType
from broker.common.acls import AclOperation
from broker.errors import BrokerError, ErrorCode
from broker.handlers.config_resources import authorized_resource
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


def _entry(ctx: RequestContext, entry: ConfigEntry, synonyms: bool, documentation: bool) -> object:
    response = ctx.response
    return build(
        response.DescribeConfigsResourceResult,
        name=entry.name,
        value=entry.value,
        read_only=entry.read_only,
        config_source=int(entry.source),
        is_sensitive=entry.is_sensitive,
        synonyms=tuple(
            build(response.DescribeConfigsSynonym, name=s.name, value=s.value, source=int(s.source))
            for s in entry.synonyms
        )
        if synonyms
        else (),
        config_type=int(entry.config_type),
        documentation=entry.documentation if documentation else None,
    )


def _describe(ctx: RequestContext, resource: object) -> list[ConfigEntry]:
    kind, name = authorized_resource(ctx, resource, AclOperation.DESCRIBE_CONFIGS)
    keys = resource.configuration_keys  # type: ignore[attr-defined]
    wanted = None if keys is None else set(keys)
    if kind == ResourceType.TOPIC:
        return ctx.broker.configs.describe_topic(name, wanted)
    return ctx.broker.configs.describe_broker(name, wanted)


@api(key=32, min_version=1, max_version=4)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    synonyms = bool(getattr(request, "include_synonyms", False))
    documentation = bool(getattr(request, "include_documentation", False))
    results = []
    for resource in request.resources:  # type: ignore[attr-defined]
        try:
            entries = _describe(ctx, resource)
        except BrokerError as exc:
            error, message, configs = exc.code, exc.message, ()
        else:
            error, message = ErrorCode.none, None
            configs = tuple(_entry(ctx, e, synonyms, documentation) for e in entries)
        results.append(
            build(
                response.DescribeConfigsResult,
                error_code=error,
                error_message=message,
                resource_type=resource.resource_type,
                resource_name=resource.resource_name,
                configs=configs,
            )
        )
    return build(
        response.DescribeConfigsResponse,
        throttle_time=datetime.timedelta(0),
        results=tuple(results),
    )
