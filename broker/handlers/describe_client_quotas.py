"""DescribeClientQuotas (key 48): the quota configs of the entities a filter matches.

Each filter component names an entity type (``user``, ``client-id``) and a match type:
EXACT (that name), DEFAULT (the default entity) or SPECIFIED (any named, non-default
entity). ``strict`` leaves out entities that have types the filter does not name.
A malformed filter is answered with Kafka's error and message and no entries
(:mod:`broker.cluster.client_quotas`). With an authorizer, the client needs
DESCRIBE_CONFIGS on the cluster (else CLUSTER_AUTHORIZATION_FAILED, as Kafka).
"""

from __future__ import annotations

import datetime

from broker.cluster import client_quotas
from broker.common.acls import AclOperation
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import MESSAGES, authorize_cluster
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build


@api(key=48, min_version=0, max_version=1)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    try:
        if not authorize_cluster(ctx, AclOperation.DESCRIBE_CONFIGS):
            raise BrokerError(
                ErrorCode.cluster_authorization_failed,
                MESSAGES[ErrorCode.cluster_authorization_failed],
            )
        quota_filter = client_quotas.parse_filter(
            (
                (c.entity_type, c.match_type, c.match)
                for c in request.components  # type: ignore[attr-defined]
            ),
            request.strict,  # type: ignore[attr-defined]
        )
    except BrokerError as exc:
        return build(
            response.DescribeClientQuotasResponse,
            throttle_time=datetime.timedelta(0),
            error_code=exc.code,
            error_message=exc.message,
            entries=None,
        )
    matched = client_quotas.describe(ctx.broker.quotas.configs(), quota_filter)
    entries = tuple(
        build(
            response.EntryData,
            entity=tuple(
                build(response.EntityData, entity_type=entity_type, entity_name=name)
                for entity_type, name in client_quotas.entity_entries(quota_entity)
            ),
            values=tuple(
                build(response.ValueData, key=key, value=value)
                for key, value in sorted(values.items())
            ),
        )
        for quota_entity, values in matched
    )
    return build(
        response.DescribeClientQuotasResponse,
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        error_message=None,
        entries=entries,
    )
