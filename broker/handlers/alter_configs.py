"""AlterConfigs (key 33): replace all dynamic configs of a topic or broker resource.

The legacy, non-incremental API: every override the request does not name is removed
(back to the broker default), as in Kafka; a null value also means "no override".
Topic values are validated against Kafka's definitions (INVALID_CONFIG with Kafka's
message); broker resources ``""`` (cluster default) and ``"<node.id>"`` accept only the
configs Headwater applies at runtime. ``validate_only`` checks and changes nothing.
Needs ALTER_CONFIGS on the topic, or on the cluster for a broker resource.
"""

from __future__ import annotations

from broker.cluster.configs import ResourceType
from broker.common.acls import AclOperation
from broker.handlers.config_resources import alter_response, authorized_resource
from broker.handlers.context import RequestContext
from broker.handlers.registry import api


@api(key=33, min_version=0, max_version=2)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    validate_only = request.validate_only  # type: ignore[attr-defined]
    configs = ctx.broker.configs

    def alter(resource: object) -> None:
        kind, name = authorized_resource(ctx, resource, AclOperation.ALTER_CONFIGS)
        new = {c.name: c.value for c in resource.configs}  # type: ignore[attr-defined]
        if kind == ResourceType.TOPIC:
            ctx.broker.check_plan_configs(ctx.principal, name, new)
            configs.alter_topic(name, new, validate_only=validate_only)
        else:
            configs.alter_broker(name, new, validate_only=validate_only)

    return alter_response(ctx, response.AlterConfigsResponse, request.resources, alter)  # type: ignore[attr-defined]
