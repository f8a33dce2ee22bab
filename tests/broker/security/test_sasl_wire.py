"""SASL at the wire level: what is allowed before a login, v0 raw tokens, error codes."""

from __future__ import annotations

import struct

from kafka.net.sasl.scram import ScramClient
from kio.schema.api_versions.v3.request import ApiVersionsRequest
from kio.schema.metadata.v12.request import MetadataRequest
from kio.schema.sasl_authenticate.v0.request import SaslAuthenticateRequest as AuthenticateV0
from kio.schema.sasl_authenticate.v2.request import SaslAuthenticateRequest as AuthenticateV2
from kio.schema.sasl_handshake.v0.request import SaslHandshakeRequest as HandshakeV0
from kio.schema.sasl_handshake.v1.request import SaslHandshakeRequest as HandshakeV1

from broker.errors import ErrorCode
from broker.protocol.framing import frame
from tests.broker.security.conftest import USERS, SecureBroker
from tests.support.net import wait_until
from tests.support.wire import KafkaWire, encode_request

API_VERSIONS = ApiVersionsRequest(client_software_name="wire", client_software_version="1")
METADATA = MetadataRequest(
    topics=(),
    allow_auto_topic_creation=False,
    include_topic_authorized_operations=False,
)


def plain(user: str, password: str) -> bytes:
    return f"\0{user}\0{password}".encode()


def wire(broker: SecureBroker, listener: str = "SASL_PLAINTEXT") -> KafkaWire:
    return KafkaWire("127.0.0.1", broker.ports[listener], timeout=10)


def test_only_api_versions_and_handshake_are_served_before_a_login(
    secure_broker: SecureBroker,
) -> None:
    with wire(secure_broker) as connection:
        assert connection.request(API_VERSIONS).error_code == ErrorCode.none
        connection.send_raw(encode_request(METADATA, correlation_id=7))
        assert connection.is_closed_by_peer()
    wait_until(
        lambda: (
            "Unexpected Kafka request of type METADATA during SASL handshake"
            in secure_broker.process.log()
        ),
        timeout=5,
        what="the broker's log line",
    )


def test_handshake_v1_then_authenticate_v0_and_v2_then_every_api(
    secure_broker: SecureBroker,
) -> None:
    for authenticate in (AuthenticateV0, AuthenticateV2):
        with wire(secure_broker) as connection:
            handshake = connection.request(HandshakeV1(mechanism="PLAIN"))
            assert handshake.error_code == ErrorCode.none
            assert handshake.mechanisms == ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
            answer = connection.request(authenticate(auth_bytes=plain("alice", USERS["alice"])))
            assert (answer.error_code, answer.auth_bytes) == (ErrorCode.none, b"")
            brokers = connection.request(METADATA).brokers
            assert [b.port for b in brokers] == [secure_broker.ports["SASL_PLAINTEXT"]]
            again = connection.request(HandshakeV1(mechanism="PLAIN"))
            assert again.error_code == ErrorCode.illegal_sasl_state


def test_scram_over_authenticate_requests_proves_the_server_too(
    secure_broker: SecureBroker,
) -> None:
    client = ScramClient("bob", USERS["bob"], "SCRAM-SHA-512")
    with wire(secure_broker) as connection:
        connection.request(HandshakeV1(mechanism="SCRAM-SHA-512"))
        first = connection.request(AuthenticateV2(auth_bytes=client.first_message()))
        assert first.error_code == ErrorCode.none
        client.process_server_first_message(first.auth_bytes)
        final = connection.request(AuthenticateV2(auth_bytes=client.final_message()))
        assert final.error_code == ErrorCode.none
        client.process_server_final_message(final.auth_bytes)  # raises on a bad signature
        assert connection.request(METADATA).cluster_id


def test_handshake_v0_is_followed_by_raw_tokens(secure_broker: SecureBroker) -> None:
    """Pre-KIP-152 clients: after SaslHandshake v0, bare size-prefixed SASL tokens."""
    with wire(secure_broker) as connection:
        assert connection.request(HandshakeV0(mechanism="PLAIN")).error_code == ErrorCode.none
        connection.send_raw(frame(plain("alice", USERS["alice"])))
        assert connection.read_frame() == b""
        assert connection.request(METADATA).cluster_id
    client = ScramClient("alice", USERS["alice"], "SCRAM-SHA-256")
    with wire(secure_broker) as connection:
        connection.request(HandshakeV0(mechanism="SCRAM-SHA-256"))
        connection.send_raw(frame(client.first_message()))
        client.process_server_first_message(connection.read_frame())
        connection.send_raw(frame(client.final_message()))
        client.process_server_final_message(connection.read_frame())
        assert connection.request(METADATA).cluster_id


def test_a_failed_raw_token_login_closes_the_connection(secure_broker: SecureBroker) -> None:
    with wire(secure_broker) as connection:
        connection.request(HandshakeV0(mechanism="PLAIN"))
        connection.send_raw(frame(plain("alice", "wrong")))
        assert connection.is_closed_by_peer()


def test_failed_login_answers_sasl_authentication_failed_then_closes(
    secure_broker: SecureBroker,
) -> None:
    with wire(secure_broker) as connection:
        connection.request(HandshakeV1(mechanism="PLAIN"))
        answer = connection.request(AuthenticateV2(auth_bytes=plain("alice", "nope")))
        assert answer.error_code == ErrorCode.sasl_authentication_failed
        assert answer.error_message == "Authentication failed: Invalid username or password"
        assert connection.is_closed_by_peer()


def test_unknown_mechanism_lists_the_enabled_ones_then_closes(
    secure_broker: SecureBroker,
) -> None:
    with wire(secure_broker) as connection:
        answer = connection.request(HandshakeV1(mechanism="GSSAPI"))
        assert answer.error_code == ErrorCode.unsupported_sasl_mechanism
        assert answer.mechanisms == ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
        assert connection.is_closed_by_peer()


def test_sasl_requests_on_a_plaintext_listener_are_illegal_sasl_state(
    secure_broker: SecureBroker,
) -> None:
    with wire(secure_broker, "PLAINTEXT") as connection:
        handshake = connection.request(HandshakeV1(mechanism="PLAIN"))
        assert handshake.error_code == ErrorCode.illegal_sasl_state
        answer = connection.request(AuthenticateV2(auth_bytes=plain("alice", "x")))
        assert answer.error_code == ErrorCode.illegal_sasl_state
        assert connection.request(METADATA).cluster_id  # nothing else changed


def test_large_frames_are_refused_until_the_client_has_logged_in(
    secure_broker: SecureBroker,
) -> None:
    """Kafka's sasl.server.max.receive.size (512 KiB): no big buffers for strangers."""
    with wire(secure_broker) as connection:
        connection.send_raw(struct.pack(">i", 600_000) + b"\0" * 16)
        assert connection.is_closed_by_peer()
