"""What operators read through the admin API: groups and committed offsets survive a
broker restart, and lag (log end offset - committed offset) is exact."""

from __future__ import annotations

from collections import Counter
from typing import Any

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from tests.support.broker import BrokerProcess
from tests.support.clients import Record, confluent_create_topic, confluent_produce
from tests.support.net import wait_until


def consumer(bootstrap: str, group: str, **extra: Any) -> Consumer:
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 300,
        **extra,
    })  # fmt: skip


def consume(c: Consumer, count: int, timeout: float = 30) -> list[tuple[int, int]]:
    """Exactly ``count`` records as (partition, offset), or fail."""
    got: list[tuple[int, int]] = []

    def enough() -> bool:
        for message in c.consume(count - len(got), 0.2):
            assert message.error() is None, message.error()
            got.append((message.partition(), message.offset()))
        return len(got) >= count

    wait_until(enough, timeout=timeout, interval=0, what=f"{count} records")
    return got


def committed(admin: AdminClient, group: str) -> dict[tuple[str, int], int]:
    futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
    result = futures[group].result(15)
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions}


def end_offsets(admin: AdminClient, topic: str, partitions: int) -> dict[tuple[str, int], int]:
    futures = admin.list_offsets(
        {TopicPartition(topic, p): OffsetSpec.latest() for p in range(partitions)}
    )
    return {(tp.topic, tp.partition): f.result(15).offset for tp, f in futures.items()}


def test_lag_from_the_admin_api_is_what_was_produced_minus_what_was_consumed(
    group_broker: BrokerProcess, names: tuple[str, str]
) -> None:
    topic, group = names
    bootstrap = group_broker.bootstrap
    confluent_create_topic(bootstrap, topic, 3)
    per_partition = {0: 10, 1: 25, 2: 40}
    for partition, count in per_partition.items():
        produce_to(bootstrap, topic, partition, count)
    c = consumer(bootstrap, group)
    c.subscribe([topic])
    read = consume(c, 42)
    c.commit(asynchronous=False)
    c.close()
    consumed = Counter(p for p, _o in read)

    admin = AdminClient({"bootstrap.servers": bootstrap})
    ends = end_offsets(admin, topic, 3)
    commits = committed(admin, group)
    lag = {p: ends[(topic, p)] - commits.get((topic, p), 0) for p in per_partition}
    assert lag == {p: per_partition[p] - consumed[p] for p in per_partition}
    assert sum(lag.values()) == sum(per_partition.values()) - 42


def produce_to(bootstrap: str, topic: str, partition: int, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(count):
        producer.produce(topic, value=b"v%d" % i, partition=partition)
    assert producer.flush(15) == 0


def test_groups_and_committed_offsets_survive_a_broker_restart(
    restartable_broker: BrokerProcess, names: tuple[str, str]
) -> None:
    topic, group = names
    broker = restartable_broker
    confluent_create_topic(broker.bootstrap, topic, 3)
    confluent_produce(broker.bootstrap, topic, [Record(b"k%d" % i, b"v") for i in range(60)])
    c = consumer(broker.bootstrap, group)
    c.subscribe([topic])
    first = consume(c, 60)
    c.commit(asynchronous=False)
    c.close()
    manual = consumer(broker.bootstrap, f"{group}-manual")  # offsets only, no membership
    manual.commit(offsets=[TopicPartition(topic, 0, 7)], asynchronous=False)
    manual.close()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    before = committed(admin, group)

    broker.restart()

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    listed = {g.group_id: g for g in admin.list_consumer_groups().result(15).valid}
    assert {group, f"{group}-manual"} <= listed.keys()
    assert committed(admin, group) == before
    assert committed(admin, f"{group}-manual") == {(topic, 0): 7}
    assert sum(before.values()) == 60

    # a consumer of the group resumes after what was committed
    confluent_produce(broker.bootstrap, topic, [Record(b"k%d" % i, b"new") for i in range(15)])
    resumed = consumer(broker.bootstrap, group)
    resumed.subscribe([topic])
    second = consume(resumed, 15)
    extra = resumed.consume(10, 1.0)
    resumed.close()
    assert extra == []
    assert not set(first) & set(second)


def test_admin_describes_classic_and_consumer_groups(
    kip848_broker: BrokerProcess, names: tuple[str, str]
) -> None:
    topic, group = names
    bootstrap = kip848_broker.bootstrap
    confluent_create_topic(bootstrap, topic, 4)
    members = {
        "classic": consumer(bootstrap, f"{group}-classic"),
        "consumer": Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"{group}-consumer",
                "group.protocol": "consumer",
            }
        ),
    }
    for c in members.values():
        c.subscribe([topic])
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def described() -> dict[str, Any] | None:
        for c in members.values():
            c.poll(0.05)
        ids = [f"{group}-{kind}" for kind in members]
        result = {g: f.result(10) for g, f in admin.describe_consumer_groups(ids).items()}
        stable = all(d.state.name == "STABLE" and d.members for d in result.values())
        return result if stable else None

    try:
        result = wait_until(described, timeout=20, interval=0.1, what="both groups stable")
    finally:
        for c in members.values():
            c.close()
    classic, kip848 = result[f"{group}-classic"], result[f"{group}-consumer"]
    assert (classic.type.name, classic.partition_assignor) == ("CLASSIC", "range")
    assert (kip848.type.name, kip848.partition_assignor) == ("CONSUMER", "uniform")
    for description in (classic, kip848):
        (member,) = description.members
        assert sorted(tp.partition for tp in member.assignment.topic_partitions) == [0, 1, 2, 3]


def test_a_running_consumer_carries_on_across_a_broker_restart_without_a_rebalance(
    restartable_broker: BrokerProcess, names: tuple[str, str]
) -> None:
    """The group comes back Stable from __consumer_offsets with its generation and
    members: the consumer's heartbeats are accepted as if nothing had happened."""
    topic, group = names
    broker = restartable_broker
    confluent_create_topic(broker.bootstrap, topic, 4)
    assignments: list[int] = []
    c = consumer(broker.bootstrap, group)
    c.subscribe([topic], on_assign=lambda _c, ps: assignments.append(len(ps)))
    try:
        wait_until(lambda: c.poll(0.1) is None and assignments, timeout=20, what="assignment")
        broker.restart()
        confluent_produce(broker.bootstrap, topic, [Record(b"k%d" % i, b"v") for i in range(20)])
        assert len(consume(c, 20)) == 20
    finally:
        c.close()
    assert assignments == [4]  # assigned once, never again
