"""Compressed produce and the topic settings that shape records, with real clients.

Each producer library (confluent-kafka, kafka-python, aiokafka) sends every codec
(gzip, snappy, lz4, zstd) and a *different* library reads the records back: keys,
values (null vs empty) and headers must survive, and the broker's log must hold the
batches in the codec the producer chose (a client that silently stopped compressing
would otherwise pass). Then the topic settings: a compacted topic refuses keyless
records, a LogAppendTime topic hands consumers the broker's timestamps, and a topic
compression.type recompresses what producers send.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as AIOTopicPartition
from confluent_kafka import (
    OFFSET_BEGINNING,
    TIMESTAMP_LOG_APPEND_TIME,
    Consumer,
    KafkaError,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KPTopicPartition
from kio.schema.errors import ErrorCode

from broker.protocol import compression, records
from tests.support.broker import BrokerProcess
from tests.support.clients import Record, confluent_consume_all, confluent_produce, make_records
from tests.support.wire import KafkaWire, record_batch

pytestmark = pytest.mark.timeout(120)

CODECS = ["gzip", "snappy", "lz4", "zstd"]
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
RECORDS = 400


def _records() -> list[Record]:
    # one partition; values compress well, so no client falls back to uncompressed
    return make_records(RECORDS)


def _create_topic(bootstrap: str, topic: str, configs: dict[str, str] | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=1, replication_factor=1, config=configs or {})],
        operation_timeout=15,
        request_timeout=15,
    )
    futures[topic].result(15)


def _stored_batches(broker: BrokerProcess, topic: str) -> list[tuple[str, int]]:
    """(codec, record count) of each batch in the partition's segment files."""
    names = {v: k for k, v in CODEC_IDS.items()}
    found = []
    for segment in sorted((broker.log_dir / f"{topic}-0").glob("*.log")):
        data = Path(segment).read_bytes()
        found += [(names[h.compression], h.record_count) for h in records.iter_batches(data)]
    return found


def _stored_codecs(broker: BrokerProcess, topic: str) -> set[str]:
    return {codec for codec, _count in _stored_batches(broker, topic)}


# --- producers -------------------------------------------------------------------------


def _produce_confluent(bootstrap: str, topic: str, recs: list[Record], codec: str) -> None:
    confluent_produce(bootstrap, topic, recs, **{"compression.type": codec})


def _produce_kafka_python(bootstrap: str, topic: str, recs: list[Record], codec: str) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type=codec,
        linger_ms=5,
        request_timeout_ms=15_000,
    )
    try:
        futures = [
            producer.send(topic, key=r.key, value=r.value, headers=list(r.headers)) for r in recs
        ]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)


def _produce_aiokafka(bootstrap: str, topic: str, recs: list[Record], codec: str) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=5, compression_type=codec
        )
        await producer.start()
        try:
            futures = [
                await producer.send(topic, key=r.key, value=r.value, headers=list(r.headers))
                for r in recs
            ]
            await producer.flush()
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    asyncio.run(asyncio.wait_for(run(), 60))


# --- consumers -------------------------------------------------------------------------


def _consume_confluent(bootstrap: str, topic: str) -> list[Record]:
    return [c.record for c in confluent_consume_all(bootstrap, topic, 1)]


def _consume_kafka_python(bootstrap: str, topic: str) -> list[Record]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=15_000,
    )
    try:
        tp = KPTopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = consumer.end_offsets([tp])[tp]
        out: list[Record] = []
        deadline = time.monotonic() + 30
        while consumer.position(tp) < end:
            assert time.monotonic() < deadline, f"stuck at {consumer.position(tp)} of {end}"
            for batch in consumer.poll(timeout_ms=500).values():
                out += [Record(m.key, m.value, tuple(m.headers)) for m in batch]
        return out
    finally:
        consumer.close()


def _consume_aiokafka(bootstrap: str, topic: str) -> list[Record]:
    async def run() -> list[Record]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            tp = AIOTopicPartition(topic, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            out: list[Record] = []
            while await consumer.position(tp) < end:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    out += [Record(m.key, m.value, tuple(m.headers)) for m in batch]
            return out
        finally:
            await consumer.stop()

    return asyncio.run(asyncio.wait_for(run(), 60))


Producing = Callable[[str, str, list[Record], str], None]
Consuming = Callable[[str, str], list[Record]]

# each producer is read back by a different client library
PAIRS: dict[str, tuple[Producing, Consuming]] = {
    "confluent-to-kafka-python": (_produce_confluent, _consume_kafka_python),
    "kafka-python-to-aiokafka": (_produce_kafka_python, _consume_aiokafka),
    "aiokafka-to-confluent": (_produce_aiokafka, _consume_confluent),
}


CASES = [pytest.param(pair, codec, id=f"{pair}-{codec}") for pair in PAIRS for codec in CODECS]


@pytest.mark.parametrize(("pair", "codec"), CASES)
def test_compressed_records_come_back_intact_through_another_client(
    shared_broker: BrokerProcess, pair: str, codec: str
) -> None:
    produce, consume = PAIRS[pair]
    topic = f"compressed-{pair}-{codec}"
    recs = _records()
    _create_topic(shared_broker.bootstrap, topic)

    produce(shared_broker.bootstrap, topic, recs, codec)
    consumed = consume(shared_broker.bootstrap, topic)

    assert len(consumed) == len(recs)
    for index, (want, got) in enumerate(zip(recs, consumed, strict=True)):
        assert got == want, f"offset {index}: {got!r} != {want!r}"
    # Clients send a batch uncompressed when compressing would not shrink it (kafka-python
    # does; a record or two caught alone by linger.ms under load). Any batch of 10+
    # records here compresses well, so it must be stored in the producer's codec.
    batches = _stored_batches(shared_broker, topic)
    assert codec in {c for c, _ in batches}, batches
    assert all(c == codec for c, count in batches if count >= 10), batches


# --- topic settings --------------------------------------------------------------------


def _confluent_delivery_errors(bootstrap: str, topic: str, recs: list[Record]) -> list[object]:
    """Produce without retries; return each record's delivery error (None: delivered)."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    errors: list[object] = [None] * len(recs)

    def report(index: int) -> Callable[[object, object], None]:
        def on_delivery(err: object, _msg: object) -> None:
            errors[index] = err

        return on_delivery

    for index, r in enumerate(recs):
        producer.produce(topic, key=r.key, value=r.value, on_delivery=report(index))
    assert producer.flush(30) == 0
    return errors


def test_compacted_topic_refuses_keyless_records_with_invalid_record(
    shared_broker: BrokerProcess,
) -> None:
    topic = "compacted-keys"
    _create_topic(shared_broker.bootstrap, topic, {"cleanup.policy": "compact"})

    (error,) = _confluent_delivery_errors(shared_broker.bootstrap, topic, [Record(None, b"no key")])
    (ok,) = _confluent_delivery_errors(shared_broker.bootstrap, topic, [Record(b"k", b"keyed")])

    assert error is not None and error.code() == KafkaError.INVALID_RECORD  # type: ignore[attr-defined]
    assert ok is None
    assert _consume_confluent(shared_broker.bootstrap, topic) == [Record(b"k", b"keyed")]


def test_log_append_time_topic_gives_consumers_the_brokers_timestamps(
    shared_broker: BrokerProcess,
) -> None:
    topic = "log-append-time"
    _create_topic(shared_broker.bootstrap, topic, {"message.timestamp.type": "LogAppendTime"})
    producer = Producer({"bootstrap.servers": shared_broker.bootstrap, "linger.ms": 5})
    before = int(time.time() * 1000)
    for i in range(3):
        producer.produce(topic, key=b"k%d" % i, value=b"v", timestamp=1000 + i)  # 1970
    assert producer.flush(30) == 0
    after = int(time.time() * 1000)

    consumer = Consumer(
        {
            "bootstrap.servers": shared_broker.bootstrap,
            "group.id": "headwater-tests-unused",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        messages = []
        deadline = time.monotonic() + 30
        while len(messages) < 3:
            assert time.monotonic() < deadline, f"consumed {len(messages)} of 3"
            messages += [m for m in consumer.consume(10, timeout=0.5) if m.error() is None]
    finally:
        consumer.close()

    for message in messages:
        kind, timestamp = message.timestamp()
        assert kind == TIMESTAMP_LOG_APPEND_TIME
        assert before <= timestamp <= after


def test_topic_compression_type_recompresses_what_producers_send(
    shared_broker: BrokerProcess,
) -> None:
    topic = "recompressed-to-zstd"
    _create_topic(shared_broker.bootstrap, topic, {"compression.type": "zstd"})
    recs = _records()

    _produce_confluent(shared_broker.bootstrap, topic, recs, "lz4")

    assert _consume_kafka_python(shared_broker.bootstrap, topic) == recs
    assert _stored_codecs(shared_broker, topic) == {"zstd"}


def _produce_v9(bootstrap_port: int, topic: str, batch: bytes) -> object:
    with KafkaWire("127.0.0.1", bootstrap_port) as wire:
        return wire.produce(topic, batch)


def test_produce_response_names_the_keyless_records_a_compacted_topic_refused(
    shared_broker: BrokerProcess,
) -> None:
    topic = "compacted-record-errors"
    _create_topic(shared_broker.bootstrap, topic, {"cleanup.policy": "compact"})
    batch = record_batch([(b"a", b"1"), (None, b"2"), (b"c", b"3"), (None, b"4")])

    partition = _produce_v9(shared_broker.port, topic, batch)

    assert partition.error_code == ErrorCode.invalid_record
    assert [e.batch_index for e in partition.record_errors] == [1, 3]


def test_produce_response_carries_the_log_append_time(shared_broker: BrokerProcess) -> None:
    topic = "log-append-time-response"
    _create_topic(shared_broker.bootstrap, topic, {"message.timestamp.type": "LogAppendTime"})
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)

    partition = _produce_v9(shared_broker.port, topic, record_batch([(b"k", b"v")]))

    assert partition.error_code == ErrorCode.none
    assert before <= partition.log_append_time <= datetime.datetime.now(datetime.UTC)


def test_codec_ids_match_the_broker_module() -> None:
    assert {compression.CODEC_NAMES[v]: v for v in CODEC_IDS.values()} == CODEC_IDS
