"""AlterClientQuotas (key 49): set and remove quota configs of user / client-id / ip entities.

Each entry names an entity (``user`` and/or ``client-id``, or an ``ip`` alone; a null
name is the default entity) and ops that set a key to a positive value or remove it.
Entries are checked one by one with Kafka's errors and messages (INVALID_REQUEST:
unknown key for the entity type, value not above zero, fractional byte rate or
connection rate, empty or duplicate entity types, ip combined with another type, an ip
that is neither an address nor a resolvable host); the valid ones are persisted together
in one metadata write and apply at once: to connected clients, and to new connections
(``connection_creation_rate``). ``validate_only`` checks and changes
nothing. With an authorizer, the client needs ALTER_CONFIGS on the cluster; without
it every entry is answered CLUSTER_AUTHORIZATION_FAILED, as Kafka does.
"""

from __future__ import annotations

import datetime
import logging

from broker.cluster import client_quotas
from broker.cluster.quotas import QuotaEntity
from broker.common.acls import AclOperation
from broker.errors import BrokerError, ErrorCode
from broker.handlers.authorization import MESSAGES, authorize_cluster
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build
from broker.server.connection_quotas import resolve_host

log = logging.getLogger(__name__)


async def _plan(
    ctx: RequestContext,
    entry: object,
    current: dict[QuotaEntity, dict[str, float]],
    planned: dict[QuotaEntity, dict[str, float]],
) -> tuple[ErrorCode, str | None]:
    """Validate one entry and fold its changes into ``planned`` (entity -> new quotas;
    an entity not changed yet by this request starts from ``current``)."""
    try:
        quota_entity = client_quotas.parse_entity(
            (e.entity_type, e.entity_name)
            for e in entry.entity  # type: ignore[attr-defined]
        )
        host = client_quotas.needs_resolution(quota_entity)
        if host is not None:  # Kafka's InetAddress.getByName, off the event loop
            addresses = await resolve_host(host)
            if addresses is None:
                raise client_quotas.not_resolvable(host)
            ctx.broker.connection_quotas.remember_host(host, addresses)
        changes = client_quotas.parse_ops(
            ((op.key, op.value, op.remove) for op in entry.ops),  # type: ignore[attr-defined]
            ip=quota_entity.has_ip,
            user_only=quota_entity.has_user and not quota_entity.has_client_id,
        )
    except BrokerError as exc:
        return exc.code, exc.message
    before = planned.get(quota_entity, current.get(quota_entity, {}))
    planned[quota_entity] = client_quotas.apply(before, changes)
    return ErrorCode.none, None


@api(key=49, min_version=0, max_version=1)
async def handle(ctx: RequestContext, request: object) -> object:
    response = ctx.response
    quotas = ctx.broker.quotas
    current = quotas.configs()
    planned: dict[QuotaEntity, dict[str, float]] = {}
    if authorize_cluster(ctx, AclOperation.ALTER_CONFIGS):
        results = [await _plan(ctx, entry, current, planned) for entry in request.entries]  # type: ignore[attr-defined]
    else:
        denied = ErrorCode.cluster_authorization_failed
        results = [(denied, MESSAGES[denied]) for _ in request.entries]  # type: ignore[attr-defined]
    if planned and not request.validate_only:  # type: ignore[attr-defined]
        quotas.alter(planned.items())
        for quota_entity, values in planned.items():
            log.info(
                "%s set the quotas of %s to %s", ctx.principal, quota_entity.describe(), values
            )
    return build(
        response.AlterClientQuotasResponse,
        throttle_time=datetime.timedelta(0),
        entries=tuple(
            build(
                response.EntryData,
                error_code=error,
                error_message=message,
                entity=tuple(
                    build(response.EntityData, entity_type=e.entity_type, entity_name=e.entity_name)
                    for e in entry.entity
                ),
            )
            for entry, (error, message) in zip(request.entries, results, strict=True)  # type: ignore[attr-defined]
        ),
    )
