"""What a handler gets besides the decoded request."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from broker.common.acls import SUPPORTED_OPERATIONS, AclOperation, ResourceType
from broker.protocol import messages
from broker.protocol.connection import RequestHeader
from broker.security.sasl import ANONYMOUS, ConnectionSecurity
from broker.server.quota_manager import RequestQuota

if TYPE_CHECKING:
    from broker.handlers.registry import HandlerRegistry
    from broker.server.state import BrokerState


@dataclass(frozen=True, slots=True)
class RequestContext:
    header: RequestHeader
    broker: BrokerState
    registry: HandlerRegistry
    client_host: str
    listener_name: str | None = None
    """The listener the client connected to (Metadata answers with its endpoints)."""
    principal: str = ANONYMOUS
    """Who the client authenticated as (``User:alice``, ``User:CN=...``), for authorizers."""
    security: ConnectionSecurity | None = None
    """The connection's authentication state (SaslHandshake / SaslAuthenticate)."""
    quota: RequestQuota = field(default_factory=lambda: RequestQuota("ANONYMOUS", ""))
    """Who the client is for quotas, and the throttle time its request earned (KIP-219)."""

    @property
    def version(self) -> int:
        return self.header.api_version

    @property
    def response(self) -> ModuleType:
        """The kio module with this request's response classes at its version."""
        return messages.response_module(self.header.api_key, self.header.api_version)

    def authorize(
        self,
        operation: AclOperation,
        resource_type: ResourceType,
        name: str,
        *,
        log_denied: bool = True,
    ) -> bool:
        """May this client do ``operation`` on the resource? Always, with no authorizer.
        ``log_denied=False`` for checks that only filter a listing (Kafka's logIfDenied)."""
        authorizer = self.broker.authorizer
        return authorizer is None or authorizer.authorize(
            self.principal, self.client_host, operation, resource_type, name, log_denied=log_denied
        )

    def authorize_any(self, operation: AclOperation, resource_type: ResourceType) -> bool:
        """``operation`` on at least one resource of the type (KIP-679)."""
        authorizer = self.broker.authorizer
        return authorizer is None or authorizer.authorize_any(
            self.principal, self.client_host, operation, resource_type
        )

    def authorized_operations(self, resource_type: ResourceType, name: str) -> int:
        """The ``*_authorized_operations`` bitfield (bit N: AclOperation N); with no
        authorizer, every operation the resource type supports, as Kafka answers."""
        authorizer = self.broker.authorizer
        if authorizer is None:
            return sum(1 << op for op in SUPPORTED_OPERATIONS[resource_type])
        return authorizer.authorized_operations(
            self.principal, self.client_host, resource_type, name
        )
