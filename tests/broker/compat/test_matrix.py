"""The data-plane compatibility matrix: clients, acks, codecs, record shapes, consume modes.

Every cell is covered without a round trip per cell. Each (client, acks, codec) gets a
topic of its own (one partition, ``max.message.bytes`` = 2 MiB) and that client

1. produces a mixed set of 30 records with the test's acks and codec: keys, null keys,
   empty keys, headers (none; one; repeated names; empty header values), null values,
   empty values and one 1 MiB record (random bytes, so compression cannot shrink it);
2. reads them back with one consumer, moved between the four consume modes:

   - **from the beginning**: all 30, at offsets 0..29, unchanged;
   - **from a given offset** (9): the rest of the set, the 1 MiB record included;
   - **from the end**: once the consumer is positioned at the end (librdkafka's
     partition-EOF event at offset 30, kafka-python/aiokafka ``position()``, kcat's
     "Reached end of topic" line), the same client produces a tail of every shape with
     a second 1 MiB record, and exactly that tail arrives;
   - **from a timestamp** (``offsets_for_times`` / kcat ``-o s@ts``): a timestamp
     strictly between records 17 and 18 finds offset 18, and reading from there yields
     the rest, tail included.

acks=0 cannot report failures or offsets: the reads wait (with a deadline) for every
record to arrive, so a broker that dropped any of them fails the cell. acks=1/all check
that the acknowledged offsets are 0..29. The segment files must also hold a batch in the
producer's codec, so a client that silently stopped compressing cannot pass.

The library clients (confluent-kafka, kafka-python, aiokafka) give each record an
explicit CreateTime. kcat cannot: it reads ``key|value`` lines (``-K``), puts the same
``-H`` headers on every record of an invocation and turns empty keys and values into
nulls only with ``-Z`` (for all records of the invocation). So kcat's set is produced in
invocations of a consistent kind (the first 18 records with ``-Z``, nulls and repeated
headers; the rest without ``-Z``, with empty keys and values), printable ASCII only,
and its timestamp lookup uses the CreateTime librdkafka stamped: the second invocation
starts after the first one exited, so its records are strictly later.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as AIOTopicPartition
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KPTopicPartition

from broker.protocol import records as batches
from tests.support.broker import BrokerProcess
from tests.support.clients import Headers, Record
from tests.support.net import wait_until

pytestmark = pytest.mark.timeout(120)

T = TypeVar("T")

CLIENTS = ["confluent-kafka", "kafka-python", "aiokafka", "kcat"]
ACKS = ["0", "1", "all"]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}

LARGE = 1 << 20  # one record of 1 MiB ...
MAX_MESSAGE_BYTES = 2 * LARGE  # ... on a topic (and clients) allowing 2 MiB
MAIN_COUNT = 30
OFFSET_START = 9  # "from a given offset" starts here
TS_INDEX = 18  # the timestamp lookup falls between records 17 and 18
LARGE_INDEX = 25  # after both starting points, so every mode reads a 1 MiB record
TIMEOUT = 30.0  # per client operation

_RANDOM = random.Random(20260601)
LARGE_MAIN = _RANDOM.randbytes(LARGE)
LARGE_TAIL = _RANDOM.randbytes(LARGE)
LARGE_MAIN_TEXT = _RANDOM.randbytes(LARGE // 2).hex().encode()  # kcat reads text lines
LARGE_TAIL_TEXT = _RANDOM.randbytes(LARGE // 2).hex().encode()


# --- record sets -----------------------------------------------------------------------


def _library_main() -> list[Record]:
    """Six shapes in rotation, binary where a format allows, one 1 MiB record."""
    out = []
    for i in range(MAIN_COUNT):
        key = f"key-{i:02d}".encode() + (b"\x00\xff" if i % 4 == 0 else b"")
        shape = i % 6
        if i == LARGE_INDEX:
            out.append(Record(b"large", LARGE_MAIN, (("size", b"1MiB"),)))
        elif shape == 0:
            out.append(Record(key, f"value-{i}".encode()))
        elif shape == 1:
            out.append(Record(key, bytes(range(256)), (("seq", str(i).encode()),)))
        elif shape == 2:
            headers: Headers = (("h", b"1"), ("bin", b"\x00\x01\xff"), ("h", b"2"), ("e", b""))
            out.append(Record(None, f"keyless-{i}".encode(), headers))
        elif shape == 3:
            out.append(Record(key, None, (("tombstone", b"yes"),)))
        elif shape == 4:
            out.append(Record(key, b""))
        else:
            out.append(Record(b"", f"empty-key-{i}".encode(), (("seq", str(i).encode()),)))
    return out


COMPRESSIBLE = [Record(f"zip-{i}".encode(), b"compressible " * 80) for i in range(20)]


def _library_tail() -> list[Record]:
    return [
        Record(b"tail-0", b"v0", (("t", b"1"), ("t", b"2"))),
        Record(None, b"keyless tail"),
        Record(b"tail-2", None),
        Record(b"tail-3", b"", (("e", b""),)),
        Record(b"tail-large", LARGE_TAIL, (("size", b"1MiB"),)),
    ]


KCAT_HEADERS: Headers = (("h", b"1"), ("h", b"2"), ("e", b""))


def _kcat_main() -> list[Record]:
    """Records 0..17 for one ``-Z`` invocation (nulls, repeated headers), 18..29 for
    one plain invocation (empty keys and values, no headers, the 1 MiB record)."""
    out = []
    for i in range(TS_INDEX):
        key = None if i % 5 == 2 else f"key-{i:02d}".encode()
        value = None if i % 5 == 3 else f"value-{i:02d}".encode()
        out.append(Record(key, value, KCAT_HEADERS))
    for i in range(TS_INDEX, MAIN_COUNT):
        key = b"" if i % 5 == 2 else f"key-{i:02d}".encode()
        value = b"" if i % 5 == 3 else f"value-{i:02d}".encode()
        out.append(Record(key, LARGE_MAIN_TEXT if i == LARGE_INDEX else value))
    return out


def _kcat_tail() -> list[Record]:
    return [
        Record(b"tail-0", b"v0", (("t", b"1"),)),
        Record(None, None, (("t", b"1"),)),
        Record(b"tail-2", b""),
        Record(b"tail-large", LARGE_TAIL_TEXT),
    ]


# --- what a consumer saw ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Got:
    offset: int
    timestamp: int
    record: Record


def _short(value: bytes | None) -> str:
    if value is None or len(value) <= 40:
        return repr(value)
    return f"<{len(value)} bytes {value[:16]!r}...>"


def _describe(record: Record) -> str:
    return f"Record(key={_short(record.key)}, value={_short(record.value)}, {record.headers})"


def _assert_read(got: Sequence[Got], want: Sequence[Record], first: int, mode: str) -> None:
    """``got`` is exactly ``want``, stored at offsets ``first``, ``first + 1``, ..."""
    offsets = [g.offset for g in got]
    expected = list(range(first, first + len(want)))
    assert offsets == expected, f"{mode}: offsets {offsets}, expected {expected}"
    wrong = [
        f"offset {g.offset}: {_describe(g.record)} != {_describe(w)}"
        for g, w in zip(got, want, strict=True)
        if g.record != w
    ]
    assert not wrong, f"{mode}: {len(wrong)} records differ, first: {wrong[0]}"


# --- the clients -----------------------------------------------------------------------


class Client(Protocol):
    """One producer and one consumer of a client library on one topic (partition 0)."""

    def produce(self, records: Sequence[Record], timestamps: Sequence[int] | None) -> list[int]:
        """Send and flush; the acknowledged offsets (``[]`` when the client has none)."""
        ...

    def from_beginning(self, count: int) -> list[Got]: ...

    def from_offset(self, offset: int, count: int) -> list[Got]: ...

    def from_timestamp(self, timestamp: int, count: int) -> list[Got]: ...

    def position_at_end(self, count: int) -> int:
        """Position a consumer at the end, to read ``count`` records that will follow;
        the offset it reads next."""
        ...

    def read_on(self, count: int) -> list[Got]:
        """The ``count`` records after :meth:`position_at_end`."""
        ...

    def close(self) -> None: ...


def _deadline_passed(deadline: float, got: int, count: int) -> None:
    if time.monotonic() > deadline:
        raise TimeoutError(f"read {got} of {count} records in {TIMEOUT}s")


class ConfluentClient:
    def __init__(self, bootstrap: str, topic: str, acks: str, codec: str) -> None:
        self.topic = topic
        self.acks = acks
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": acks,
                "compression.type": codec,
                "linger.ms": 5,
                "message.max.bytes": MAX_MESSAGE_BYTES,
            }
        )
        self.consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "headwater-tests-unused",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "error",
                "fetch.wait.max.ms": 100,
            }
        )
        # with the leader already known, assign() need not wait for librdkafka's
        # offset-query retry timer (500 ms) while metadata arrives
        self.consumer.list_topics(topic, timeout=TIMEOUT)

    def produce(self, records: Sequence[Record], timestamps: Sequence[int] | None) -> list[int]:
        offsets: list[int] = [-1] * len(records)
        errors: list[str] = []

        def report(index: int) -> Callable[[KafkaError | None, Message], None]:
            def on_delivery(err: KafkaError | None, msg: Message) -> None:
                if err is not None:
                    errors.append(f"record {index}: {err}")
                else:
                    offsets[index] = msg.offset()

            return on_delivery

        for index, record in enumerate(records):
            self.producer.produce(
                self.topic,
                partition=0,
                key=record.key,
                value=record.value,
                headers=list(record.headers) or None,
                timestamp=timestamps[index] if timestamps else 0,
                on_delivery=report(index),
            )
            self.producer.poll(0)
        assert self.producer.flush(TIMEOUT) == 0, f"undelivered after {TIMEOUT}s"
        assert not errors, f"{len(errors)} deliveries failed, first: {errors[0]}"
        return [] if self.acks == "0" else offsets

    def _read(self, count: int) -> list[Got]:
        out: list[Got] = []
        deadline = time.monotonic() + TIMEOUT
        while len(out) < count:
            _deadline_passed(deadline, len(out), count)
            for msg in self.consumer.consume(num_messages=count - len(out), timeout=0.2):
                error = msg.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise KafkaException(error)
                headers = tuple(msg.headers() or ())
                record = Record(msg.key(), msg.value(), headers)
                out.append(Got(msg.offset(), msg.timestamp()[1], record))
        return out

    def _assign(self, offset: int) -> None:
        self.consumer.assign([TopicPartition(self.topic, 0, offset)])

    def from_beginning(self, count: int) -> list[Got]:
        self._assign(OFFSET_BEGINNING)
        return self._read(count)

    def from_offset(self, offset: int, count: int) -> list[Got]:
        self._assign(offset)
        return self._read(count)

    def from_timestamp(self, timestamp: int, count: int) -> list[Got]:
        (found,) = self.consumer.offsets_for_times(
            [TopicPartition(self.topic, 0, timestamp)], timeout=TIMEOUT
        )
        if found.error is not None:
            raise KafkaException(found.error)
        self._assign(found.offset)
        return self._read(count)

    def position_at_end(self, count: int) -> int:
        """librdkafka resolves OFFSET_END in the background; its partition-EOF event
        says the fetcher is at the end (and where that is)."""
        self._assign(OFFSET_END)
        deadline = time.monotonic() + TIMEOUT
        while True:
            _deadline_passed(deadline, 0, 0)
            msg = self.consumer.poll(0.2)
            if msg is None:
                continue
            error = msg.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                return msg.offset()
            raise AssertionError(f"expected partition EOF at the end, got {error or msg.offset()}")

    def read_on(self, count: int) -> list[Got]:
        return self._read(count)

    def close(self) -> None:
        self.consumer.close()
        self.producer.flush(TIMEOUT)


class KafkaPythonClient:
    def __init__(self, bootstrap: str, topic: str, acks: str, codec: str) -> None:
        self.tp = KPTopicPartition(topic, 0)
        self.acks = acks
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all" if acks == "all" else int(acks),
            enable_idempotence=acks == "all",  # the client's default, which needs acks=all
            compression_type=None if codec == "none" else codec,
            linger_ms=5,
            max_request_size=MAX_MESSAGE_BYTES,
            request_timeout_ms=15_000,
        )
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="none",
            fetch_max_wait_ms=100,
            request_timeout_ms=15_000,
        )
        self.consumer.assign([self.tp])

    def produce(self, records: Sequence[Record], timestamps: Sequence[int] | None) -> list[int]:
        futures = [
            self.producer.send(
                self.tp.topic,
                partition=0,
                key=r.key,
                value=r.value,
                headers=list(r.headers),
                timestamp_ms=timestamps[i] if timestamps else None,
            )
            for i, r in enumerate(records)
        ]
        self.producer.flush(timeout=TIMEOUT)
        offsets = [f.get(timeout=TIMEOUT).offset for f in futures]
        return [] if self.acks == "0" else offsets

    def _read(self, count: int) -> list[Got]:
        out: list[Got] = []
        deadline = time.monotonic() + TIMEOUT
        while len(out) < count:
            _deadline_passed(deadline, len(out), count)
            for batch in self.consumer.poll(timeout_ms=200, max_records=count - len(out)).values():
                out += [
                    Got(m.offset, m.timestamp, Record(m.key, m.value, tuple(m.headers)))
                    for m in batch
                ]
        return out

    def from_beginning(self, count: int) -> list[Got]:
        self.consumer.seek_to_beginning(self.tp)
        return self._read(count)

    def from_offset(self, offset: int, count: int) -> list[Got]:
        self.consumer.seek(self.tp, offset)
        return self._read(count)

    def from_timestamp(self, timestamp: int, count: int) -> list[Got]:
        found = self.consumer.offsets_for_times({self.tp: timestamp})[self.tp]
        assert found is not None, f"no offset for timestamp {timestamp}"
        self.consumer.seek(self.tp, found.offset)
        return self._read(count)

    def position_at_end(self, count: int) -> int:
        self.consumer.seek_to_end(self.tp)
        return self.consumer.position(self.tp)  # resolves the end now (ListOffsets)

    def read_on(self, count: int) -> list[Got]:
        return self._read(count)

    def close(self) -> None:
        self.consumer.close()
        self.producer.close(timeout=TIMEOUT)


class AiokafkaClient:
    """aiokafka's clients on a private event loop, driven through a blocking facade."""

    def __init__(self, bootstrap: str, topic: str, acks: str, codec: str) -> None:
        self.tp = AIOTopicPartition(topic, 0)
        self.acks = acks
        self.loop = asyncio.new_event_loop()
        self.producer, self.consumer = self._run(self._start(bootstrap, acks, codec))

    def _run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    async def _start(
        self, bootstrap: str, acks: str, codec: str
    ) -> tuple[AIOKafkaProducer, AIOKafkaConsumer]:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all" if acks == "all" else int(acks),
            compression_type=None if codec == "none" else codec,
            linger_ms=5,
            max_request_size=MAX_MESSAGE_BYTES,
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="none",
            fetch_max_wait_ms=100,
        )
        await producer.start()
        await consumer.start()
        consumer.assign([self.tp])
        return producer, consumer

    def produce(self, records: Sequence[Record], timestamps: Sequence[int] | None) -> list[int]:
        async def run() -> list[int]:
            futures = [
                await self.producer.send(
                    self.tp.topic,
                    partition=0,
                    key=r.key,
                    value=r.value,
                    headers=list(r.headers),
                    timestamp_ms=timestamps[i] if timestamps else None,
                )
                for i, r in enumerate(records)
            ]
            await self.producer.flush()
            metadata = await asyncio.gather(*futures)  # None each with acks=0
            return [] if self.acks == "0" else [meta.offset for meta in metadata]

        return self._run(run())

    async def _read(self, count: int) -> list[Got]:
        out: list[Got] = []
        deadline = time.monotonic() + TIMEOUT
        while len(out) < count:
            _deadline_passed(deadline, len(out), count)
            found = await self.consumer.getmany(
                self.tp, timeout_ms=200, max_records=count - len(out)
            )
            for batch in found.values():
                out += [
                    Got(m.offset, m.timestamp, Record(m.key, m.value, tuple(m.headers)))
                    for m in batch
                ]
        return out

    def from_beginning(self, count: int) -> list[Got]:
        async def run() -> list[Got]:
            await self.consumer.seek_to_beginning(self.tp)
            return await self._read(count)

        return self._run(run())

    def from_offset(self, offset: int, count: int) -> list[Got]:
        self.consumer.seek(self.tp, offset)
        return self._run(self._read(count))

    def from_timestamp(self, timestamp: int, count: int) -> list[Got]:
        async def run() -> list[Got]:
            found = (await self.consumer.offsets_for_times({self.tp: timestamp}))[self.tp]
            assert found is not None, f"no offset for timestamp {timestamp}"
            self.consumer.seek(self.tp, found.offset)
            return await self._read(count)

        return self._run(run())

    def position_at_end(self, count: int) -> int:
        async def run() -> int:
            await self.consumer.seek_to_end(self.tp)
            return await self.consumer.position(self.tp)

        return self._run(run())

    def read_on(self, count: int) -> list[Got]:
        return self._run(self._read(count))

    def close(self) -> None:
        try:
            self._run(self.consumer.stop())
            self._run(self.producer.stop())
        finally:
            self.loop.close()


def _kcat_path() -> str:
    path = shutil.which("kcat")
    if path is None:
        pytest.fail("kcat not found: install the Debian package `kcat` (.ci/run does)")
    return path


def _kcat_invocations(records: Sequence[Record]) -> list[tuple[list[Record], bool]]:
    """Split into runs kcat can send in one invocation: (records, with ``-Z``)."""
    runs: list[tuple[list[Record], str | None]] = []
    for r in records:
        nulls = r.key is None or r.value is None
        empties = r.key == b"" or r.value == b""
        assert not (nulls and empties), f"kcat cannot send null and empty together: {r}"
        kind = "null" if nulls else "empty" if empties else None
        if runs:
            group, group_kind = runs[-1]
            if group[-1].headers == r.headers and kind in (None, group_kind or kind):
                runs[-1] = ([*group, r], group_kind or kind)
                continue
        runs.append(([r], kind))
    return [(group, kind == "null") for group, kind in runs]


class KcatClient:
    """Debian's kcat (librdkafka 2.0.2): one process per produce and per consume mode."""

    def __init__(self, bootstrap: str, topic: str, acks: str, codec: str, workdir: Path) -> None:
        self.kcat = _kcat_path()
        self.bootstrap = bootstrap
        self.topic = topic
        self.acks = acks
        self.codec = codec
        self.workdir = workdir
        self.waiting: subprocess.Popen[bytes] | None = None

    def _args(self, mode: str) -> list[str]:
        return [self.kcat, mode, "-b", self.bootstrap, "-t", self.topic, "-p", "0"]

    def produce(self, records: Sequence[Record], timestamps: Sequence[int] | None) -> list[int]:
        assert timestamps is None, "kcat cannot set per-record timestamps"
        for group, nulls in _kcat_invocations(records):
            args = [
                *self._args("-P"),
                "-K",
                "|",
                "-z",
                self.codec,
                "-X",
                f"acks={self.acks}",
                "-X",
                f"message.max.bytes={MAX_MESSAGE_BYTES}",
                "-X",
                "linger.ms=5",
            ]
            if nulls:
                args.append("-Z")
            for name, value in group[0].headers:
                args += ["-H", f"{name}={value.decode()}"]
            lines = b""
            for r in group:
                key, value = r.key or b"", r.value or b""
                assert b"|" not in key and b"\n" not in key + value, r
                lines += key + b"|" + value + b"\n"
            done = subprocess.run(args, input=lines, capture_output=True, timeout=TIMEOUT)
            stderr = done.stderr.decode(errors="replace")
            assert done.returncode == 0, stderr
            assert "Delivery failed" not in stderr and "ERROR" not in stderr, stderr
        return []

    def _consume(self, offset: str, *limit: str) -> list[Got]:
        args = [*self._args("-C"), "-o", offset, *limit, "-J", "-q", "-X", "fetch.wait.max.ms=100"]
        done = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return _parse_kcat_json(done.stdout)

    def from_beginning(self, count: int) -> list[Got]:
        # -c waits for records that are still arriving (acks=0); the later modes read
        # to the end (-e), so they would see any extra record
        return self._consume("beginning", "-c", str(count))

    def from_offset(self, offset: int, count: int) -> list[Got]:
        return self._consume(str(offset), "-e")

    def from_timestamp(self, timestamp: int, count: int) -> list[Got]:
        return self._consume(f"s@{timestamp}", "-e")

    def position_at_end(self, count: int) -> int:
        """Start ``kcat -C -o end -c count``; return once it reports the end offset."""
        stderr_path = self.workdir / "kcat-end.stderr"
        with stderr_path.open("wb") as stderr:
            self.waiting = subprocess.Popen(
                [
                    *self._args("-C"),
                    "-o",
                    "end",
                    "-c",
                    str(count),
                    "-J",
                    "-X",
                    "fetch.wait.max.ms=100",
                ],
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        pattern = re.compile(
            rf"Reached end of topic {re.escape(self.topic)} \[0\] at offset (\d+)".encode()
        )

        def reached() -> int | None:
            assert self.waiting is not None
            found = pattern.search(stderr_path.read_bytes())
            if found is None and self.waiting.poll() is not None:
                raise AssertionError(f"kcat exited: {stderr_path.read_text(errors='replace')}")
            return None if found is None else int(found.group(1)) + 1  # 0 is falsy

        return wait_until(reached, timeout=TIMEOUT, what="kcat to reach the end") - 1

    def read_on(self, count: int) -> list[Got]:
        assert self.waiting is not None
        try:
            stdout, _ = self.waiting.communicate(timeout=TIMEOUT)
        finally:
            if self.waiting.poll() is None:
                self.waiting.kill()
                self.waiting.wait()
        assert self.waiting.returncode == 0, (self.workdir / "kcat-end.stderr").read_text()
        return _parse_kcat_json(stdout)

    def close(self) -> None:
        if self.waiting is not None and self.waiting.poll() is None:
            self.waiting.kill()
            self.waiting.wait()


def _parse_kcat_json(stdout: bytes) -> list[Got]:
    out = []
    for line in stdout.splitlines():
        doc = json.loads(line)
        flat = doc.get("headers") or []
        headers = tuple((flat[i], flat[i + 1].encode()) for i in range(0, len(flat), 2))
        key = None if doc["key"] is None else doc["key"].encode()
        value = None if doc["payload"] is None else doc["payload"].encode()
        out.append(Got(doc["offset"], doc["ts"], Record(key, value, headers)))
    return out


# --- the matrix ------------------------------------------------------------------------


def _create_topic(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    new = NewTopic(topic, 1, 1, config={"max.message.bytes": str(MAX_MESSAGE_BYTES)})
    admin.create_topics([new], operation_timeout=15, request_timeout=15)[topic].result(15)


def _stored_codecs(broker: BrokerProcess, topic: str) -> set[str]:
    found: set[str] = set()
    for segment in (broker.log_dir / f"{topic}-0").glob("*.log"):
        found |= {CODEC_NAMES[h.compression] for h in batches.iter_batches(segment.read_bytes())}
    return found


def _open_client(
    client: str, bootstrap: str, topic: str, acks: str, codec: str, workdir: Path
) -> Client:
    if client == "confluent-kafka":
        return ConfluentClient(bootstrap, topic, acks, codec)
    if client == "kafka-python":
        return KafkaPythonClient(bootstrap, topic, acks, codec)
    if client == "aiokafka":
        return AiokafkaClient(bootstrap, topic, acks, codec)
    return KcatClient(bootstrap, topic, acks, codec, workdir)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("acks", ACKS)
@pytest.mark.parametrize("client", CLIENTS)
def test_client_round_trips_every_record_shape_in_every_consume_mode(
    shared_broker: BrokerProcess, tmp_path: Path, client: str, acks: str, codec: str
) -> None:
    topic = f"matrix-{client}-acks-{acks}-{codec}"
    kcat = client == "kcat"
    main = _kcat_main() if kcat else _library_main()
    tail = _kcat_tail() if kcat else _library_tail()
    # explicit CreateTime, 10 ms apart, a minute ago (the tail gets the client's clock)
    base = int(time.time() * 1000) - 60_000
    timestamps = None if kcat else [base + 10 * i for i in range(MAIN_COUNT)]
    _create_topic(shared_broker.bootstrap, topic)
    driver = _open_client(client, shared_broker.bootstrap, topic, acks, codec, tmp_path)
    try:
        offsets = driver.produce(main, timestamps)
        if acks != "0" and not kcat:
            assert offsets == list(range(MAIN_COUNT)), f"acknowledged offsets {offsets}"

        # from the beginning
        got = driver.from_beginning(MAIN_COUNT)
        _assert_read(got, main, 0, "from the beginning")
        if timestamps is not None:
            assert [g.timestamp for g in got] == timestamps, "CreateTime not kept"

        # from a given offset
        _assert_read(
            driver.from_offset(OFFSET_START, MAIN_COUNT - OFFSET_START),
            main[OFFSET_START:],
            OFFSET_START,
            f"from offset {OFFSET_START}",
        )

        # from the end: only what is produced once the consumer waits there
        position = driver.position_at_end(len(tail))
        assert position == MAIN_COUNT, f"positioned at {position}, the log ends at {MAIN_COUNT}"
        tail_offsets = driver.produce(tail, None)
        if acks != "0" and not kcat:
            assert tail_offsets == list(range(MAIN_COUNT, MAIN_COUNT + len(tail)))
        _assert_read(driver.read_on(len(tail)), tail, MAIN_COUNT, "from the end")

        # from a timestamp strictly between records TS_INDEX - 1 and TS_INDEX
        before, after = got[TS_INDEX - 1].timestamp, got[TS_INDEX].timestamp
        assert before < after, f"records {TS_INDEX - 1} and {TS_INDEX} share timestamp {after}"
        _assert_read(
            driver.from_timestamp(before + 1, MAIN_COUNT + len(tail) - TS_INDEX),
            [*main[TS_INDEX:], *tail],
            TS_INDEX,
            f"from timestamp {before + 1}",
        )
        # Clients send a batch uncompressed when compressing would not shrink it (the
        # random 1 MiB record, or a few small records under lz4's frame overhead), so
        # which batches end up compressed depends on timing. A burst of compressible
        # records makes the check below about the client, not about batching luck.
        driver.produce(COMPRESSIBLE, None)
    finally:
        driver.close()

    codecs = _stored_codecs(shared_broker, topic)
    if codec == "none":
        assert codecs == {"none"}, f"stored batches {codecs} on an uncompressed topic"
    else:
        assert codec in codecs, f"no batch stored in {codec}, only {codecs}"
