"""Batches with a correct CRC around malformed records are refused, and nothing is stored.

On main before this change such a batch was accepted (error 0) when uncompressed;
afterwards ListOffsets by timestamp on that partition closed the connection with a
traceback, and a confluent-kafka consumer stopped at the bad offset for ever. Kafka
walks every record (LogValidator) and answers INVALID_RECORD; so must Headwater, for
compressed and uncompressed batches alike.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from kio.schema.errors import ErrorCode

from broker.protocol import compression
from tests.support.broker import BrokerProcess
from tests.support.clients import (
    confluent_consume_all,
    confluent_create_topic,
    confluent_end_offsets,
    confluent_produce,
    make_records,
)
from tests.support.crafted import CRAFTED, crafted_batch
from tests.support.wire import KafkaWire

pytestmark = pytest.mark.timeout(120)

CODECS = (compression.NONE, compression.GZIP, compression.ZSTD)


def test_each_crafted_batch_is_refused_and_readers_after_it_are_unharmed(
    shared_broker: BrokerProcess,
) -> None:
    topic = "crafted-batches"
    confluent_create_topic(shared_broker.bootstrap, topic, 1)
    before = make_records(20)
    confluent_produce(shared_broker.bootstrap, topic, before)
    started_ms = int(time.time() * 1000)
    log_offset = len(shared_broker.log())

    with KafkaWire("127.0.0.1", shared_broker.port) as wire:
        for case, (section, count) in CRAFTED.items():
            for codec in CODECS:
                answer = wire.produce(topic, crafted_batch(section, count, codec=codec))
                assert (case, codec, answer.error_code) == (
                    case,
                    codec,
                    ErrorCode.invalid_record,
                ), answer.error_message
                assert answer.base_offset == -1

    # nothing stored: the log end did not move, and the next good records follow on
    assert confluent_end_offsets(shared_broker.bootstrap, topic, 1) == [len(before)]
    after = make_records(30)
    confluent_produce(shared_broker.bootstrap, topic, after)
    consumed = confluent_consume_all(shared_broker.bootstrap, topic, 1)
    assert [c.record for c in consumed] == before + after
    assert [c.offset for c in consumed] == list(range(len(before) + len(after)))

    consumer = Consumer({"bootstrap.servers": shared_broker.bootstrap, "group.id": "unused"})
    try:  # ListOffsets by time finds the first record produced after the bad attempts
        (found,) = consumer.offsets_for_times([TopicPartition(topic, 0, started_ms)], timeout=10)
        assert found.offset == len(before)
    finally:
        consumer.close()
    assert "Traceback" not in shared_broker.log()[log_offset:]
