"""The broker's authorizer: Kafka's StandardAuthorizer over the metadata store's ACLs.

Enabled by ``authorizer.class.name`` (Kafka's StandardAuthorizer or AclAuthorizer
name); without it the broker has no authorizer at all, as Kafka: every request is
allowed and the ACL APIs answer SECURITY_DISABLED. ``super.users`` and
``allow.everyone.if.no.acl.found`` are read once at start-up.

The ACLs live in the metadata store (persisted in its snapshot); this object keeps the
decision model (:class:`~broker.common.acls.Authorizer`, an immutable value) and
rebuilds it after every change, so a decision never sees half of a change and a
handler holding the old model finishes with a consistent answer.

Denials are logged at INFO on ``broker.authorizer`` with Kafka's wording, except for
the checks that only filter what a listing shows (``log_denied=False``), as Kafka's
``logIfDenied``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from broker.cluster.config_catalog import super_users
from broker.cluster.metadata import MetadataStore
from broker.common.acls import (
    SUPPORTED_OPERATIONS,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    Authorizer,
    ResourceType,
    matching,
)

log = logging.getLogger("broker.authorizer")

_RESOURCE_NAMES = {
    ResourceType.TOPIC: "Topic",
    ResourceType.GROUP: "Group",
    ResourceType.CLUSTER: "Cluster",
    ResourceType.TRANSACTIONAL_ID: "TransactionalId",
    ResourceType.DELEGATION_TOKEN: "DelegationToken",
    ResourceType.USER: "User",
}


class StandardAuthorizer:
    """Decisions, and the ACLs they come from. Event-loop owned, not thread-safe."""

    def __init__(
        self,
        store: MetadataStore,
        *,
        super_users: frozenset[str] = frozenset(),
        allow_everyone_if_no_acl_found: bool = False,
    ) -> None:
        self._store = store
        self._super_users = super_users
        self._allow_everyone = allow_everyone_if_no_acl_found
        self._model = self._build()

    def _build(self) -> Authorizer:
        return Authorizer(self._store.acls(), self._super_users, self._allow_everyone)

    # -- decisions ---------------------------------------------------------------------
    def authorize(
        self,
        principal: str,
        host: str,
        operation: AclOperation,
        resource_type: ResourceType,
        name: str,
        *,
        log_denied: bool = True,
    ) -> bool:
        allowed = self._model.authorize(principal, host, operation, resource_type, name)
        if not allowed and log_denied:
            log.info(
                "Principal = %s is Denied operation = %s from host = %s on resource = %s:%s",
                principal,
                operation.name,
                host,
                _RESOURCE_NAMES.get(resource_type, resource_type.name),
                name,
            )
        return allowed

    def authorize_any(
        self, principal: str, host: str, operation: AclOperation, resource_type: ResourceType
    ) -> bool:
        """``operation`` on at least one resource of the type (KIP-679)."""
        return self._model.authorize_any(principal, host, operation, resource_type)

    def authorized_operations(
        self, principal: str, host: str, resource_type: ResourceType, name: str
    ) -> int:
        """Kafka's bitfield: bit N set when AclOperation N is allowed on the resource."""
        bits = 0
        for operation in SUPPORTED_OPERATIONS[resource_type]:
            if self._model.authorize(principal, host, operation, resource_type, name):
                bits |= 1 << operation
        return bits

    # -- the ACLs ----------------------------------------------------------------------
    def acls(self, acl_filter: AclBindingFilter) -> list[AclBinding]:
        return matching(self._store.acls(), acl_filter)

    def create_acls(self, bindings: Iterable[AclBinding]) -> None:
        """Store validated bindings (all in one snapshot write) and rebuild the model."""
        self._store.create_acls(bindings)
        self._model = self._build()

    def delete_acls(self, filters: Iterable[AclBindingFilter]) -> list[list[AclBinding]]:
        """Delete what each filter matches, in one write; per filter, what it matched."""
        current = self._store.acls()
        matched = [matching(current, acl_filter) for acl_filter in filters]
        doomed = {binding for bindings in matched for binding in bindings}
        if doomed:
            self._store.delete_acls(doomed)
            self._model = self._build()
        return matched


def build_authorizer(
    setting: Callable[[str], object], store: MetadataStore
) -> StandardAuthorizer | None:
    """The authorizer ``authorizer.class.name`` asks for (None: no authorization).

    ``setting`` gives a broker config's parsed value; the catalog's validators have
    already refused an unknown authorizer class and malformed super users at start-up.
    """
    if not setting("authorizer.class.name"):
        return None
    return StandardAuthorizer(
        store,
        super_users=super_users(setting("super.users")),  # type: ignore[arg-type]
        allow_everyone_if_no_acl_found=bool(setting("allow.everyone.if.no.acl.found")),
    )
