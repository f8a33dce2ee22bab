"""ListOffsets as consumers use it: seek to a time, earliest, latest."""

from __future__ import annotations

from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition

from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_create_topic

BASE_MS = 1_750_000_000_000


def produce_timed(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for i in range(count):  # one record per second, batched by the client
        producer.produce(topic, value=str(i).encode(), timestamp=BASE_MS + i * 1000)
    assert producer.flush(10) == 0


def test_offsets_for_times_returns_the_first_record_at_or_after(
    shared_broker: BrokerProcess, topic_name: str
) -> None:
    confluent_create_topic(shared_broker.bootstrap, topic_name, 1)
    produce_timed(shared_broker.bootstrap, topic_name, 100)

    consumer = Consumer({"bootstrap.servers": shared_broker.bootstrap, "group.id": "unused"})
    try:

        def offset_at(timestamp_ms: int) -> int:
            (found,) = consumer.offsets_for_times(
                [TopicPartition(topic_name, 0, timestamp_ms)], timeout=10
            )
            return found.offset

        assert offset_at(BASE_MS + 41_500) == 42
        assert offset_at(BASE_MS - 5) == 0
        (beyond,) = consumer.offsets_for_times(
            [TopicPartition(topic_name, 0, BASE_MS + 10**6)], timeout=10
        )
        assert beyond.offset == -1  # no such record: the end
    finally:
        consumer.close()

    kafka = KafkaConsumer(bootstrap_servers=shared_broker.bootstrap)
    try:
        tp = KafkaTopicPartition(topic_name, 0)
        result = kafka.offsets_for_times({tp: BASE_MS + 73_000})[tp]
        assert (result.offset, result.timestamp) == (73, BASE_MS + 73_000)
        assert kafka.beginning_offsets([tp])[tp] == 0
        assert kafka.end_offsets([tp])[tp] == 100
    finally:
        kafka.close()
