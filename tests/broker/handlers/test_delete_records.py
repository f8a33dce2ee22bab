"""DeleteRecords as kafka-delete-records and AdminClient.delete_records use it."""

from __future__ import annotations

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_create_topic


def test_delete_records_moves_the_low_watermark_and_consumers_start_there(
    shared_broker: BrokerProcess, topic_name: str
) -> None:
    bootstrap = shared_broker.bootstrap
    confluent_create_topic(bootstrap, topic_name, 1)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for i in range(50):
        producer.produce(topic_name, key=b"k", value=str(i).encode())
        producer.poll(0)
    assert producer.flush(10) == 0

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.delete_records([TopicPartition(topic_name, 0, 30)])
    (result,) = (f.result(timeout=10) for f in futures.values())
    assert result.low_watermark == 30

    low, high = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "unused"}
    ).get_watermark_offsets(TopicPartition(topic_name, 0), timeout=10)
    assert (low, high) == (30, 50)

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.assign([TopicPartition(topic_name, 0, OFFSET_BEGINNING)])
        values = []
        while len(values) < 20:
            message = consumer.poll(10)
            assert message is not None, "no records after DeleteRecords"
            assert message.error() is None, message.error()
            values.append(int(message.value()))
        assert values[0] == 30 and values[-1] == 49
    finally:
        consumer.close()


def test_delete_records_beyond_the_high_watermark_is_offset_out_of_range(
    shared_broker: BrokerProcess, topic_name: str
) -> None:
    confluent_create_topic(shared_broker.bootstrap, topic_name, 1)
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    (future,) = admin.delete_records([TopicPartition(topic_name, 0, 5)]).values()
    exception = future.exception(timeout=10)
    assert exception is not None and "OFFSET_OUT_OF_RANGE" in str(exception)
