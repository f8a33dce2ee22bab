"""What the broker refuses to create or delete, from three client libraries (issue 9).

One console form entry of 100,000 partitions once left the broker out of file
descriptors and unable to start again. Now CreateTopics and CreatePartitions beyond
Kafka's 10,000 partitions per request or beyond ``max.broker.partitions`` are
POLICY_VIOLATION with a message stating the limit, and nothing of them is created; a
name colliding with an existing one once '.' and '_' are alike is
INVALID_TOPIC_EXCEPTION; internal topics cannot be deleted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin import NewTopic as AioNewTopic
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic
from kafka.admin import KafkaAdminClient
from kafka.admin import NewTopic as KafkaPythonNewTopic
from kafka.errors import BrokerResponseError

from broker.errors import ErrorCode
from tests.support.broker import BrokerProcess

Outcome = tuple[int, str | None]  # (error code, error message) as the client saw them


def confluent_create(bootstrap: str, name: str, partitions: int) -> Outcome:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    future = admin.create_topics([NewTopic(name, partitions, 1)], request_timeout=30)[name]
    try:
        future.result(timeout=60)
    except KafkaException as exc:
        return exc.args[0].code(), exc.args[0].str()
    return 0, None


def kafka_python_create(bootstrap: str, name: str, partitions: int) -> Outcome:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    try:
        admin.create_topics([KafkaPythonNewTopic(name, partitions, 1)])
    except BrokerResponseError as exc:
        return exc.errno, str(exc)
    finally:
        admin.close()
    return 0, None


def aiokafka_create(bootstrap: str, name: str, partitions: int) -> Outcome:
    async def create() -> Outcome:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
        await admin.start()
        try:
            response = await admin.create_topics([AioNewTopic(name, partitions, 1)])
        finally:
            await admin.close()
        (_topic, code, message) = response.topic_errors[0]
        return code, message

    return asyncio.run(create())


def confluent_delete(bootstrap: str, name: str) -> Outcome:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    try:
        admin.delete_topics([name], request_timeout=30)[name].result(timeout=60)
    except KafkaException as exc:
        return exc.args[0].code(), exc.args[0].str()
    return 0, None


def kafka_python_delete(bootstrap: str, name: str) -> Outcome:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    try:
        admin.delete_topics([name])
    except BrokerResponseError as exc:
        return exc.errno, str(exc)
    finally:
        admin.close()
    return 0, None


def aiokafka_delete(bootstrap: str, name: str) -> Outcome:
    async def delete() -> Outcome:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
        await admin.start()
        try:
            response = await admin.delete_topics([name])
        finally:
            await admin.close()
        (_topic, code) = response.topic_error_codes[0]
        return code, None

    return asyncio.run(delete())


CREATE: dict[str, Callable[[str, str, int], Outcome]] = {
    "confluent-kafka": confluent_create,
    "kafka-python": kafka_python_create,
    "aiokafka": aiokafka_create,
}
DELETE: dict[str, Callable[[str, str], Outcome]] = {
    "confluent-kafka": confluent_delete,
    "kafka-python": kafka_python_delete,
    "aiokafka": aiokafka_delete,
}


def topics(bootstrap: str) -> dict[str, int]:
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=30)
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


def partition_dirs(broker: BrokerProcess) -> list[str]:
    return sorted(p.name for p in Path(broker.data_dir).rglob("*-[0-9]*") if p.is_dir())


@pytest.fixture
def small_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    """A broker that holds at most 100 partitions."""
    proc = BrokerProcess(tmp_path / "broker", overrides={"max.broker.partitions": "100"})
    proc.start()
    yield proc
    proc.stop()


@pytest.mark.parametrize(
    ("library", "partitions"),
    [("confluent-kafka", 20_000), ("kafka-python", 100_000), ("aiokafka", 10_001)],
)
def test_more_than_10000_partitions_in_one_request_are_refused_and_the_broker_goes_on(
    broker: BrokerProcess, library: str, partitions: int
) -> None:
    code, message = CREATE[library](broker.bootstrap, "huge", partitions)
    assert code == ErrorCode.policy_violation
    if library != "aiokafka":  # aiokafka's v3 response has the message too, but check two
        assert f"{partitions:,} partitions were requested" in (message or "")
        assert "at most 10,000" in (message or "")
    assert "huge" not in topics(broker.bootstrap)
    assert partition_dirs(broker) == []
    assert CREATE[library](broker.bootstrap, "small", 3) == (0, None)
    broker.restart()
    assert topics(broker.bootstrap)["small"] == 3
    assert "huge" not in topics(broker.bootstrap)


def test_the_cap_is_on_the_whole_request_and_validate_only_answers_the_same(
    tmp_path: Path,
) -> None:
    broker = BrokerProcess(tmp_path / "broker", overrides={"max.broker.partitions": "50000"})
    broker.start()
    try:
        check_the_whole_request_is_capped(broker)
    finally:
        broker.stop()


def check_the_whole_request_is_capped(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics(
        [NewTopic("first", 6_000, 1), NewTopic("second", 6_000, 1)],
        validate_only=True,
        request_timeout=30,
    )
    futures["first"].result(timeout=60)
    with pytest.raises(KafkaException) as refused:
        futures["second"].result(timeout=60)
    assert refused.value.args[0].code() == ErrorCode.policy_violation
    assert "12,000 partitions were requested" in refused.value.args[0].str()
    assert not {"first", "second"} & set(topics(broker.bootstrap))
    assert partition_dirs(broker) == []


@pytest.mark.parametrize("library", sorted(CREATE))
def test_topics_beyond_max_broker_partitions_are_refused_with_the_limit(
    small_broker: BrokerProcess, library: str
) -> None:
    assert CREATE[library](small_broker.bootstrap, "first", 60) == (0, None)
    code, message = CREATE[library](small_broker.bootstrap, "second", 41)
    assert code == ErrorCode.policy_violation
    if library != "aiokafka":
        assert "max.broker.partitions allows 100 (40 more)" in (message or "")
    assert CREATE[library](small_broker.bootstrap, "third", 40) == (0, None)
    assert topics(small_broker.bootstrap) == {"first": 60, "third": 40}
    assert len(partition_dirs(small_broker)) == 100


def test_create_partitions_beyond_max_broker_partitions_is_refused(
    small_broker: BrokerProcess,
) -> None:
    assert confluent_create(small_broker.bootstrap, "grows", 90) == (0, None)
    admin = AdminClient({"bootstrap.servers": small_broker.bootstrap})
    future = admin.create_partitions([NewPartitions("grows", 101)], request_timeout=30)["grows"]
    with pytest.raises(KafkaException) as refused:
        future.result(timeout=60)
    assert refused.value.args[0].code() == ErrorCode.policy_violation
    assert "max.broker.partitions allows 100" in refused.value.args[0].str()
    assert topics(small_broker.bootstrap)["grows"] == 90
    admin.create_partitions([NewPartitions("grows", 100)])["grows"].result(timeout=60)
    assert topics(small_broker.bootstrap)["grows"] == 100


def test_metadata_auto_creation_respects_max_broker_partitions(small_broker: BrokerProcess) -> None:
    assert confluent_create(small_broker.bootstrap, "full", 100) == (0, None)
    producer = Producer({"bootstrap.servers": small_broker.bootstrap, "message.timeout.ms": 3000})
    errors: list[object] = []
    producer.produce("auto-created", b"x", on_delivery=lambda err, _msg: errors.append(err))
    producer.flush(10)
    assert errors and errors[0] is not None  # not delivered: the topic could not be created
    assert "auto-created" not in topics(small_broker.bootstrap)


@pytest.mark.parametrize("library", sorted(CREATE))
def test_a_name_colliding_once_dot_and_underscore_are_alike_is_refused(
    shared_broker: BrokerProcess, library: str
) -> None:
    prefix = library.replace("-", "")
    assert CREATE[library](shared_broker.bootstrap, f"{prefix}.metrics", 1) == (0, None)
    code, message = CREATE[library](shared_broker.bootstrap, f"{prefix}_metrics", 1)
    assert code == ErrorCode.invalid_topic_exception
    if library != "aiokafka":
        assert f"Topic '{prefix}_metrics' collides with existing topic: {prefix}.metrics" in (
            message or ""
        )
    assert CREATE[library](shared_broker.bootstrap, f"{prefix}-metrics", 1) == (0, None)
    listed = topics(shared_broker.bootstrap)
    assert {f"{prefix}.metrics", f"{prefix}-metrics"} <= set(listed)
    assert f"{prefix}_metrics" not in listed


def ensure_consumer_offsets(bootstrap: str) -> None:
    """Commit an offset, which makes the broker create ``__consumer_offsets``."""
    confluent_create(bootstrap, "committed", 1)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "makes-offsets"})
    try:
        consumer.commit(offsets=[TopicPartition("committed", 0, 0)], asynchronous=False)
    finally:
        consumer.close()
    assert "__consumer_offsets" in topics(bootstrap)


@pytest.mark.parametrize("library", sorted(DELETE))
def test_internal_topics_cannot_be_deleted(shared_broker: BrokerProcess, library: str) -> None:
    ensure_consumer_offsets(shared_broker.bootstrap)
    before = topics(shared_broker.bootstrap)["__consumer_offsets"]
    code, message = DELETE[library](shared_broker.bootstrap, "__consumer_offsets")
    assert code == ErrorCode.policy_violation
    if library == "kafka-python":
        assert "is a Kafka internal topic and is not allowed to be deleted" in (message or "")
    assert topics(shared_broker.bootstrap)["__consumer_offsets"] == before


def test_max_partitions_caps_the_cluster_below_max_broker_partitions(tmp_path: Path) -> None:
    """KIP-578's cluster-wide ``max.partitions``: on one broker the lower limit applies."""
    proc = BrokerProcess(
        tmp_path / "broker",
        overrides={"max.broker.partitions": "100", "max.partitions": "50"},
    )
    proc.start()
    try:
        assert CREATE["confluent-kafka"](proc.bootstrap, "first", 30) == (0, None)
        code, message = CREATE["kafka-python"](proc.bootstrap, "second", 21)
        assert code == ErrorCode.policy_violation
        assert "the cluster holds 30 and max.partitions allows 50 (20 more)" in (message or "")
        assert CREATE["confluent-kafka"](proc.bootstrap, "third", 20) == (0, None)
        assert topics(proc.bootstrap) == {"first": 30, "third": 20}
        assert len(partition_dirs(proc)) == 50
    finally:
        proc.stop()
