"""Crash recovery with real clients: SIGKILL mid-stream, and a torn write at the log's tail.

Topics here use ``flush.mode=durable``: an acks=all write is acknowledged only after a
group-commit fdatasync covers it. A confluent-kafka producer sends numbered records
from a background thread while the broker is killed (SIGKILL) and restarted on the same
port and data, three times in a row. After each restart every record acknowledged
before the kill is at its acknowledged offset, every partition's offsets run 0..high
watermark - 1 with no gap or repeat, and producing continues: the producer that lived
through the crashes catches up (its queued records are delivered, nothing fails) and a
fresh producer's records land right after. With ``enable.idempotence=true`` no record
may be stored twice (the restarted broker rebuilt the producer state from the log, so
the retries of batches written just before the kill are recognised as duplicates).

The torn-write test appends bytes to the active segment while the broker is down (a
partial batch header, a whole batch with a bad CRC, random bytes): recovery must cut
exactly those bytes off and keep every acknowledged record, and new records must follow
the last good batch.

What this does not show: SIGKILL ends the process but not the kernel, so everything
the broker had written is still in the page cache and reaches the disk. These tests
verify the recovery logic (segment scan, torn-tail truncation, index, offset and
producer-state rebuild), not durability across a power loss; that needs fdatasync
ordering on real hardware, or a fault-injecting filesystem, to test.
"""

from __future__ import annotations

import random
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess
from tests.support.net import wait_until

pytestmark = pytest.mark.timeout(180)

PARTITIONS = 2
KILLS = 3
ACKS_BETWEEN_KILLS = 300
MAX_OUTSTANDING = 200  # the background producer's queued + in-flight records
TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Ack:
    """A delivery report that said success: record ``seq`` is at partition/offset."""

    seq: int
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Stored:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def _value(seq: int) -> bytes:
    return f"seq-{seq:08d}".encode()


def _seq(value: bytes | None) -> int:
    assert value is not None and value.startswith(b"seq-"), value
    return int(value[4:])


def _create_durable_topic(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, PARTITIONS, 1, config={"flush.mode": "durable"})
    admin.create_topics([new], operation_timeout=15, request_timeout=15)[topic].result(15)


def _producer_conf(bootstrap: str, idempotent: bool) -> dict[str, object]:
    return {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": idempotent,
        "linger.ms": 5,
        # reconnect soon after the restart instead of backing off towards 10 s
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 200,
    }


class BackgroundProducer:
    """One producer sending records ``seq-00000000``, ``seq-00000001``... from a thread
    until stopped, at most ``MAX_OUTSTANDING`` unacknowledged at a time."""

    def __init__(self, bootstrap: str, topic: str, *, idempotent: bool) -> None:
        self.producer = Producer(_producer_conf(bootstrap, idempotent))
        self.topic = topic
        self.lock = threading.Lock()
        self.acks: list[Ack] = []
        self.failures: list[str] = []
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="background-producer")

    def _report(self, err: KafkaError | None, msg: Message) -> None:
        with self.lock:
            if err is None:
                self.acks.append(Ack(_seq(msg.value()), msg.partition(), msg.offset()))
            else:
                self.failures.append(f"{msg.value()!r}: {err}")

    def _run(self) -> None:
        while not self._stop.is_set():
            if len(self.producer) >= MAX_OUTSTANDING:
                self.producer.poll(0.01)
                continue
            seq = self.sent
            key = f"key-{seq % 31}".encode()
            self.producer.produce(self.topic, key=key, value=_value(seq), on_delivery=self._report)
            self.sent += 1
            self.producer.poll(0)

    def start(self) -> None:
        self._thread.start()

    def acked(self) -> list[Ack]:
        with self.lock:
            return list(self.acks)

    def wait_for_acks(self, count: int) -> None:
        def enough() -> bool:
            assert self._thread.is_alive(), "the background producer thread died"
            with self.lock:
                assert not self.failures, f"deliveries failed: {self.failures[:3]}"
                return len(self.acks) >= count

        wait_until(enough, timeout=60, what=f"{count} acknowledged records")

    def stop(self) -> int:
        """Stop sending and flush; how many records are still undelivered."""
        self._stop.set()
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), "background producer did not stop"
        return self.producer.flush(TIMEOUT)

    def assert_all_delivered(self, undelivered: int) -> None:
        assert undelivered == 0, f"{undelivered} records undelivered {TIMEOUT}s after the end"
        assert not self.failures, f"{len(self.failures)} deliveries failed: {self.failures[:3]}"
        assert len(self.acks) == self.sent


def _read_log(bootstrap: str, topic: str) -> list[Stored]:
    """Every record of every partition, from the beginning to the high watermark."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "headwater-tests-unused",
            "enable.auto.commit": False,
            "auto.offset.reset": "error",
            "fetch.wait.max.ms": 100,
        }
    )
    try:
        consumer.list_topics(topic, timeout=TIMEOUT)  # leaders known: no offset-query retry wait
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT)[1]
            for p in range(PARTITIONS)
        }
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
        out: list[Stored] = []
        next_offset = dict.fromkeys(range(PARTITIONS), 0)
        deadline = time.monotonic() + TIMEOUT
        while any(next_offset[p] < ends[p] for p in ends):
            assert time.monotonic() < deadline, f"read up to {next_offset} of {ends}"
            for msg in consumer.consume(num_messages=1000, timeout=0.2):
                assert msg.error() is None, msg.error()
                if msg.offset() < ends[msg.partition()]:
                    next_offset[msg.partition()] = msg.offset() + 1
                    out.append(Stored(msg.partition(), msg.offset(), msg.key(), msg.value()))
        return out
    finally:
        consumer.close()


def _assert_log_consistent(stored: list[Stored], acks: list[Ack], *, when: str) -> None:
    """Offsets 0..n-1 once each per partition; every ack holds the acknowledged record."""
    for partition in range(PARTITIONS):
        offsets = [s.offset for s in stored if s.partition == partition]
        if offsets != list(range(len(offsets))):
            bad = next(i for i, o in enumerate(offsets) if o != i)
            raise AssertionError(
                f"{when}: partition {partition} offsets not 0..{len(offsets) - 1}: "
                f"position {bad} holds offset {offsets[bad]}"
            )
    at = {(s.partition, s.offset): s for s in stored}
    lost = [a for a in acks if (a.partition, a.offset) not in at]
    assert not lost, f"{when}: {len(lost)} acknowledged records missing, e.g. {lost[:3]}"
    moved = [a for a in acks if at[(a.partition, a.offset)].value != _value(a.seq)]
    assert not moved, (
        f"{when}: {len(moved)} acknowledged offsets hold another record, e.g. "
        f"{[(a, at[(a.partition, a.offset)].value) for a in moved[:3]]}"
    )


def _assert_no_duplicates(stored: list[Stored]) -> None:
    seqs = [_seq(s.value) for s in stored]
    twice = sorted({seq for seq in seqs if seqs.count(seq) > 1})
    assert not twice, f"{len(twice)} records stored twice, e.g. seq {twice[:5]}"


def _produce_fresh(bootstrap: str, topic: str, seqs: range, *, idempotent: bool) -> list[Ack]:
    """A new producer sends ``seqs`` and waits for every acknowledgement."""
    producer = Producer(_producer_conf(bootstrap, idempotent))
    acks: list[Ack] = []
    failures: list[str] = []

    def report(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            acks.append(Ack(_seq(msg.value()), msg.partition(), msg.offset()))
        else:
            failures.append(f"{msg.value()!r}: {err}")

    for seq in seqs:
        producer.produce(
            topic, key=f"key-{seq % 31}".encode(), value=_value(seq), on_delivery=report
        )
    assert producer.flush(TIMEOUT) == 0, "fresh producer: records undelivered"
    assert not failures, f"fresh producer: {len(failures)} deliveries failed: {failures[:3]}"
    return acks


@pytest.mark.parametrize("idempotent", [False, True], ids=["acks-all", "idempotent"])
def test_broker_sigkill_mid_stream_keeps_every_acknowledged_record(
    broker: BrokerProcess, idempotent: bool
) -> None:
    topic = "crash-mid-stream"
    _create_durable_topic(broker.bootstrap, topic)
    background = BackgroundProducer(broker.bootstrap, topic, idempotent=idempotent)
    background.start()
    try:
        acked_before_kill: list[Ack] = []
        for kill in range(1, KILLS + 1):
            # records acknowledged since the previous kill: the restarted broker serves
            background.wait_for_acks(len(acked_before_kill) + ACKS_BETWEEN_KILLS)
            acked_before_kill = background.acked()
            broker.kill()  # while the producer keeps sending
            broker.start()

            stored = _read_log(broker.bootstrap, topic)
            _assert_log_consistent(stored, acked_before_kill, when=f"after kill {kill}")
        # the producer that lived through the kills carries on
        background.wait_for_acks(len(acked_before_kill) + ACKS_BETWEEN_KILLS)
    finally:
        undelivered = background.stop()
    background.assert_all_delivered(undelivered)

    fresh = _produce_fresh(
        broker.bootstrap,
        topic,
        range(background.sent, background.sent + 100),
        idempotent=idempotent,
    )
    stored = _read_log(broker.bootstrap, topic)
    _assert_log_consistent(stored, [*background.acks, *fresh], when="at the end")
    for partition in {a.partition for a in fresh}:
        first_fresh = min(a.offset for a in fresh if a.partition == partition)
        older = [a.offset for a in background.acks if a.partition == partition]
        assert first_fresh > max(older, default=-1), f"partition {partition}: offsets reused"
    if idempotent:
        _assert_no_duplicates(stored)
        assert len(stored) == background.sent + len(fresh)
    else:  # at least once: retries of batches the kill interrupted may be stored twice
        assert {_seq(s.value) for s in stored} == set(range(background.sent + len(fresh)))


# --- torn writes -----------------------------------------------------------------------


def _partial_header(last_batch: bytes) -> bytes:
    """The first 20 bytes of a batch that claims the full length: a write cut short."""
    return last_batch[:20]


def _bad_crc(last_batch: bytes) -> bytes:
    """A whole batch of the right length whose payload no longer matches its CRC-32C."""
    torn = bytearray(last_batch)
    torn[-1] ^= 0xFF
    return bytes(torn)


def _random_bytes(last_batch: bytes) -> bytes:
    return random.Random(7).randbytes(4096)


def _last_batch(segment: Path) -> bytes:
    data = segment.read_bytes()
    position = last = 0
    while position < len(data):
        last = position
        position += 12 + struct.unpack_from(">i", data, position + 8)[0]
    assert position == len(data), f"{segment.name} does not end on a batch boundary"
    return data[last:]


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(_partial_header, id="partial-header"),
        pytest.param(_bad_crc, id="bad-crc"),
        pytest.param(_random_bytes, id="random-bytes"),
    ],
)
def test_broker_recovery_truncates_a_torn_write_and_keeps_acknowledged_records(
    broker: BrokerProcess, garbage: Callable[[bytes], bytes]
) -> None:
    topic = "torn-write"
    _create_durable_topic(broker.bootstrap, topic)
    acks = _produce_fresh(broker.bootstrap, topic, range(500), idempotent=False)
    broker.kill()
    partition_dir = broker.log_dir / f"{topic}-0"
    segment = sorted(partition_dir.glob("*.log"))[-1]
    good_size = segment.stat().st_size
    torn = garbage(_last_batch(segment))
    with segment.open("ab") as f:
        f.write(torn)

    broker.start()

    stored = _read_log(broker.bootstrap, topic)
    _assert_log_consistent(stored, acks, when="after recovery")
    assert len(stored) == len(acks), f"{len(stored)} records stored, {len(acks)} acknowledged"
    assert segment.stat().st_size == good_size, (
        f"{segment.name}: {segment.stat().st_size} bytes after recovery, {good_size} before "
        f"the {len(torn)} torn bytes were appended\n{broker.log()[-2000:]}"
    )
    more = _produce_fresh(broker.bootstrap, topic, range(500, 600), idempotent=False)
    stored = _read_log(broker.bootstrap, topic)
    _assert_log_consistent(stored, [*acks, *more], when="after producing on")
    assert len(stored) == 600
