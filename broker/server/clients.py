"""Who is connected: one :class:`ClientConnection` per open Kafka connection.

Kept by :class:`~broker.server.app.BrokerServer` (``server.clients``) while the HTTP
endpoint is on, read by ``/v1/clients`` and the ``headwater_connections`` gauge. The
client software name and version are those of the connection's ApiVersions v3+
request (KIP-511); the client id is that of its latest request. Rates are averages
over the connection's life. Touched only on the event loop.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

from broker.security.sasl import ConnectionSecurity


@dataclass(slots=True)
class ClientConnection:
    connection_id: int
    listener_name: str
    address: str
    port: int | None
    security: ConnectionSecurity
    connected_at: float = field(default_factory=time.time)
    client_id: str | None = None
    client_software_name: str | None = None
    client_software_version: str | None = None
    requests: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    read_at: float = 0.0
    """``perf_counter`` of the latest read: where a request's queue time starts."""

    def describe(self, now: float) -> dict[str, object]:
        lifetime = max(now - self.connected_at, 1e-3)
        return {
            "connection_id": self.connection_id,
            "listener": self.listener_name,
            "address": self.address,
            "port": self.port,
            "principal": self.security.principal,
            "client_id": self.client_id,
            "client_software_name": self.client_software_name,
            "client_software_version": self.client_software_version,
            "requests": self.requests,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "requests_per_second": round(self.requests / lifetime, 3),
            "bytes_per_second": round((self.bytes_in + self.bytes_out) / lifetime, 1),
            "connected_since": datetime.datetime.fromtimestamp(
                self.connected_at, datetime.UTC
            ).isoformat(timespec="seconds"),
        }


def count_by_listener(clients: dict[int, ClientConnection]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for client in clients.values():
        counts[client.listener_name] = counts.get(client.listener_name, 0) + 1
    return counts
