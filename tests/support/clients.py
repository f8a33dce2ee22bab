"""Real Kafka clients driven the way applications drive them, plus the round-trip check.

Every helper talks to a broker through a real client library (confluent-kafka,
kafka-python, aiokafka) or kcat: what is under test is what users run. Consumers
use manual assignment (no group): a data-plane round trip should not depend on the
group coordinator (tests/broker/groups/ covers groups).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class Record:
    """What a producer sends: a key, a value (``None`` is a tombstone) and headers."""

    key: bytes | None
    value: bytes | None
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class Consumed:
    """A record as a consumer saw it, with where the broker stored it."""

    partition: int
    offset: int
    record: Record


def make_records(
    count: int,
    *,
    distinct_keys: int = 737,
    binary: bool = True,
    per_record_headers: bool = True,
    empty_values: bool = True,
) -> list[Record]:
    """A deterministic mix: repeated keys, tombstones, empty values, varied headers.

    Every 10th record is a tombstone (``value=None``); with ``empty_values`` some carry
    ``b""``, which must come back empty and not null. Headers vary per record (none;
    one; several with a repeated name and binary values) when ``per_record_headers``.
    ``binary=False`` keeps keys and values printable ASCII (for kcat's line input).
    """
    records = []
    for i in range(count):
        key_id = (i * 7919) % distinct_keys
        key = f"key-{key_id:04d}".encode()
        if binary and key_id % 11 == 0:
            key += b"\x00\xff\xfe"
        if i % 10 == 7:
            value: bytes | None = None
        elif empty_values and i % 97 == 3:
            value = b""
        else:
            value = f"value-{i:05d}-".encode() + b"x" * (i % 61)
            if binary and i % 13 == 0:
                value += bytes(range(256))
        headers: Headers = ()
        if per_record_headers:
            if i % 3 == 1:
                headers = (("seq", str(i).encode()),)
            elif i % 3 == 2:
                headers = (("seq", str(i).encode()), ("trace", b"\x00\x01\xff"), ("seq", b"dup"))
        records.append(Record(key, value, headers))
    return records


def assert_round_trip(
    produced: Sequence[Record],
    consumed: Sequence[Consumed],
    *,
    partitions: int,
    delivered: Sequence[tuple[int, int]] | None = None,
) -> None:
    """The properties users rely on, checked all at once.

    Every produced record is consumed exactly once, in producer order within its
    partition, offsets are 0, 1, 2... per partition (a fresh, non-transactional
    topic), a key always lands in one partition, keys spread over more than one
    partition, and key/value/headers (null vs empty) come back unchanged. With
    ``delivered`` (the producer's delivery reports, in produce order), every record
    is found at exactly the partition and offset the broker acknowledged.
    """
    by_partition: dict[int, list[Consumed]] = defaultdict(list)
    for item in consumed:
        assert 0 <= item.partition < partitions, f"record from unknown partition {item}"
        by_partition[item.partition].append(item)

    for partition, items in by_partition.items():
        offsets = [item.offset for item in items]
        assert offsets == list(range(len(items))), (
            f"partition {partition}: offsets are not 0..{len(items) - 1} in order "
            f"(duplicates, gaps or reordering): first bad at "
            f"{next(i for i, o in enumerate(offsets) if o != i)}"
        )

    partition_of_key: dict[bytes | None, int] = {}
    for item in consumed:
        seen = partition_of_key.setdefault(item.record.key, item.partition)
        assert seen == item.partition, (
            f"key {item.record.key!r} found in partitions {seen} and {item.partition}"
        )
    assert len(set(partition_of_key.values())) > 1, (
        f"all keys landed in one partition of {partitions}: the partitioner saw one partition"
    )
    missing_keys = {r.key for r in produced} - partition_of_key.keys()
    assert not missing_keys, f"{len(missing_keys)} keys never came back, e.g. {min(missing_keys)!r}"

    for partition in range(partitions):
        expected = [r for r in produced if partition_of_key[r.key] == partition]
        actual = [item.record for item in by_partition.get(partition, [])]
        assert len(actual) == len(expected), (
            f"partition {partition}: consumed {len(actual)} records, produced {len(expected)}"
        )
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            assert got == want, f"partition {partition} offset {index}: {got!r} != {want!r}"

    if delivered is not None:
        assert len(delivered) == len(produced)
        stored = {(item.partition, item.offset): item.record for item in consumed}
        for record, (partition, offset) in zip(produced, delivered, strict=True):
            found = stored.get((partition, offset))
            assert found == record, (
                f"acknowledged at {partition}/{offset} but found {found!r} instead of {record!r}"
            )


# --- confluent-kafka (librdkafka) ------------------------------------------------------


def confluent_create_topic(
    bootstrap: str, topic: str, partitions: int, timeout: float = 15
) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1)],
        operation_timeout=timeout,
        request_timeout=timeout,
    )
    futures[topic].result(timeout)


def confluent_partition_count(bootstrap: str, topic: str, timeout: float = 10) -> int:
    """The partition count the broker's Metadata reports for ``topic`` (error if absent)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    metadata = admin.list_topics(topic=topic, timeout=timeout)
    described = metadata.topics[topic]
    if described.error is not None:
        raise KafkaException(described.error)
    return len(described.partitions)


def confluent_produce(
    bootstrap: str, topic: str, records: Iterable[Record], *, timeout: float = 30, **conf: object
) -> list[tuple[int, int]]:
    """Produce with librdkafka's default partitioner; return (partition, offset) per record.

    Raises if any delivery fails: every record must be acknowledged.
    """
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 5,
            **conf,
        }
    )
    reports: list[tuple[int, int] | None] = []
    errors: list[str] = []

    def on_delivery(index: int):  # type: ignore[no-untyped-def]
        def report(err, msg):  # type: ignore[no-untyped-def]
            if err is not None:
                errors.append(f"record {index}: {err}")
            else:
                reports[index] = (msg.partition(), msg.offset())

        return report

    for index, record in enumerate(records):
        reports.append(None)
        headers = list(record.headers) if record.headers else None
        while True:
            try:
                producer.produce(
                    topic,
                    key=record.key,
                    value=record.value,
                    headers=headers,
                    on_delivery=on_delivery(index),
                )
                break
            except BufferError:  # local queue full: let deliveries drain
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(timeout)
    assert remaining == 0, f"{remaining} records still undelivered after {timeout}s"
    assert not errors, f"{len(errors)} deliveries failed, first: {errors[0]}"
    assert all(r is not None for r in reports)
    return [r for r in reports if r is not None]


def confluent_end_offsets(bootstrap: str, topic: str, partitions: int) -> list[int]:
    """High watermarks per partition (ListOffsets latest) as a consumer sees them."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "headwater-tests-unused",
            "enable.auto.commit": False,
        }
    )
    try:
        return [
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        ]
    finally:
        consumer.close()


def confluent_consume_all(
    bootstrap: str, topic: str, partitions: int, *, timeout: float = 30
) -> list[Consumed]:
    """Read every partition from the beginning up to its high watermark, by assignment.

    librdkafka insists on a ``group.id`` but with ``assign()`` and auto-commit off it
    needs no coordinator to fetch.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "headwater-tests-unused",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "error",
        }
    )
    try:
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(partitions)
        }
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        out: list[Consumed] = []
        next_offset = dict.fromkeys(range(partitions), 0)
        deadline = time.monotonic() + timeout
        while any(next_offset[p] < ends[p] for p in ends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"consumed up to {next_offset} of {ends} in {timeout}s")
            for msg in consumer.consume(num_messages=1000, timeout=0.5):
                if msg.error() is not None:
                    raise KafkaException(msg.error())
                partition, offset = msg.partition(), msg.offset()
                next_offset[partition] = offset + 1
                headers = tuple((k, v) for k, v in (msg.headers() or ()))
                out.append(Consumed(partition, offset, Record(msg.key(), msg.value(), headers)))
        return out
    finally:
        consumer.close()
