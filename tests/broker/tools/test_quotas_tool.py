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
