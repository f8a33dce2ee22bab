"""The principal and listener handlers see, checked inside an in-process broker.

No Kafka API tells a client who the broker thinks it is, so these tests run the server
in the test's event loop with a registry whose ApiVersions handler records its
request context, and drive it with a blocking client on a worker thread.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.sasl_authenticate.v2.request import SaslAuthenticateRequest
from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest

from broker.cluster.metadata import ScramCredentialRecord
from broker.config import config_from_properties
from broker.handlers import REGISTRY
from broker.handlers.context import RequestContext
from broker.handlers.registry import ApiHandler, HandlerRegistry
from broker.security.scram import SCRAM_SHA_256, new_credential
from broker.server.app import BrokerServer
from broker.server.state import BrokerState
from tests.broker.security.conftest import Pki
from tests.support.net import free_port
from tests.support.wire import KafkaWire

API_VERSIONS = ApiVersionsRequest(client_software_name="wire", client_software_version="1")


def recording_registry(seen: list[tuple[str | None, str]]) -> HandlerRegistry:
    def wrap(handler: ApiHandler) -> ApiHandler:
        async def handle(ctx: RequestContext, request: Any) -> Any:
            seen.append((ctx.listener_name, ctx.principal))
            return await handler.handle(ctx, request)

        return ApiHandler(handler.api_key, handler.min_version, handler.max_version, handle)

    return HandlerRegistry(wrap(h) if h.api_key == 18 else h for h in REGISTRY)


def run_broker(
    tmp_path: Path, pki: Pki, client: Callable[[dict[str, int]], None]
) -> list[tuple[str | None, str]]:
    """Serve the listeners, run ``client(ports)`` on a thread, return what handlers saw."""
    ports = {"SSL": free_port(), "SASL_PLAINTEXT": free_port(), "SASL_SSL": free_port()}
    config = config_from_properties(
        {
            "listeners": ",".join(f"{n}://127.0.0.1:{p}" for n, p in ports.items()),
            "log.dirs": str(tmp_path / "logs"),
            "ssl.keystore.certificate.chain": pki.server.certificate_pem,
            "ssl.keystore.key": pki.server.key_pem,
            "ssl.truststore.certificates": pki.ca.certificate.read_text(),
            "ssl.client.auth": "required",
            "listener.name.sasl_ssl.ssl.client.auth": "required",
            "sasl.enabled.mechanisms": "PLAIN",
        }
    )
    seen: list[tuple[str | None, str]] = []

    async def main() -> None:
        state = BrokerState(config)
        credential = new_credential(SCRAM_SHA_256, "bob-pw", iterations=4096)
        state.metadata.alter_scram_credentials(
            [],
            [
                (
                    "bob",
                    SCRAM_SHA_256.name,
                    ScramCredentialRecord(
                        credential.salt,
                        credential.stored_key,
                        credential.server_key,
                        credential.iterations,
                    ),
                )
            ],
        )
        server = BrokerServer(state, recording_registry(seen))
        await server.start()
        try:
            await asyncio.to_thread(client, ports)
        finally:
            await server.stop()

    asyncio.run(main())
    return seen


def connect(pki: Pki, port: int, *, tls: bool) -> KafkaWire:
    wire = KafkaWire("127.0.0.1", port, timeout=10)
    if tls:
        context = ssl.create_default_context(cafile=pki.ca.certificate)
        context.load_cert_chain(pki.alice.certificate, pki.alice.key)
        wire.sock = context.wrap_socket(wire.sock, server_hostname="localhost")
    return wire


def login(wire: KafkaWire, user: str, password: str) -> None:
    assert wire.request(SaslHandshakeRequest(mechanism="PLAIN")).error_code == 0
    answer = wire.request(SaslAuthenticateRequest(auth_bytes=f"\0{user}\0{password}".encode()))
    assert answer.error_code == 0, answer


def test_ssl_client_certificate_subject_is_the_principal(tmp_path: Path, pki: Pki) -> None:
    def client(ports: dict[str, int]) -> None:
        with connect(pki, ports["SSL"], tls=True) as wire:
            wire.request(API_VERSIONS)

    assert run_broker(tmp_path, pki, client) == [("SSL", "User:CN=alice,O=acme")]


def test_sasl_principal_replaces_anonymous_and_wins_over_a_certificate(
    tmp_path: Path, pki: Pki
) -> None:
    def client(ports: dict[str, int]) -> None:
        with connect(pki, ports["SASL_PLAINTEXT"], tls=False) as wire:
            wire.request(API_VERSIONS)
            login(wire, "bob", "bob-pw")  # PLAIN against bob's SCRAM-SHA-256 credential
            wire.request(API_VERSIONS)
        with connect(pki, ports["SASL_SSL"], tls=True) as wire:
            login(wire, "bob", "bob-pw")
            wire.request(API_VERSIONS)

    assert run_broker(tmp_path, pki, client) == [
        ("SASL_PLAINTEXT", "User:ANONYMOUS"),
        ("SASL_PLAINTEXT", "User:bob"),
        ("SASL_SSL", "User:bob"),
    ]
