"""IncrementalAlterConfigs (key 44): SET, DELETE, APPEND, SUBTRACT per config key.

Operations apply to the resource's stored overrides; APPEND/SUBTRACT work on list
configs (``cleanup.policy``) starting from the effective value when there is no
override. The result is validated as a whole, like AlterConfigs, and a resource
either changes completely or not at all. A key named twice in one resource is
INVALID_REQUEST ("Error due to duplicate config keys"), as in Kafka. Needs
ALTER_CONFIGS on the topic, or on the cluster for a broker resource.
"""

from __future__ import annotations

from collections import Counter

from broker.cluster.config_catalog import BROKER_CONFIGS, TOPIC_CONFIGS
from broker.cluster.configs import ResourceType, apply_incremental
from broker.common.acls import AclOperation
from broker.errors import BrokerError, ErrorCode
from broker.handlers.config_resources import alter_response, authorized_resource
from broker.handlers.context import RequestContext
from broker.handlers.registry import api


@api(key=44, min_version=0, max_version=1)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    validate_only = request.validate_only  # type: ignore[attr-defined]
    configs = ctx.broker.configs

    def alter(resource: object) -> None:
        kind, name = authorized_resource(ctx, resource, AclOperation.ALTER_CONFIGS)
        names = Counter(c.name for c in resource.configs)  # type: ignore[attr-defined]
        if any(count > 1 for count in names.values()):
            raise BrokerError(ErrorCode.invalid_request, "Error due to duplicate config keys")
        operations = [(c.name, c.config_operation, c.value) for c in resource.configs]  # type: ignore[attr-defined]
        if kind == ResourceType.TOPIC:
            new = apply_incremental(
                configs.topic_overrides(name),
                operations,
                TOPIC_CONFIGS,
                lambda key: configs.effective_topic_value(name, key),
            )
            ctx.broker.check_plan_configs(ctx.principal, name, new)
            configs.alter_topic(name, new, validate_only=validate_only)
        else:
            new = apply_incremental(
                configs.broker_overrides(name),
                operations,
                BROKER_CONFIGS,
                configs.effective_broker_value,
            )
            configs.alter_broker(name, new, validate_only=validate_only)

    return alter_response(ctx, response.IncrementalAlterConfigsResponse, request.resources, alter)  # type: ignore[attr-defined]
