"""More partitions than file descriptors (issue 9).

Every segment used to hold its three files open for ever, so a broker's partitions were
bounded by ``ulimit -n``: past it the broker refused connections and could not start
again. Under ``ulimit -n 256`` a broker now holds 1,000 partitions with data (3,000
segment files), serves produce and fetch on every one, and restarts.
"""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess

PARTITIONS = 1_000
LIMIT = 256


def produce_one_per_partition(bootstrap: str, topic: str, tag: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    failures: list[object] = []
    for partition in range(PARTITIONS):
        producer.produce(
            topic,
            f"{tag}-{partition}".encode(),
            partition=partition,
            on_delivery=lambda err, _msg: err and failures.append(err),
        )
    assert producer.flush(60) == 0
    assert failures == []


def consume_all(bootstrap: str, topic: str, expected: int) -> dict[int, list[bytes]]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    seen: dict[int, list[bytes]] = {}
    count = 0
    try:
        for _ in range(600):
            for message in consumer.consume(num_messages=1000, timeout=0.5):
                assert message.error() is None, message.error()
                seen.setdefault(message.partition(), []).append(message.value())
                count += 1
            if count >= expected:
                break
    finally:
        consumer.close()
    return seen


def test_a_broker_under_ulimit_256_serves_1000_partitions_and_restarts(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "broker", open_files_limit=LIMIT)
    broker.start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("wide", PARTITIONS, 1)])["wide"].result(timeout=120)
        produce_one_per_partition(broker.bootstrap, "wide", "first")
        broker.restart()
        produce_one_per_partition(broker.bootstrap, "wide", "second")
        seen = consume_all(broker.bootstrap, "wide", 2 * PARTITIONS)
        assert sorted(seen) == list(range(PARTITIONS))
        for partition, values in seen.items():
            assert values == [f"first-{partition}".encode(), f"second-{partition}".encode()]
        assert f"open files: limit {LIMIT}" in broker.log()
        assert "Too many open files" not in broker.log()
    finally:
        broker.stop()
