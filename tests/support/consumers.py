"""Real Kafka clients for the console's group and message tests (pages and REST API):
a consumer in a group, a group's committed offsets, aged records, one record read back."""

from __future__ import annotations

import time
import uuid
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.support.net import wait_until


def produce_aged(bootstrap: str, topic: str, base_ms: int, per_partition: int = 5) -> None:
    """``per_partition`` records on partitions 0 and 1, offset n written at base_ms + n s."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for partition in (0, 1):
        for offset in range(per_partition):
            producer.produce(
                topic, b"v%d" % offset, partition=partition, timestamp=base_ms + offset * 1000
            )
    assert producer.flush(15) == 0


def committed(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    future = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
    return {
        (tp.topic, tp.partition): tp.offset for tp in future.result(15).topic_partitions
        if tp.offset >= 0
    }  # fmt: skip


class GroupMember:
    """A real consumer in ``group``: subscribes, waits for its assignment, commits."""

    def __init__(self, bootstrap: str, group: str, topic: str, protocol: str = "classic"):
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap, "group.id": group, "group.protocol": protocol,
                "enable.auto.commit": False, "auto.offset.reset": "earliest",
                "client.id": f"test-{protocol}",
            }
        )  # fmt: skip
        self.consumer.subscribe([topic])
        self.topic = topic

        def assigned() -> bool:
            self.consumer.poll(0.2)
            return bool(self.consumer.assignment())

        wait_until(assigned, timeout=60, interval=0, what=f"{group} to get its assignment")

    def commit(self, offsets: dict[int, int]) -> None:
        self.consumer.commit(
            offsets=[TopicPartition(self.topic, p, o) for p, o in offsets.items()],
            asynchronous=False,
        )

    def close(self) -> None:
        self.consumer.close()


def idle_group(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Leave ``group`` with ``offsets`` committed on ``topic`` and no members (state Empty),
    as a consumer that joined, committed and left does."""
    consumer = GroupMember(bootstrap, group, topic)
    consumer.commit(offsets)
    consumer.close()


def read_back(bootstrap: str, topic: str, partition: int, offset: int) -> Any:
    """The record at ``topic``-``partition``@``offset``, read by a real consumer."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})  # fmt: skip
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                return message
        raise AssertionError(f"no record at {topic}-{partition}@{offset}")
    finally:
        consumer.close()


def commit_offsets(bootstrap: str, group: str, offsets: dict[tuple[str, int], int]) -> None:
    """Commit ``offsets`` for ``group`` through the admin API (no member ever joins: the
    group is Empty, as reset and delete need)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    partitions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
    request = ConsumerGroupTopicPartitions(group, partitions)
    admin.alter_consumer_group_offsets([request])[group].result(15)
    wait_until(lambda: committed(bootstrap, group) == offsets, timeout=30,
               what=f"{group}'s offsets to be committed")  # fmt: skip
