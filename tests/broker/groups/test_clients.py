"""Each client library does what applications do with a group: subscribe, consume,
commit, close, and a later consumer of the group resumes after the commit (and after
a broker restart), reading every record exactly once across the two."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer
from confluent_kafka import Consumer
from kafka import KafkaConsumer

from tests.support.broker import BrokerProcess
from tests.support.clients import Record, confluent_create_topic, confluent_produce
from tests.support.net import wait_until

Read = list[tuple[int, int]]
SESSION_MS = 6000


def confluent_session(bootstrap: str, topic: str, group: str, at_least: int) -> Read:
    c = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.commit": False, "session.timeout.ms": SESSION_MS,
    })  # fmt: skip
    c.subscribe([topic])
    got: Read = []

    def enough() -> bool:
        for message in c.consume(100, 0.2):
            assert message.error() is None, message.error()
            got.append((message.partition(), message.offset()))
        return len(got) >= at_least

    wait_until(enough, timeout=30, interval=0, what=f"confluent reading {at_least}")
    c.commit(asynchronous=False)
    c.close()
    return got


def kafka_python_session(bootstrap: str, topic: str, group: str, at_least: int) -> Read:
    c = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, session_timeout_ms=SESSION_MS, heartbeat_interval_ms=500,
    )  # fmt: skip
    # kafka-python may join before its first metadata response names the topic's
    # partitions; its leader then assigns nothing until the next metadata refresh
    # (5 minutes). Knowing the partitions before subscribing avoids that client race.
    wait_until(lambda: c.partitions_for_topic(topic), timeout=15, what="topic metadata")
    c.subscribe([topic])
    got: Read = []

    def enough() -> bool:
        for records in c.poll(timeout_ms=200).values():
            got.extend((r.partition, r.offset) for r in records)
        return len(got) >= at_least

    wait_until(enough, timeout=30, interval=0, what=f"kafka-python reading {at_least}")
    c.commit()
    c.close()
    return got


def aiokafka_session(bootstrap: str, topic: str, group: str, at_least: int) -> Read:
    async def run() -> Read:
        c = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
            enable_auto_commit=False, session_timeout_ms=SESSION_MS, heartbeat_interval_ms=500,
        )  # fmt: skip
        await c.start()
        got: Read = []
        try:
            async with asyncio.timeout(30):
                while len(got) < at_least:
                    batches = await c.getmany(timeout_ms=200)
                    for records in batches.values():
                        got.extend((r.partition, r.offset) for r in records)
            await c.commit()
        finally:
            await c.stop()
        return got

    return asyncio.run(run())


SESSIONS: dict[str, Callable[[str, str, str, int], Read]] = {
    "confluent-kafka": confluent_session,
    "kafka-python": kafka_python_session,
    "aiokafka": aiokafka_session,
}


@pytest.mark.parametrize("client", list(SESSIONS))
def test_client_commits_and_a_later_consumer_resumes_after_a_restart(
    client: str, restartable_broker: BrokerProcess, names: tuple[str, str]
) -> None:
    session = SESSIONS[client]
    topic, group = names
    broker = restartable_broker
    confluent_create_topic(broker.bootstrap, topic, 2)
    confluent_produce(broker.bootstrap, topic, [Record(b"k%d" % i, b"a") for i in range(40)])
    first = session(broker.bootstrap, topic, group, 40)
    assert len(first) == len(set(first)) == 40

    confluent_produce(broker.bootstrap, topic, [Record(b"k%d" % i, b"b") for i in range(30)])
    second = session(broker.bootstrap, topic, group, 30)
    assert len(second) == 30 and not set(first) & set(second)

    broker.restart()
    confluent_produce(broker.bootstrap, topic, [Record(b"k%d" % i, b"c") for i in range(20)])
    third = session(broker.bootstrap, topic, group, 20)
    assert len(third) == 20 and not (set(first) | set(second)) & set(third)
