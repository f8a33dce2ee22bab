"""Idempotent producers over the wire and with librdkafka: duplicates, gaps, restarts."""

from __future__ import annotations

import datetime

from confluent_kafka import Producer
from kio.schema.errors import ErrorCode
from kio.schema.init_producer_id.v4 import request as init_v4

from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_consume_all, confluent_create_topic
from tests.support.wire import KafkaWire, record_batch


def init_producer(wire: KafkaWire, producer_id: int = -1, epoch: int = -1):
    return wire.request(
        init_v4.InitProducerIdRequest(
            transactional_id=None,
            transaction_timeout=datetime.timedelta(seconds=60),
            producer_id=producer_id,
            producer_epoch=epoch,
        )
    )


def test_duplicates_are_detected_across_a_broker_restart(broker: BrokerProcess) -> None:
    confluent_create_topic(broker.bootstrap, "idem", 1)
    with KafkaWire("127.0.0.1", broker.port) as wire:
        ids = init_producer(wire)
        assert ids.error_code == ErrorCode.none
        pid, epoch = ids.producer_id, ids.producer_epoch

        def batch(seq: int) -> bytes:
            return record_batch(
                [(b"k", b"a"), (b"k", b"b")],
                producer_id=pid,
                producer_epoch=epoch,
                base_sequence=seq,
            )

        assert wire.produce("idem", acks=-1, batch=batch(0)).base_offset == 0
        assert wire.produce("idem", acks=-1, batch=batch(2)).base_offset == 2
        retried = wire.produce("idem", acks=-1, batch=batch(2))
        assert (retried.error_code, retried.base_offset) == (ErrorCode.none, 2)
        assert (
            wire.produce("idem", acks=-1, batch=batch(9)).error_code
            == ErrorCode.out_of_order_sequence_number
        )

    broker.restart()
    with KafkaWire("127.0.0.1", broker.port) as wire:
        assert wire.produce("idem", acks=-1, batch=batch(2)).base_offset == 2  # still a duplicate
        assert wire.produce("idem", acks=-1, batch=batch(4)).base_offset == 4
        bumped = init_producer(wire, pid, epoch)
        assert (bumped.producer_id, bumped.producer_epoch) == (pid, epoch + 1)
        assert init_producer(wire).producer_id != pid  # IDs are never reused, also after restart


def test_librdkafka_idempotent_producer_round_trips_exactly_once(
    shared_broker: BrokerProcess, topic_name: str
) -> None:
    confluent_create_topic(shared_broker.bootstrap, topic_name, 3)
    producer = Producer(
        {
            "bootstrap.servers": shared_broker.bootstrap,
            "enable.idempotence": True,
            "linger.ms": 5,
            "max.in.flight.requests.per.connection": 5,
        }
    )
    failures = []
    for i in range(5000):
        producer.produce(
            topic_name,
            key=str(i % 50).encode(),
            value=str(i).encode(),
            on_delivery=lambda err, _msg: failures.append(err) if err else None,
        )
        producer.poll(0)
    assert producer.flush(30) == 0
    assert failures == []
    consumed = confluent_consume_all(shared_broker.bootstrap, topic_name, 3)
    values = sorted(int(c.record.value) for c in consumed)
    assert values == list(range(5000))
