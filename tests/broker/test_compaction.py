"""Compacted topics with real clients: the broker's background log cleaner at work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_consume_all
from tests.support.net import wait_until


@pytest.fixture
def cleaning_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    proc = BrokerProcess(tmp_path / "broker", overrides={"log.cleaner.backoff.ms": "200"})
    proc.start()
    yield proc
    proc.stop()


def test_a_compacted_topic_converges_to_the_latest_value_per_key(
    cleaning_broker: BrokerProcess,
) -> None:
    bootstrap = cleaning_broker.bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    configs = {
        "cleanup.policy": "compact",
        "segment.bytes": "4096",
        "min.cleanable.dirty.ratio": "0.01",
    }
    admin.create_topics([NewTopic("profiles", 1, 1, config=configs)])["profiles"].result(timeout=10)

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 20})
    for round_ in range(30):
        for user in range(20):
            value = None if (user == 7 and round_ == 29) else f"user-{user}-v{round_}".encode()
            producer.produce("profiles", key=f"user-{user}".encode(), value=value)
        producer.poll(0)
    assert producer.flush(10) == 0

    def compacted() -> list | None:  # type: ignore[type-arg]
        consumed = confluent_consume_all(bootstrap, "profiles", 1)
        return consumed if len(consumed) < 200 else None

    consumed = wait_until(compacted, timeout=30, what="the log cleaner to compact the topic")
    latest: dict[bytes | None, bytes | None] = {}
    for item in consumed:  # replaying the compacted log still ends at the latest state
        latest[item.record.key] = item.record.value
    assert latest == {
        f"user-{u}".encode(): (None if u == 7 else f"user-{u}-v29".encode()) for u in range(20)
    }
    offsets = [c.offset for c in consumed]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
