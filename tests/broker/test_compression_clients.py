"""Compressed produce and the topic settings that shape records, with real clients.

Each producer library (confluent-kafka, kafka-python, aiokafka) sends every codec
(gzip, snappy, lz4, zstd) and a *different* library reads the records back: keys,
values (null vs empty) and headers must survive, and the broker's log must hold the
batches in the codec the producer chose (a client that silently stopped compressing
would otherwise pass).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as AIOTopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KPTopicPartition

from broker.protocol import compression, records
from tests.support.broker import BrokerProcess
from tests.support.clients import Record, confluent_consume_all, confluent_produce, make_records

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


def _stored_codecs(broker: BrokerProcess, topic: str) -> set[str]:
    """The codecs of the batches in the partition's segment files, as the log holds them."""
    names = {v: k for k, v in CODEC_IDS.items()}
    found = set()
    for segment in sorted((broker.log_dir / f"{topic}-0").glob("*.log")):
        data = Path(segment).read_bytes()
        found |= {names[h.compression] for h in records.iter_batches(data)}
    return found


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


CASES = [
    pytest.param(pair, codec, id=f"{pair}-{codec}")
    for pair in PAIRS
    for codec in CODECS
]


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
    assert _stored_codecs(shared_broker, topic) == {codec}


def test_codec_ids_match_the_broker_module() -> None:
    assert {compression.CODEC_NAMES[v]: v for v in CODEC_IDS.values()} == CODEC_IDS
