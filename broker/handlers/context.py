"""What a handler gets besides the decoded request."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

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
