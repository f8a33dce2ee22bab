"""DescribeLogDirs (key 35) through kafka-python's admin (confluent-kafka has no
binding), and on a SASL broker with the authorizer for a client without DESCRIBE on
the cluster."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from tests.broker.security.authz import (
    acl,
    admin_as,
    authorizing_broker,
    create_acls,
    create_users,
    kafka_python_login,
)
from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_create_topic

CLUSTER_AUTHORIZATION_FAILED = 31


def describe_log_dirs(config: dict[str, Any], topic_partitions: Any = None) -> list[dict[str, Any]]:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(**config)
    try:
        return admin.describe_log_dirs(topic_partitions)
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, partition: int, count: int, size: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for _ in range(count):
        producer.produce(topic, b"x" * size, partition=partition)
    assert producer.flush(15) == 0


def sizes(answer: list[dict[str, Any]], topic: str) -> dict[int, int]:
    (broker,) = answer
    (log_dir,) = broker["log_dirs"]
    return {
        p["partition_index"]: p["partition_size"]
        for t in log_dir["topics"]
        if t["name"] == topic
        for p in t["partitions"]
    }


def test_partition_sizes_and_volume_usage(shared_broker: BrokerProcess, topic_name: str) -> None:
    confluent_create_topic(shared_broker.bootstrap, topic_name, 2)
    produce(shared_broker.bootstrap, topic_name, 0, 20, 1000)
    config = {"bootstrap_servers": shared_broker.bootstrap}

    answer = describe_log_dirs(config)
    (broker,) = answer
    (log_dir,) = broker["log_dirs"]
    assert log_dir["error_code"] == 0
    assert Path(log_dir["log_dir"]) == shared_broker.log_dir.absolute()
    usage = shutil.disk_usage(shared_broker.log_dir)
    assert log_dir["total_bytes"] == usage.total
    assert 0 < log_dir["usable_bytes"] <= usage.total
    by_partition = sizes(answer, topic_name)
    assert by_partition[0] >= 20 * 1000 and by_partition[1] == 0
    on_disk = sum(
        f.stat().st_size for f in (shared_broker.log_dir / f"{topic_name}-0").glob("*.log")
    )
    assert by_partition[0] == on_disk
    partition = next(
        p for t in log_dir["topics"] if t["name"] == topic_name for p in t["partitions"]
    )
    assert (partition["offset_lag"], partition["is_future_key"]) == (0, False)


def test_only_the_partitions_asked_about(shared_broker: BrokerProcess, topic_name: str) -> None:
    confluent_create_topic(shared_broker.bootstrap, topic_name, 3)
    config = {"bootstrap_servers": shared_broker.bootstrap}
    answer = describe_log_dirs(config, {topic_name: [1, 7], "no-such-topic": [0]})
    (broker,) = answer
    (log_dir,) = broker["log_dirs"]
    assert [
        (t["name"], [p["partition_index"] for p in t["partitions"]]) for t in log_dir["topics"]
    ] == [(topic_name, [1])]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = authorizing_broker(tmp_path_factory.mktemp("log-dirs-authz"))
    create_users(broker, "reader", "viewer")
    from confluent_kafka.admin import AclOperation, ResourceType

    create_acls(
        admin_as(broker, "admin"),
        [acl(ResourceType.BROKER, "kafka-cluster", "User:viewer", AclOperation.DESCRIBE)],
    )
    yield broker
    broker.stop()


def raw_describe_log_dirs(broker: BrokerProcess, user: str) -> Any:
    """The response itself: kafka-python's admin drops its top-level error code."""
    from kafka.admin import KafkaAdminClient
    from kafka.protocol.admin import DescribeLogDirsRequest

    admin = KafkaAdminClient(**kafka_python_login(broker.bootstrap, user))
    try:
        node = next(b.node_id for b in admin._manager.cluster.brokers())
        request = DescribeLogDirsRequest(topics=None)

        async def send() -> Any:
            return await admin._manager.send(request, node_id=node)

        return admin._manager.run(send)
    finally:
        admin.close()


def test_needs_describe_on_the_cluster(secured: BrokerProcess) -> None:
    refused = raw_describe_log_dirs(secured, "reader")
    assert (refused.error_code, list(refused.results)) == (CLUSTER_AUTHORIZATION_FAILED, [])
    allowed = raw_describe_log_dirs(secured, "viewer")
    assert allowed.error_code == 0
    assert [r.log_dir for r in allowed.results] == [str(secured.log_dir.absolute())]
