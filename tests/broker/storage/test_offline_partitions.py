"""A broker that can start must start (issue 9).

Metadata naming a partition whose log cannot be opened used to stop the broker from
starting at all. Now that partition is offline, reported once in the log, answered
KAFKA_STORAGE_ERROR, shown without a leader in Metadata, and every other partition
serves. A partition directory that is missing altogether is created empty, as Kafka
creates a leader's missing log, with an error line saying its records are lost.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from broker.errors import ErrorCode
from tests.support.broker import BrokerProcess
from tests.support.wire import KafkaWire, produce_request, record_batch


def produce(bootstrap: str, topic: str, partition: int, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, value, partition=partition)
    assert producer.flush(30) == 0


def end_offset(bootstrap: str, topic: str, partition: int) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "offsets"})
    try:
        _low, high = consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=10, cached=False
        )
    finally:
        consumer.close()
    return high


def test_an_unopenable_partition_is_offline_and_the_rest_serves(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "broker")
    broker.start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("t", 3, 1)])["t"].result(timeout=30)
        for partition in range(3):
            produce(broker.bootstrap, "t", partition, b"before")
        broker.stop()
        broken = broker.log_dir / "t-1"
        shutil.rmtree(broken)
        broken.write_text("not a directory")  # the log cannot be opened
        shutil.rmtree(broker.log_dir / "t-2")  # missing: recreated empty

        broker.start()
        log = broker.log()
        assert "partition t-1 is offline: cannot open" in log
        assert "partition t-2: its directory" in log and "created it empty" in log
        metadata = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=30)
        partitions = metadata.topics["t"].partitions
        assert partitions[1].leader == -1
        assert partitions[1].error is not None
        assert partitions[0].leader == 1 and partitions[2].leader == 1

        produce(broker.bootstrap, "t", 0, b"after")
        assert end_offset(broker.bootstrap, "t", 0) == 2
        produce(broker.bootstrap, "t", 2, b"after")
        assert end_offset(broker.bootstrap, "t", 2) == 1  # recreated empty, then one record

        host, port = broker.bootstrap.split(":")
        with KafkaWire(host, int(port)) as wire:
            response = wire.request(produce_request("t", record_batch([(None, b"x")]), partition=1))
        answer = response.responses[0].partition_responses[0]
        assert answer.error_code == ErrorCode.kafka_storage_error
    finally:
        broker.stop()
