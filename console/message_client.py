"""The messages page's Kafka calls: read records at given offsets, produce one record.

A sibling of :mod:`console.broker_admin` (whose client configuration, timeouts and
error classes it uses): ListOffsets goes through the admin client there; reading
through one short-lived confluent-kafka ``Consumer`` per page (no group: ``assign`` at
explicit offsets, never subscribe or commit) bounded by a record count per partition,
the partitions' stop offsets and a deadline; producing through one short-lived
``Producer`` (the default partitioner when no partition is given), flushed with a
timeout. Records come back as plain :class:`Record` values, so everything after this
module is pure.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from console import broker_admin
from console.broker_admin import BrokerAdminError, BrokerUnavailable, RequestRejected, UnknownTopic

_LOG = logging.getLogger("headwater.kafka")
PRODUCE_MAX_BYTES = 100 * 1024 * 1024
"""librdkafka's own cap on a produced record (``message.max.bytes``), set above any
topic's ``max.message.bytes`` so that the broker, not the client, judges the size."""
# librdkafka names broker error 10 MSG_SIZE_TOO_LARGE; Kafka (and its docs) MESSAGE_TOO_LARGE.
_KAFKA_NAMES = {KafkaError.MSG_SIZE_TOO_LARGE: "MESSAGE_TOO_LARGE"}


@dataclass(frozen=True, slots=True)
class Record:
    partition: int
    offset: int
    timestamp: int | None  # ms since the epoch; None when the record has none
    timestamp_type: str | None  # CreateTime / LogAppendTime
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


@dataclass(frozen=True, slots=True)
class Produced:
    partition: int
    offset: int
    timestamp: int | None


_TIMESTAMP_TYPES = {1: "CreateTime", 2: "LogAppendTime"}


def _consumer() -> Consumer:
    return Consumer(
        {
            **broker_admin.client_config(),
            "group.id": f"headwater-console-messages-{uuid.uuid4().hex}",  # never joined
            "client.id": "headwater-console-messages",
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "enable.partition.eof": True, "allow.auto.create.topics": False,
            "fetch.wait.max.ms": 100, "reconnect.backoff.max.ms": 1000,
            "logger": _LOG,
        }
    )  # fmt: skip


def _record(message: object) -> Record:
    timestamp_type, timestamp = message.timestamp()  # type: ignore[attr-defined]
    return Record(
        partition=message.partition(),  # type: ignore[attr-defined]
        offset=message.offset(),  # type: ignore[attr-defined]
        timestamp=timestamp if timestamp_type in _TIMESTAMP_TYPES else None,
        timestamp_type=_TIMESTAMP_TYPES.get(timestamp_type),
        key=message.key(),  # type: ignore[attr-defined]
        value=message.value(),  # type: ignore[attr-defined]
        headers=tuple(message.headers() or ()),  # type: ignore[attr-defined]
    )


def read(
    topic: str,
    ranges: Mapping[int, tuple[int, int]],
    *,
    deadline: float,
    per_partition: int | None = None,
    accept: Callable[[Record], bool] | None = None,
) -> Iterator[Record]:
    """Records of ``topic`` with ``start <= offset < stop`` for each ``partition ->
    (start, stop)``, each partition in offset order (partitions interleaved as the
    fetches come), until every partition reached its stop, yielded ``per_partition``
    records, or ``time.monotonic()`` passed ``deadline`` (the caller tells by the
    positions it saw). ``accept`` may stop the read early by returning False."""
    wanted = {p: (start, stop) for p, (start, stop) in ranges.items() if start < stop}
    if not wanted:
        return
    consumer = _consumer()
    counts = dict.fromkeys(wanted, 0)
    try:
        consumer.assign([TopicPartition(topic, p, start) for p, (start, _) in wanted.items()])
        while wanted and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.1):
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        # at the log end: offsets left below the stop are control records
                        # (transaction markers), which a consumer never sees
                        if message.partition() in wanted:
                            _done(consumer, topic, wanted, message.partition())
                        continue
                    if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                        raise UnknownTopic(f"topic {topic!r}: no such topic")
                    if error.fatal():
                        raise BrokerAdminError(f"topic {topic!r}: {error.str()}")
                    continue
                partition = message.partition()
                if partition not in wanted:
                    continue  # paused or done: a fetch already in flight
                record = _record(message)
                if record.offset >= wanted[partition][1]:
                    _done(consumer, topic, wanted, partition)
                    continue
                counts[partition] += 1
                yield record
                if accept is not None and not accept(record):
                    return
                if record.offset + 1 >= wanted[partition][1] or (
                    per_partition is not None and counts[partition] >= per_partition
                ):
                    _done(consumer, topic, wanted, partition)
    except KafkaException as exc:
        raise BrokerUnavailable(f"cannot read topic {topic!r}: {exc}") from exc
    finally:
        consumer.close()


def _done(consumer: Consumer, topic: str, wanted: dict[int, tuple[int, int]], p: int) -> None:
    consumer.pause([TopicPartition(topic, p)])
    del wanted[p]


def offsets_for_timestamp(topic: str, partitions: list[int], timestamp_ms: int) -> dict[int, int]:
    """ListOffsets by timestamp: each partition's first offset whose timestamp is at or
    after ``timestamp_ms``; partitions with none (all older) are absent."""
    from console import group_admin  # the one ListOffsets-by-timestamp call

    answers = group_admin.offsets_for_timestamp([(topic, p) for p in partitions], timestamp_ms)
    return {p: offset for (_, p), offset in answers.items() if offset is not None}


def produce(
    topic: str,
    *,
    value: bytes | None,
    key: bytes | None = None,
    partition: int | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> Produced:
    """Produce one record and wait for the broker's acknowledgement (acks=all); a
    refusal is :class:`RequestRejected` with Kafka's error name and message."""
    timeout = broker_admin._timeout()
    producer = Producer(
        {
            **broker_admin.client_config(),
            "client.id": "headwater-console-produce",
            "linger.ms": 0, "acks": "all", "enable.idempotence": False,
            "message.max.bytes": PRODUCE_MAX_BYTES, "retries": 0,
            "message.timeout.ms": int(timeout * 1000) + 1000,
            "reconnect.backoff.max.ms": 1000, "logger": _LOG,
        }
    )  # fmt: skip
    outcome: list[tuple[KafkaError | None, object]] = []
    kwargs: dict[str, object] = {"key": key, "headers": headers or []}
    if partition is not None:
        kwargs["partition"] = partition
    try:
        producer.produce(topic, value, on_delivery=lambda e, m: outcome.append((e, m)), **kwargs)
    except (KafkaException, BufferError) as exc:
        raise RequestRejected(f"topic {topic!r}: {exc}") from exc
    producer.flush(timeout + 2)
    if not outcome:
        raise BrokerUnavailable(
            f"cannot reach the Kafka cluster at {broker_admin.client_config()['bootstrap.servers']}"
            f": the record was not acknowledged within {timeout + 2:g} s"
        )
    error, message = outcome[0]
    if error is not None:
        if error.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN,
                            KafkaError._MSG_TIMED_OUT):  # fmt: skip
            raise BrokerUnavailable(f"cannot reach the Kafka cluster: {error.str()}")
        name = _KAFKA_NAMES.get(error.code(), error.name())
        raise RequestRejected(f"topic {topic!r}: {name}: {error.str()}", error_name=name)
    timestamp_type, timestamp = message.timestamp()  # type: ignore[attr-defined]
    return Produced(
        partition=message.partition(),  # type: ignore[attr-defined]
        offset=message.offset(),  # type: ignore[attr-defined]
        timestamp=timestamp if timestamp_type in _TIMESTAMP_TYPES else None,
    )
