"""10,000 keyed records through the broker and back, with each real client users run.

Each client creates the topic with its own admin API where it has one, places keys
with its OWN default partitioner, and reads everything back from the beginning by
manual assignment (the broker has no group coordinator yet). The check is the same
for all: exactly once, producer order per partition, a key stays in one partition,
and keys, values (null vs empty), and headers come back unchanged.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import zlib

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin import NewTopic as AIONewTopic
from aiokafka.structs import TopicPartition as AIOTopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KPTopicPartition
from kafka.admin import KafkaAdminClient

from tests.support.broker import BrokerProcess
from tests.support.clients import (
    Consumed,
    Record,
    assert_round_trip,
    confluent_consume_all,
    confluent_create_topic,
    confluent_end_offsets,
    confluent_partition_count,
    confluent_produce,
    make_records,
)

RECORDS = 10_000
PARTITIONS = 3

pytestmark = pytest.mark.timeout(120)


def test_confluent_kafka_round_trip_keeps_every_record_in_order(
    shared_broker: BrokerProcess,
) -> None:
    topic = "roundtrip-confluent"
    records = make_records(RECORDS)
    confluent_create_topic(shared_broker.bootstrap, topic, PARTITIONS)

    delivered = confluent_produce(shared_broker.bootstrap, topic, records)
    consumed = confluent_consume_all(shared_broker.bootstrap, topic, PARTITIONS)

    assert_round_trip(records, consumed, partitions=PARTITIONS, delivered=delivered)


# --- kafka-python ----------------------------------------------------------------------


def _kafka_python_produce(
    bootstrap: str, topic: str, records: list[Record]
) -> list[tuple[int, int]]:
    """Client defaults (idempotence on, acks=all), as an application gets them."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, request_timeout_ms=15_000)
    try:
        futures = [
            producer.send(topic, key=r.key, value=r.value, headers=list(r.headers)) for r in records
        ]
        producer.flush(timeout=30)
        return [(meta.partition, meta.offset) for meta in (f.get(timeout=30) for f in futures)]
    finally:
        producer.close(timeout=10)


def _kafka_python_consume(bootstrap: str, topic: str, partitions: int) -> list[Consumed]:
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=2000,
        request_timeout_ms=15_000,
    )
    try:
        tps = [KPTopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        out: list[Consumed] = []
        polls = 0
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            polls += 1
            assert polls < 120, f"stuck at {[consumer.position(tp) for tp in tps]} of {ends}"
            for tp, batch in consumer.poll(timeout_ms=500).items():
                for msg in batch:
                    headers = tuple((k, v) for k, v in msg.headers)
                    record = Record(msg.key, msg.value, headers)
                    out.append(Consumed(tp.partition, msg.offset, record))
        return out
    finally:
        consumer.close()


def test_kafka_python_round_trip_keeps_every_record_in_order(
    shared_broker: BrokerProcess,
) -> None:
    topic = "roundtrip-kafka-python"
    records = make_records(RECORDS)
    admin = KafkaAdminClient(bootstrap_servers=shared_broker.bootstrap, request_timeout_ms=15_000)
    try:
        admin.create_topics(
            {topic: {"num_partitions": PARTITIONS, "replication_factor": 1}},
            wait_for_metadata=True,
        )
    finally:
        admin.close()

    delivered = _kafka_python_produce(shared_broker.bootstrap, topic, records)
    consumed = _kafka_python_consume(shared_broker.bootstrap, topic, PARTITIONS)

    assert_round_trip(records, consumed, partitions=PARTITIONS, delivered=delivered)


# --- aiokafka --------------------------------------------------------------------------


async def _aiokafka_round_trip(
    bootstrap: str, topic: str, records: list[Record]
) -> tuple[list[tuple[int, int]], list[Consumed]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await admin.start()
    try:
        response = await admin.create_topics(
            [AIONewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)]
        )
        errors = [(entry[0], entry[1]) for entry in response.topic_errors if entry[1] != 0]
        assert not errors, f"CreateTopics errors: {errors}"
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(topic, key=r.key, value=r.value, headers=list(r.headers))
            for r in records
        ]
        await producer.flush()
        delivered = [(meta.partition, meta.offset) for meta in await asyncio.gather(*futures)]
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        tps = [AIOTopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        consumed: list[Consumed] = []
        while any([await consumer.position(tp) < ends[tp] for tp in tps]):
            for tp, batch in (await consumer.getmany(timeout_ms=500, max_records=2000)).items():
                for msg in batch:
                    headers = tuple((k, v) for k, v in msg.headers)
                    record = Record(msg.key, msg.value, headers)
                    consumed.append(Consumed(tp.partition, msg.offset, record))
    finally:
        await consumer.stop()
    return delivered, consumed


def test_aiokafka_round_trip_keeps_every_record_in_order(shared_broker: BrokerProcess) -> None:
    topic = "roundtrip-aiokafka"
    records = make_records(RECORDS)

    delivered, consumed = asyncio.run(
        asyncio.wait_for(_aiokafka_round_trip(shared_broker.bootstrap, topic, records), 90)
    )

    assert_round_trip(records, consumed, partitions=PARTITIONS, delivered=delivered)


# --- kcat (Debian's, librdkafka 2.0.2) -------------------------------------------------

KCAT_HEADERS = (("run", b"kcat"), ("suite", b"headwater"))


def _kcat() -> str:
    path = shutil.which("kcat")
    if path is None:
        pytest.fail("kcat not found: install the Debian package `kcat` (.ci/run does)")
    return path


def test_kcat_round_trip_keeps_every_record_in_order(shared_broker: BrokerProcess) -> None:
    """kcat reads ``key|value`` lines (-K), sends empty values as NULL (-Z), and puts
    the same -H headers on every record; it consumes to the end of every partition (-e)
    and prints one JSON object per record (-J)."""
    kcat = _kcat()
    topic = "roundtrip-kcat"
    records = [
        Record(r.key, r.value, KCAT_HEADERS)
        for r in make_records(RECORDS, binary=False, per_record_headers=False, empty_values=False)
    ]
    confluent_create_topic(shared_broker.bootstrap, topic, PARTITIONS)
    lines = b"".join(
        (r.key or b"") + b"|" + (r.value if r.value is not None else b"") + b"\n" for r in records
    )

    produce = subprocess.run(
        [
            kcat,
            "-b",
            shared_broker.bootstrap,
            "-P",
            "-t",
            topic,
            "-K",
            "|",
            "-Z",
            "-H",
            "run=kcat",
            "-H",
            "suite=headwater",
            "-X",
            "linger.ms=5",
        ],
        input=lines,
        capture_output=True,
        timeout=60,
    )
    assert produce.returncode == 0, produce.stderr.decode(errors="replace")
    assert b"Delivery failed" not in produce.stderr, produce.stderr.decode(errors="replace")
    assert sum(confluent_end_offsets(shared_broker.bootstrap, topic, PARTITIONS)) == RECORDS

    consume = subprocess.run(
        [
            kcat,
            "-b",
            shared_broker.bootstrap,
            "-C",
            "-t",
            topic,
            "-o",
            "beginning",
            "-e",
            "-J",
            "-q",
        ],
        capture_output=True,
        timeout=60,
    )
    assert consume.returncode == 0, consume.stderr.decode(errors="replace")
    consumed = []
    for line in consume.stdout.splitlines():
        doc = json.loads(line)
        flat = doc.get("headers", [])
        headers = tuple((flat[i], flat[i + 1].encode()) for i in range(0, len(flat), 2))
        key = None if doc["key"] is None else doc["key"].encode()
        value = None if doc["payload"] is None else doc["payload"].encode()
        consumed.append(Consumed(doc["partition"], doc["offset"], Record(key, value, headers)))

    # partitions interleave in kcat's output; assert_round_trip checks order per partition
    assert_round_trip(records, consumed, partitions=PARTITIONS)
    # kcat has no delivery reports; librdkafka's default partitioner (consistent_random)
    # puts a key at crc32(key) % partitions, so that is where the broker must have it.
    misplaced = [c for c in consumed if c.partition != zlib.crc32(c.record.key or b"") % PARTITIONS]
    assert not misplaced, f"{len(misplaced)} records not where kcat sent them: {misplaced[0]}"
    assert confluent_partition_count(shared_broker.bootstrap, topic) == PARTITIONS
