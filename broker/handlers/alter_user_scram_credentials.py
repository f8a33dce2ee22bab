"""AlterUserScramCredentials (key 51): create, change and delete SCRAM credentials (KIP-554).

Upsertions carry a salt, an iteration count and the salted password the client
computed; the broker keeps only the stored key and server key derived from it, in the
metadata store, in one atomic write for the whole request. Validation and messages are
Kafka's (``broker.security.credentials``). With an authorizer it needs ALTER on the
cluster (a super user, typically): otherwise every user named gets
CLUSTER_AUTHORIZATION_FAILED and nothing changes. Without one, any client that reaches
a listener may call it; the first user of a broker whose listeners all need SASL is
made offline with ``headwater users --config`` (docs/security.md, "Users").
"""

from __future__ import annotations

import datetime
import logging

from broker.cluster.metadata import ScramCredentialRecord
from broker.common.acls import AclOperation
from broker.errors import ErrorCode
from broker.handlers.authorization import MESSAGES, authorize_cluster
from broker.handlers.context import RequestContext
from broker.handlers.registry import api
from broker.protocol.messages import build
from broker.security.credentials import Deletion, Upsertion, UserResult, plan_alterations

log = logging.getLogger(__name__)


def _refused(request: object) -> list[UserResult]:
    """Kafka's error response: one result per user named, in order, each refused."""
    names = [d.name for d in request.deletions] + [u.name for u in request.upsertions]  # type: ignore[attr-defined]
    error = ErrorCode.cluster_authorization_failed
    return [UserResult(user, error, MESSAGES[error]) for user in dict.fromkeys(names)]


def _alter(ctx: RequestContext, request: object) -> list[UserResult]:
    store = ctx.broker.metadata
    plan = plan_alterations(
        (Deletion(d.name, d.mechanism) for d in request.deletions),  # type: ignore[attr-defined]
        (
            Upsertion(u.name, u.mechanism, u.iterations, u.salt, u.salted_password)
            for u in request.upsertions  # type: ignore[attr-defined]
        ),
        lambda user, mechanism: mechanism in store.scram_credentials(user),
    )
    if plan.deletions or plan.upsertions:
        store.alter_scram_credentials(
            plan.deletions,
            [
                (
                    user,
                    mechanism,
                    ScramCredentialRecord(c.salt, c.stored_key, c.server_key, c.iterations),
                )
                for user, mechanism, c in plan.upsertions
            ],
        )
        for user, mechanism in plan.deletions:
            log.info("%s deleted the %s credential of user %r", ctx.principal, mechanism, user)
        for user, mechanism, _credential in plan.upsertions:
            log.info("%s set the %s credential of user %r", ctx.principal, mechanism, user)
    return plan.results


@api(key=51, min_version=0, max_version=0)
async def handle(ctx: RequestContext, request: object) -> object:
    if authorize_cluster(ctx, AclOperation.ALTER):
        results = _alter(ctx, request)
    else:
        results = _refused(request)
    response = ctx.response
    return build(
        response.AlterUserScramCredentialsResponse,
        throttle_time=datetime.timedelta(0),
        results=tuple(
            build(
                response.AlterUserScramCredentialsResult,
                user=r.user,
                error_code=r.error_code,
                error_message=r.error_message,
            )
            for r in results
        ),
    )
