"""TLS listeners with a CA made in the test: real clients, mutual TLS, per-listener metadata."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests.broker.security.conftest import SecureBroker
from tests.broker.security.roundtrip import (
    Login,
    aiokafka_round_trip,
    confluent_broker_ports,
    confluent_login_error,
    confluent_round_trip,
    kafka_python_round_trip,
)

ROUND_TRIPS: dict[str, Callable[[Login], None]] = {
    "confluent": confluent_round_trip,
    "kafka-python": kafka_python_round_trip,
    "aiokafka": aiokafka_round_trip,
}


def ssl_login(broker: SecureBroker, listener: str = "SSL", *, certificate: bool = False) -> Login:
    alice = broker.pki.alice
    return Login(
        broker.bootstrap(listener),
        "SSL",
        ca=broker.pki.ca.certificate,
        certificate=alice.certificate if certificate else None,
        key=alice.key if certificate else None,
    )


@pytest.mark.parametrize("client", sorted(ROUND_TRIPS))
def test_produce_and_consume_over_tls(secure_broker: SecureBroker, client: str) -> None:
    ROUND_TRIPS[client](ssl_login(secure_broker))


@pytest.mark.parametrize("client", sorted(ROUND_TRIPS))
def test_a_fetch_of_a_large_record_set_arrives_intact_over_tls(
    secure_broker: SecureBroker, client: str
) -> None:
    # Record sets of 32 KiB and more are written to the transport as buffers of their
    # own, waiting for it to drain in between; TLS splits them into many records.
    ROUND_TRIPS[client](ssl_login(secure_broker), value=os.urandom(300_000))


@pytest.mark.parametrize("client", ["confluent", "kafka-python"])
def test_mutual_tls_listener_accepts_a_client_certificate(
    secure_broker: SecureBroker, client: str
) -> None:
    ROUND_TRIPS[client](ssl_login(secure_broker, "MTLS", certificate=True))


def test_mutual_tls_listener_refuses_a_client_without_certificate(
    secure_broker: SecureBroker,
) -> None:
    """``listener.name.mtls.ssl.client.auth=required`` overrides the global ``requested``."""
    error = confluent_login_error(ssl_login(secure_broker, "MTLS"))
    assert error.code() in (error._SSL, error._TRANSPORT, error._ALL_BROKERS_DOWN), error


def test_a_client_that_does_not_trust_the_broker_fails_the_handshake(
    secure_broker: SecureBroker,
) -> None:
    untrusted = Login(secure_broker.bootstrap("SSL"), "SSL", ca=secure_broker.pki.alice.certificate)
    error = confluent_login_error(untrusted)
    assert error.code() in (error._SSL, error._TRANSPORT, error._ALL_BROKERS_DOWN), error


@pytest.mark.parametrize("listener", ["PLAINTEXT", "SSL", "SASL_SSL", "MTLS"])
def test_metadata_advertises_the_listener_the_client_connected_to(
    secure_broker: SecureBroker, listener: str
) -> None:
    login = ssl_login(secure_broker, listener, certificate=listener == "MTLS")
    if listener == "PLAINTEXT":
        login = Login(secure_broker.bootstrap(listener))
    elif listener == "SASL_SSL":
        login = Login(login.bootstrap, "SASL_SSL", "PLAIN", "alice", "alice-secret-1", ca=login.ca)
    assert confluent_broker_ports(login) == {secure_broker.ports[listener]}
