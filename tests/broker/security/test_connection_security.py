"""The per-connection SASL state machine: which requests it accepts, and its transitions."""

from __future__ import annotations

import pytest

from broker.errors import BrokerError, ErrorCode
from broker.security.sasl import AuthenticationFailed, ConnectionSecurity, SaslState
from broker.security.scram import SCRAM_SHA_256, new_credential

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE, METADATA, PRODUCE = 18, 17, 36, 3, 0
STORED = {"alice": {"SCRAM-SHA-256": new_credential(SCRAM_SHA_256, "pw", iterations=4096)}}


def session(protocol: str = "SASL_PLAINTEXT") -> ConnectionSecurity:
    return ConnectionSecurity(
        listener_name="EXTERNAL",
        security_protocol=protocol,
        client_address="10.0.0.7",
        mechanisms=("PLAIN", "SCRAM-SHA-256"),
        credentials_of=lambda user: STORED.get(user, {}),
    )


def test_non_sasl_listeners_start_authenticated_as_anonymous() -> None:
    for protocol in ("PLAINTEXT", "SSL"):
        security = session(protocol)
        assert security.authenticated and security.principal == "User:ANONYMOUS"
        assert security.permits(PRODUCE)
        assert security.handshake("PLAIN", 1) == ErrorCode.illegal_sasl_state
        with pytest.raises(BrokerError) as info:
            security.authenticate(b"\0alice\0pw")
        assert info.value.code == ErrorCode.illegal_sasl_state


def test_before_the_handshake_only_api_versions_and_handshake() -> None:
    security = session()
    assert [k for k in (API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE, METADATA)
            if security.permits(k)] == [API_VERSIONS, SASL_HANDSHAKE]  # fmt: skip
    assert security.rejection("METADATA") == (
        "Unexpected Kafka request of type METADATA during SASL handshake"
    )


def test_handshake_v1_then_only_authenticate_then_everything() -> None:
    security = session()
    assert security.handshake("PLAIN", 1) == ErrorCode.none
    assert security.state is SaslState.AUTHENTICATE
    assert [k for k in (API_VERSIONS, SASL_AUTHENTICATE, METADATA) if security.permits(k)] == [
        SASL_AUTHENTICATE
    ]
    assert security.slow_step
    assert security.authenticate(b"\0alice\0pw") == b""
    assert security.authenticated and security.principal == "User:alice"
    assert security.permits(METADATA)
    assert security.handshake("PLAIN", 1) == ErrorCode.illegal_sasl_state
    with pytest.raises(BrokerError, match="after successful authentication"):
        security.authenticate(b"\0alice\0pw")


def test_handshake_v0_switches_to_raw_tokens() -> None:
    security = session()
    assert security.handshake("SCRAM-SHA-256", 0) == ErrorCode.none
    assert security.expects_raw_tokens
    assert not security.permits(SASL_AUTHENTICATE)


def test_unknown_mechanism_fails_the_connection() -> None:
    security = session()
    assert security.handshake("GSSAPI", 1) == ErrorCode.unsupported_sasl_mechanism
    assert security.failed and security.close_after_response
    assert not security.permits(API_VERSIONS)


def test_failed_login_is_logged_without_the_password(caplog: pytest.LogCaptureFixture) -> None:
    security = session()
    security.handshake("SCRAM-SHA-256", 1)
    security.authenticate(b"n,,n=alice\nFAKE LOG LINE,r=abc")  # unknown: fails later
    with pytest.raises(AuthenticationFailed) as info:
        security.authenticate(b"c=biws,r=abc,p=AAAA")
    assert info.value.code == ErrorCode.sasl_authentication_failed
    assert info.value.message == (
        "Authentication failed during authentication due to invalid credentials with SASL "
        "mechanism SCRAM-SHA-256"
    )
    assert security.failed and security.close_after_response
    assert security.principal == "User:ANONYMOUS"
    security = session()
    security.handshake("PLAIN", 1)
    with pytest.raises(AuthenticationFailed):
        security.authenticate(b"\0alice\0hunter2")
    assert (
        "Failed authentication with 10.0.0.7 (listener EXTERNAL, mechanism PLAIN, "
        "principal attempted 'alice'): invalid password" in caplog.text
    )
    assert "hunter2" not in caplog.text
    assert "\nFAKE LOG LINE" not in caplog.text  # user names are logged with repr()
