"""``headwater quotas`` against a broker subprocess: alter, describe, Kafka's validation
errors as one line, and quotas that survive a broker restart."""

from __future__ import annotations

from tests.broker.tools.conftest import Headwater
from tests.support.broker import BrokerProcess


def test_quotas_alters_describes_and_survives_a_restart(broker: BrokerProcess) -> None:
    headwater = Headwater(broker.bootstrap, broker)
    done = headwater.ok(
        "quotas", "--alter", "--user", "alice", "--client-defaults",
        "--add-config", "producer_byte_rate=1048576,consumer_byte_rate=2097152",
    )  # fmt: skip
    assert (
        done.strip()
        == "Completed updating config for user-principal 'alice', the default client-id."
    )
    headwater.ok("quotas", "--alter", "--client-id", "etl", "--add-config", "request_percentage=50")
    error = headwater.fails(
        "quotas", "--alter", "--user", "bob", "--add-config", "producer_byte_rate=-5"
    )
    assert "InvalidRequest: Quota producer_byte_rate must be greater than 0" in error
    error = headwater.fails("quotas", "--alter", "--user", "bob", "--add-config", "bogus=1")
    assert "Invalid configuration key bogus" in error
    assert "needs --add-config" in headwater.fails("quotas", "--alter", "--user", "bob")

    broker.restart()

    assert headwater.ok(
        "quotas", "--describe", "--user", "alice", "--client-defaults"
    ).splitlines() == [
        "Quota configs for user-principal 'alice', the default client-id are "
        "consumer_byte_rate=2097152.0,producer_byte_rate=1048576.0"
    ]
    headwater.ok(
        "quotas", "--alter", "--user", "alice", "--client-defaults",
        "--delete-config", "consumer_byte_rate",
    )  # fmt: skip
    assert sorted(headwater.ok("quotas", "--describe").splitlines()) == [
        "Quota configs for client-id 'etl' are request_percentage=50.0",
        "Quota configs for user-principal 'alice', the default client-id are "
        "producer_byte_rate=1048576.0",
    ]
    assert headwater.ok("quotas", "--describe", "--user", "bob") == ""


def test_quotas_sets_and_describes_ip_connection_creation_rates(broker: BrokerProcess) -> None:
    headwater = Headwater(broker.bootstrap, broker)
    done = headwater.ok(
        "quotas", "--alter", "--ip", "127.0.0.9", "--add-config", "connection_creation_rate=10"
    )
    assert done.strip() == "Completed updating config for ip '127.0.0.9'."
    headwater.ok(
        "quotas", "--alter", "--ip-defaults", "--add-config", "connection_creation_rate=50"
    )
    error = headwater.fails(
        "quotas", "--alter", "--ip", "127.0.0.9", "--add-config", "producer_byte_rate=10"
    )
    assert "Invalid configuration key producer_byte_rate" in error
    error = headwater.fails(
        "quotas", "--alter", "--ip", "no such host!", "--add-config", "connection_creation_rate=1"
    )
    assert "is not a valid IP or resolvable host" in error
    error = headwater.fails(
        "quotas", "--alter", "--ip", "127.0.0.9", "--user", "bob",
        "--add-config", "connection_creation_rate=1",
    )  # fmt: skip
    assert "cannot be combined" in error
    assert headwater.ok("quotas", "--describe", "--ip", "127.0.0.9").splitlines() == [
        "Quota configs for ip '127.0.0.9' are connection_creation_rate=10.0"
    ]
    assert headwater.ok("quotas", "--describe", "--ip-defaults").splitlines() == [
        "Quota configs for the default ip are connection_creation_rate=50.0"
    ]
