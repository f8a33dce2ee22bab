"""A broker with every kind of listener, a test CA, and SCRAM users made over PLAINTEXT."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from confluent_kafka.admin import (
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from tests.support.broker import BrokerProcess
from tests.support.net import free_port, port_open, wait_until
from tests.support.pki import CertificateAuthority, IssuedCertificate

USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
"""alice has both SCRAM mechanisms; bob only SCRAM-SHA-512."""
MECHANISMS = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"


@dataclass(frozen=True)
class Pki:
    ca: CertificateAuthority
    server: IssuedCertificate
    alice: IssuedCertificate
    """A client certificate for ``CN=alice,O=acme``."""


@dataclass
class SecureBroker:
    process: BrokerProcess
    ports: dict[str, int]
    pki: Pki

    def bootstrap(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener]}"


def create_users(bootstrap: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    alterations = [
        ("alice", ScramMechanism.SCRAM_SHA_256, 4096),
        ("alice", ScramMechanism.SCRAM_SHA_512, 8192),
        ("bob", ScramMechanism.SCRAM_SHA_512, 4096),
    ]
    for user, mechanism, iterations in alterations:  # one user per request, as Kafka wants
        upsert = UserScramCredentialUpsertion(
            user, ScramCredentialInfo(mechanism, iterations), USERS[user].encode()
        )
        admin.alter_user_scram_credentials([upsert])[user].result(15)


def secure_overrides(ports: dict[str, int], pki: Pki) -> dict[str, str]:
    return {
        "listeners": ",".join(f"{name}://127.0.0.1:{port}" for name, port in ports.items()),
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:"
        "SASL_PLAINTEXT,SASL_SSL:SASL_SSL,MTLS:SSL",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(pki.server.bundle),
        "ssl.truststore.location": str(pki.ca.certificate),
        "ssl.client.auth": "requested",
        "listener.name.mtls.ssl.client.auth": "required",
        "sasl.enabled.mechanisms": MECHANISMS,
    }


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca = CertificateAuthority(tmp_path_factory.mktemp("pki"))
    return Pki(ca, ca.issue_server(), ca.issue_client("alice", "acme"))


@pytest.fixture(scope="session")
def secure_broker(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[SecureBroker]:
    names = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL", "MTLS")
    ports = {name: free_port() for name in names}
    process = BrokerProcess(
        tmp_path_factory.mktemp("secure-broker"), overrides=secure_overrides(ports, pki)
    )
    process.port = ports["PLAINTEXT"]
    process.start()
    try:
        wait_until(
            lambda: all(port_open("127.0.0.1", p) for p in ports.values()),
            timeout=10,
            what="every listener",
        )
        create_users(f"127.0.0.1:{ports['PLAINTEXT']}")
        yield SecureBroker(process, ports, pki)
    finally:
        process.stop()
