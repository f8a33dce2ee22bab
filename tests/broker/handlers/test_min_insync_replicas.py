"""acks=all and min.insync.replicas, as a producer sees them."""

from __future__ import annotations

from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess


def produce_one(bootstrap: str, topic: str, acks: str) -> KafkaError | None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": acks, "retries": 0, "message.timeout.ms": 5000}
    )
    result: list[KafkaError | None] = []
    producer.produce(topic, value=b"v", on_delivery=lambda err, _msg: result.append(err))
    producer.flush(10)
    return result[0]


def test_acks_all_is_refused_when_fewer_replicas_are_in_sync_than_required(
    shared_broker: BrokerProcess, topic_name: str
) -> None:
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    config = {"min.insync.replicas": "2"}
    admin.create_topics([NewTopic(topic_name, 1, 1, config=config)])[topic_name].result(timeout=10)

    error = produce_one(shared_broker.bootstrap, topic_name, "all")
    assert error is not None and error.code() == KafkaError.NOT_ENOUGH_REPLICAS
    assert (
        produce_one(shared_broker.bootstrap, topic_name, "1") is None
    )  # acks=1 does not wait for the ISR
