"""Retention as an operator configures it: topic configs, the broker's background check."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess
from tests.support.net import wait_until


@pytest.fixture
def fast_retention_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    proc = BrokerProcess(tmp_path / "broker", overrides={"log.retention.check.interval.ms": "200"})
    proc.start()
    yield proc
    proc.stop()


def create(bootstrap: str, topic: str, **configs: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
    (future,) = admin.create_topics([NewTopic(topic, 1, 1, config=configs)]).values()
    future.result(timeout=10)


def produce(bootstrap: str, topic: str, count: int, timestamp_ms: int) -> None:
    # One record per batch: segments roll between batches, so small batches make many.
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for i in range(count):
        producer.produce(topic, value=b"x" * 100, key=str(i).encode(), timestamp=timestamp_ms)
        producer.poll(0)
    assert producer.flush(10) == 0


def watermarks(bootstrap: str, topic: str) -> tuple[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    finally:
        consumer.close()


def test_expired_records_are_deleted_by_the_background_retention_check(
    fast_retention_broker: BrokerProcess,
) -> None:
    bootstrap = fast_retention_broker.bootstrap
    create(bootstrap, "short-lived", **{"retention.ms": "60000", "segment.bytes": "2000"})
    an_hour_ago = int(time.time() * 1000) - 3_600_000
    produce(bootstrap, "short-lived", 100, an_hour_ago)
    assert watermarks(bootstrap, "short-lived")[1] == 100

    wait_until(
        lambda: watermarks(bootstrap, "short-lived") == (100, 100),
        timeout=20,
        what="retention to delete expired records",
    )
    produce(bootstrap, "short-lived", 1, int(time.time() * 1000))
    assert watermarks(bootstrap, "short-lived") == (100, 101)


def test_retention_bytes_caps_the_partition_size(fast_retention_broker: BrokerProcess) -> None:
    bootstrap = fast_retention_broker.bootstrap
    create(
        bootstrap,
        "capped",
        **{"retention.bytes": "5000", "segment.bytes": "1000", "retention.ms": "-1"},
    )
    produce(bootstrap, "capped", 200, int(time.time() * 1000))
    low, high = wait_until(
        lambda: (w := watermarks(bootstrap, "capped"))[0] > 0 and w,
        timeout=20,
        what="size retention",
    )
    assert high == 200
    assert high - low < 200
    partition_dir = fast_retention_broker.log_dir / "capped-0"
    wait_until(
        lambda: sum(p.stat().st_size for p in partition_dir.glob("*.log")) <= 5000 + 1000,
        timeout=20,
        what="segments deleted down to retention.bytes",
    )
