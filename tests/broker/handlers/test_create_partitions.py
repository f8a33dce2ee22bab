"""CreatePartitions and DescribeCluster as real admin clients use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic
from kafka.admin import KafkaAdminClient

from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_consume_all, confluent_partition_count
from tests.support.net import wait_until

TIMEOUT = 15


@pytest.fixture
def admin(shared_broker: BrokerProcess) -> AdminClient:
    return AdminClient({"bootstrap.servers": shared_broker.bootstrap})


@pytest.fixture
def kafka_python(shared_broker: BrokerProcess) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=shared_broker.bootstrap)
    yield client
    client.close()


def create(admin: AdminClient, name: str, partitions: int) -> None:
    new = NewTopic(name, num_partitions=partitions, replication_factor=1)
    admin.create_topics([new], request_timeout=TIMEOUT)[name].result(TIMEOUT)


def grow(admin: AdminClient, name: str, count: int, **kwargs: object) -> None:
    futures = admin.create_partitions(
        [NewPartitions(name, count, **kwargs)],
        request_timeout=TIMEOUT,  # type: ignore[arg-type]
    )
    futures[name].result(TIMEOUT)


def test_added_partition_is_in_metadata_produceable_and_consumable(
    admin: AdminClient, shared_broker: BrokerProcess, topic_name: str
) -> None:
    create(admin, topic_name, 2)
    grow(admin, topic_name, 4)
    assert confluent_partition_count(shared_broker.bootstrap, topic_name) == 4

    producer = Producer({"bootstrap.servers": shared_broker.bootstrap, "acks": "all"})
    delivered: list[tuple[int, int]] = []
    producer.produce(
        topic_name,
        key=b"k",
        value=b"in the new partition",
        partition=3,
        on_delivery=lambda err, msg: (
            delivered.append((msg.partition(), msg.offset()))
            if err is None
            else pytest.fail(str(err))
        ),
    )
    assert producer.flush(TIMEOUT) == 0
    assert delivered == [(3, 0)]

    consumed = confluent_consume_all(shared_broker.bootstrap, topic_name, 4)
    assert [(c.partition, c.offset, c.record.value) for c in consumed] == [
        (3, 0, b"in the new partition")
    ]


def test_create_partitions_only_increases_with_kafkas_messages(
    admin: AdminClient, topic_name: str
) -> None:
    create(admin, topic_name, 3)
    for count, message in [
        (3, "Topic already has 3 partition(s)."),
        (2, f"The topic {topic_name} currently has 3 partition(s); 2 would not be an increase."),
    ]:
        with pytest.raises(KafkaException) as info:
            grow(admin, topic_name, count)
        error = info.value.args[0]
        assert (error.code(), error.str()) == (KafkaError.INVALID_PARTITIONS, message)
    with pytest.raises(KafkaException) as missing:
        grow(admin, topic_name + "-missing", 5)
    assert missing.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_manual_assignments_must_name_registered_brokers(
    admin: AdminClient, topic_name: str
) -> None:
    create(admin, topic_name, 1)
    with pytest.raises(KafkaException) as info:
        grow(admin, topic_name, 2, replica_assignment=[[7]])
    assert info.value.args[0].code() == KafkaError.INVALID_REPLICA_ASSIGNMENT
    grow(admin, topic_name, 2, replica_assignment=[[1]])


def test_kafka_python_creates_partitions_and_validate_only_changes_nothing(
    admin: AdminClient,
    kafka_python: KafkaAdminClient,
    shared_broker: BrokerProcess,
    topic_name: str,
) -> None:
    create(admin, topic_name, 1)
    response = kafka_python.create_partitions({topic_name: 3}, validate_only=True)
    assert [r.error_code for r in response.results] == [0]
    assert confluent_partition_count(shared_broker.bootstrap, topic_name) == 1
    kafka_python.create_partitions({topic_name: 3})

    def partitions_seen_by_kafka_python() -> int:
        (topic,) = kafka_python.describe_topics([topic_name])
        return len(topic["partitions"]) == 3

    wait_until(partitions_seen_by_kafka_python, timeout=TIMEOUT, what="3 partitions")


def test_describe_cluster_names_this_broker_and_controller(
    admin: AdminClient, kafka_python: KafkaAdminClient, shared_broker: BrokerProcess
) -> None:
    # librdkafka answers describe_cluster from Metadata; kafka-python sends DescribeCluster
    cluster = admin.describe_cluster(
        include_authorized_operations=True, request_timeout=TIMEOUT
    ).result(TIMEOUT)
    assert cluster.cluster_id
    assert cluster.controller.id == 1
    assert [(n.id, n.host, n.port) for n in cluster.nodes] == [(1, "127.0.0.1", shared_broker.port)]
    assert cluster.authorized_operations  # no authorizer: everything the cluster supports

    described = kafka_python.describe_cluster()
    assert described["cluster_id"] == cluster.cluster_id
    assert described["controller_id"] == 1
    assert [b["broker_id"] for b in described["brokers"]] == [1]
