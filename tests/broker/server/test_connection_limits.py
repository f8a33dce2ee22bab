"""Kafka's connection limits against a broker subprocess (issue 9).

A password-guessing flood from one address slowed everyone else's produce and logins:
every attempt was a new connection, and nothing bounded how many one address could open
or how fast. Now ``max.connections.per.ip`` (and its overrides), ``max.connections``,
``max.connection.creation.rate`` and the ``ip`` quota entity's
``connection_creation_rate`` (KIP-612) are enforced before a connection is served.

Clients bind their source address: 127.0.0.2 and 127.0.0.3 are other hosts to a broker
listening on 127.0.0.1 (all of 127.0.0.0/8 is loopback). A connection counts as served
when it answers ApiVersions; as refused when the broker closes it without answering.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

from tests.support.broker import BrokerProcess

API_VERSIONS_V0 = struct.pack(">hhih", 18, 0, 1, 1) + b"t"


def connect(broker: BrokerProcess, source: str) -> socket.socket:
    host, port = broker.bootstrap.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10, source_address=(source, 0))


def served(sock: socket.socket, timeout: float = 10.0) -> bool:
    """True if ``sock`` answers ApiVersions within ``timeout``; False if the broker closed
    it; raises TimeoutError if it neither answers nor closes."""
    sock.settimeout(timeout)
    try:
        sock.sendall(struct.pack(">i", len(API_VERSIONS_V0)) + API_VERSIONS_V0)
        head = sock.recv(4)
    except (ConnectionResetError, BrokenPipeError):
        return False
    return len(head) == 4


def open_served(broker: BrokerProcess, source: str) -> socket.socket:
    sock = connect(broker, source)
    assert served(sock), f"a connection from {source} was not served"
    return sock


def poll(condition, deadline_s: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def limited_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BrokerProcess]:
    proc = BrokerProcess(tmp_path / "broker", overrides=request.param)
    proc.start()
    yield proc
    proc.stop()


@pytest.mark.parametrize("limited_broker", [{"max.connections.per.ip": "3"}], indirect=True)
def test_max_connections_per_ip_closes_the_extra_connection_and_spares_other_addresses(
    limited_broker: BrokerProcess,
) -> None:
    held = [open_served(limited_broker, "127.0.0.2") for _ in range(3)]
    extra = connect(limited_broker, "127.0.0.2")
    assert not served(extra)
    others = [open_served(limited_broker, "127.0.0.3") for _ in range(3)]
    held.pop().close()  # one slot free again, once the broker sees the close

    def reconnects() -> bool:
        with connect(limited_broker, "127.0.0.2") as sock:
            return served(sock)

    assert poll(reconnects)
    assert "max.connections.per.ip" in limited_broker.log() or "127.0.0.2" in limited_broker.log()
    for sock in held + others:
        sock.close()


@pytest.mark.parametrize(
    "limited_broker",
    [{"max.connections.per.ip": "1", "max.connections.per.ip.overrides": "127.0.0.3:4"}],
    indirect=True,
)
def test_per_ip_overrides_give_one_address_its_own_limit(limited_broker: BrokerProcess) -> None:
    overridden = [open_served(limited_broker, "127.0.0.3") for _ in range(4)]
    assert not served(connect(limited_broker, "127.0.0.3"))
    default = open_served(limited_broker, "127.0.0.2")
    assert not served(connect(limited_broker, "127.0.0.2"))
    for sock in [*overridden, default]:
        sock.close()


@pytest.mark.parametrize("limited_broker", [{"max.connections": "2"}], indirect=True)
def test_max_connections_makes_a_new_connection_wait_for_a_free_slot(
    limited_broker: BrokerProcess,
) -> None:
    first = open_served(limited_broker, "127.0.0.2")
    second = open_served(limited_broker, "127.0.0.3")
    waiting = connect(limited_broker, "127.0.0.4")  # the kernel accepts; the broker waits
    with pytest.raises(TimeoutError):
        served(waiting, timeout=1.0)
    first.close()
    waiting.settimeout(10)
    assert len(waiting.recv(4)) == 4  # the ApiVersions sent above is answered now
    second.close()
    waiting.close()


def test_connection_limits_change_at_runtime_with_alter_configs(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    resource = ConfigResource(
        ConfigResource.Type.BROKER,
        "1",
        incremental_configs=[
            ConfigEntry(
                "max.connections.per.ip",
                "2",
                incremental_operation=AlterConfigOpType.SET,
            )
        ],
    )
    admin.incremental_alter_configs([resource])[resource].result(timeout=30)
    held = [open_served(broker, "127.0.0.2") for _ in range(2)]
    assert not served(connect(broker, "127.0.0.2"))
    for sock in held:
        sock.close()


@pytest.mark.parametrize(
    "limited_broker",
    [{"quota.window.num": "2", "quota.window.size.seconds": "1"}],
    indirect=True,
)
def test_an_ip_connection_creation_rate_throttles_that_address_only(
    limited_broker: BrokerProcess,
) -> None:
    from tests.broker.tools.conftest import Headwater

    headwater = Headwater(limited_broker.bootstrap, limited_broker)
    headwater.ok(
        "quotas", "--alter", "--ip", "127.0.0.2", "--add-config", "connection_creation_rate=2"
    )
    outcomes = []
    started = time.monotonic()
    for _ in range(12):  # far more than 2 a second; a 2 s window banks a burst of 4
        with connect(limited_broker, "127.0.0.2") as sock:
            try:
                outcomes.append(served(sock, timeout=5))
            except TimeoutError:
                outcomes.append(False)
    elapsed = time.monotonic() - started
    # Served: the burst, then what the rate refilled meanwhile (a throttled connection
    # is held open for its throttle time before it is closed, so time passes).
    assert outcomes[:4] == [True] * 4
    assert False in outcomes
    assert outcomes.count(True) <= 4 + 2 * elapsed + 1, (outcomes, elapsed)
    for _ in range(12):  # another address is not throttled
        with connect(limited_broker, "127.0.0.3") as sock:
            assert served(sock)
