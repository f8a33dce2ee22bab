"""A schema-driven fuzzer of Kafka request frames, for a broker listening on loopback.

Requests start valid: for every (API, version) the broker advertises, a seeded
generator fills kio's request dataclass with plausible values (small numbers, names
from a fixed pool, real record batches) and kio encodes it. Then a mutation is applied,
chosen from what a hostile or broken client sends:

- ``null``: one length prefix (string, bytes, array) replaced by null (-1, compact 0),
  at every field in turn;
- ``truncate``: the frame cut at a field boundary;
- ``huge_length``: a length prefix replaced by 2**31-1, 2**15-1 or a 5-byte uvarint;
- ``random_bytes``: a few bytes of the body overwritten, or the body replaced;
- ``bad_tagged_fields``: the body's tagged-field section replaced by garbage (a huge
  count, a tag whose size runs past the frame, a known tag with bad content);
- ``wrong_header``: the header names another version of the API than the body is in
  (so flexible and non-flexible encodings meet), or a bad client_id length;
- ``valid``: no mutation.

Everything is derived from one ``random.Random(seed)``, so a run is reproducible.
Names come from :data:`NAME_POOL`, so valid requests touch only the fuzzer's own topics,
groups and users (a well-behaved client's topic is never named). Integers stay small,
and frames of CreateTopics/CreatePartitions are never byte-mutated (a flipped
partition count would test partition limits, which have tests of their own).

:class:`FrameSender` sends frames over many loopback connections at once, pipelined,
and reconnects whenever the broker closes one (as it must, for malformed input).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import io
import random
import selectors
import socket
import struct
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kio.schema.errors import ErrorCode
from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.serial import entity_writer
from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    PrimitiveTupleField,
    classify_field,
    get_field_tag,
    get_schema_field_type,
)
from kio.static.primitive import i16, i32, i32Timedelta, i64Timedelta

from broker.protocol import messages, record_codec
from broker.protocol.guard import FIXED_SIZES, is_nullable

NAME_POOL = (
    "fuzz-0",
    "fuzz-1",
    "fuzz-2",
    "fuzz-group",
    "fuzz-user",
    "",
    "PLAIN",
    "SCRAM-SHA-256",
    "User:fuzz",
    "fuzz-\u00e9\u6f22",
    "fuzz-" + "x" * 300,
)
BYTE_MUTATED_EXCLUDED = frozenset({19, 37})  # CreateTopics, CreatePartitions
MUTATIONS = (
    "valid",
    "null",
    "truncate",
    "huge_length",
    "random_bytes",
    "bad_tagged_fields",
    "wrong_header",
)
_SMALL = (-1, 0, 1, 2, 3)


# --- valid requests --------------------------------------------------------------------


class RequestGenerator:
    """Valid request bodies of any kio request type, from a seeded ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def entity(self, entity_type: type, depth: int = 0) -> Any:
        values = {}
        for f in dataclasses.fields(entity_type):
            if get_field_tag(f) is not None and self.rng.random() < 0.6:
                continue  # a tagged field left out (its default)
            values[f.name] = self.value(f, depth)
        return entity_type(**values)

    def value(self, f: dataclasses.Field, depth: int) -> Any:  # type: ignore[type-arg]
        rng = self.rng
        if is_nullable(f) and get_field_tag(f) is None and rng.random() < 0.15:
            return None
        kind = classify_field(f)
        if isinstance(kind, EntityTupleField):
            count = 0 if depth > 3 else rng.choice((0, 1, 1, 2))
            return tuple(self.entity(kind.type_, depth + 1) for _ in range(count))
        if isinstance(kind, EntityField):
            return self.entity(kind.type_, depth + 1)
        kafka_type = get_schema_field_type(f)
        if isinstance(kind, PrimitiveTupleField):
            return tuple(self.primitive(kafka_type) for _ in range(rng.choice((0, 1, 2))))
        return self.primitive(kafka_type)

    def primitive(self, kafka_type: str) -> Any:
        rng = self.rng
        match kafka_type:
            case "int8" | "int16":
                return rng.choice(_SMALL)
            case "int32":
                return rng.choice((*_SMALL, 100, 1_000_000))
            case "int64":
                return rng.choice((-2, -1, 0, 1, 1000, int(time.time() * 1000)))
            case "uint16" | "uint32" | "uint64":
                return rng.choice((0, 1, 2, 3))
            case "float64":
                return rng.choice((1e9, 1e12))  # quotas far above what anything uses
            case "bool":
                return rng.random() < 0.5
            case "string":
                return rng.choice(NAME_POOL)
            case "bytes":
                return rng.randbytes(rng.choice((0, 1, 8, 32)))
            case "records":
                return self.records()
            case "uuid":
                return uuid.UUID(int=rng.getrandbits(128) if rng.random() < 0.5 else 0)
            case "error_code":
                return ErrorCode.none
            case "timedelta_i32":
                return i32Timedelta.parse(datetime.timedelta(milliseconds=rng.choice((0, 10, 100))))
            case "timedelta_i64":
                return i64Timedelta.parse(datetime.timedelta(milliseconds=rng.choice((0, 10, 100))))
            case "datetime_i64":
                return datetime.datetime.now(datetime.UTC)
        raise TypeError(f"no generator for kafka_type {kafka_type!r}")

    def records(self) -> bytes:
        rng = self.rng
        count = rng.choice((1, 2, 5))
        batch = [
            record_codec.Record(i, 0, None if rng.random() < 0.5 else b"k", rng.randbytes(20))
            for i in range(count)
        ]
        return record_codec.encode_batch(
            batch, base_timestamp=int(time.time() * 1000), codec=rng.choice((0, 0, 1, 3, 4))
        )


def encode_body(body: Any) -> bytes:
    buffer = io.BytesIO()
    entity_writer(type(body))(buffer, body)
    return buffer.getvalue()


def encode_header(
    api_key: int, version: int, correlation_id: int, *, flexible: bool, client_id: str = "fuzzer"
) -> bytes:
    header_type = RequestHeaderV2 if flexible else RequestHeaderV1
    buffer = io.BytesIO()
    entity_writer(header_type)(
        buffer,
        header_type(
            request_api_key=i16(api_key),
            request_api_version=i16(version),
            correlation_id=i32(correlation_id),
            client_id=client_id,
        ),
    )
    return buffer.getvalue()


# --- where to mutate: a walk over an encoded body ---------------------------------------


@dataclass(frozen=True, slots=True)
class Prefix:
    """A length prefix at ``position``: ``width`` 2 (i16), 4 (i32) or 0 (uvarint)."""

    position: int
    width: int
    size: int  # bytes the prefix itself takes
    nullable: bool  # may this field be null in this version's schema?
    end: int = 0  # where the field (prefix and content) ends


def with_null(data: bytes, prefix: Prefix) -> bytes:
    """``data`` with the field at ``prefix`` (its length and content) made null."""
    return data[: prefix.position] + null_length(prefix) + data[prefix.end :]


@dataclass(slots=True)
class Layout:
    prefixes: list[Prefix] = field(default_factory=list)
    boundaries: list[int] = field(default_factory=list)
    tagged_sections: list[int] = field(default_factory=list)  # where each tag count starts


def _uvarint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


_FIXED = FIXED_SIZES


def layout(entity_type: type, data: bytes, pos: int = 0) -> Layout:
    """Every length prefix and field boundary of a well-formed encoded ``entity_type``."""
    out = Layout()
    _walk_entity(entity_type, data, pos, out)
    return out


def _length(
    data: bytes, pos: int, flexible: bool, width: int, nullable: bool, out: Layout
) -> tuple[int, int]:
    if flexible:
        value, end = _uvarint(data, pos)
        out.prefixes.append(Prefix(pos, 0, end - pos, nullable))
        return value - 1, end
    fmt = ">h" if width == 2 else ">i"
    out.prefixes.append(Prefix(pos, width, width, nullable))
    return struct.unpack_from(fmt, data, pos)[0], pos + width


def _walk_entity(entity_type: type, data: bytes, pos: int, out: Layout) -> int:
    flexible = bool(entity_type.__flexible__)
    for f in dataclasses.fields(entity_type):
        if get_field_tag(f) is not None:
            continue
        pos = _walk_field(f, flexible, data, pos, out)
        out.boundaries.append(pos)
    if flexible:
        out.tagged_sections.append(pos)
        count, pos = _uvarint(data, pos)
        for _ in range(count):
            _tag, pos = _uvarint(data, pos)
            size, pos = _uvarint(data, pos)
            pos += size
        out.boundaries.append(pos)
    return pos


def _walk_field(f: dataclasses.Field, flexible: bool, data: bytes, pos: int, out: Layout) -> int:  # type: ignore[type-arg]
    kind = classify_field(f)
    if isinstance(kind, EntityField):
        if is_nullable(f):
            marker = data[pos]
            pos += 1
            if marker == 0xFF:
                return pos
        return _walk_entity(kind.type_, data, pos, out)
    nullable = is_nullable(f)
    if isinstance(kind, EntityTupleField | PrimitiveTupleField):
        count, pos = _length(data, pos, flexible, 4, nullable, out)
        index = len(out.prefixes) - 1
        for _ in range(max(count, 0)):
            if isinstance(kind, EntityTupleField):
                pos = _walk_entity(kind.type_, data, pos, out)
            else:  # array elements are never null
                pos = _walk_primitive(get_schema_field_type(f), flexible, False, data, pos, out)
        out.prefixes[index] = dataclasses.replace(out.prefixes[index], end=pos)
        return pos
    return _walk_primitive(get_schema_field_type(f), flexible, nullable, data, pos, out)


def _walk_primitive(
    kafka_type: str, flexible: bool, nullable: bool, data: bytes, pos: int, out: Layout
) -> int:
    fixed = _FIXED.get(kafka_type)
    if fixed is not None:
        return pos + fixed
    width = 2 if kafka_type == "string" else 4
    length, pos = _length(data, pos, flexible, width, nullable, out)
    end = pos + max(length, 0)
    out.prefixes[-1] = dataclasses.replace(out.prefixes[-1], end=end)
    return end


# --- mutations --------------------------------------------------------------------------


def null_length(prefix: Prefix) -> bytes:
    """The null encoding of a length prefix's kind (-1, or compact 0)."""
    return {0: b"\x00", 2: b"\xff\xff", 4: b"\xff\xff\xff\xff"}[prefix.width]


def _huge(prefix: Prefix, rng: random.Random) -> bytes:
    if prefix.width == 0:
        return rng.choice((b"\xff\xff\xff\xff\x0f", b"\xff\xff\xff\x07", b"\x80\x80\x80\x80\x80"))
    if prefix.width == 2:
        return rng.choice((b"\x7f\xff", b"\x80\x00"))
    return rng.choice((b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x10\x00\x00"))


def _splice(data: bytes, prefix: Prefix, replacement: bytes) -> bytes:
    return data[: prefix.position] + replacement + data[prefix.position + prefix.size :]


@dataclass(frozen=True, slots=True)
class Frame:
    api_key: int
    version: int
    mutation: str
    data: bytes  # the whole frame, size prefix included


class FrameFactory:
    """Seeded frames for the (API key, versions) pairs a broker advertises."""

    def __init__(self, advertised: dict[int, range], seed: int) -> None:
        self.rng = random.Random(seed)
        self.generator = RequestGenerator(self.rng)
        self.targets = [
            (key, version)
            for key, versions in sorted(advertised.items())
            for version in versions
            if version in messages.schema_versions(key)
        ]
        self.advertised = advertised
        self._correlation = 0
        self._null_cursor: Counter[tuple[int, int]] = Counter()

    def frames(self, count: int) -> Iterator[Frame]:
        for index in range(count):
            key, version = self.targets[index % len(self.targets)]
            mutation = MUTATIONS[(index // len(self.targets)) % len(MUTATIONS)]
            yield self.frame(key, version, mutation)

    def frame(self, api_key: int, version: int, mutation: str) -> Frame:
        rng = self.rng
        request_type = messages.request_type(api_key, version)
        body = encode_body(self.generator.entity(request_type))
        flexible = messages.is_flexible(api_key, version)
        self._correlation += 1
        header = encode_header(api_key, version, self._correlation, flexible=flexible)
        if mutation in ("random_bytes", "wrong_header") and api_key in BYTE_MUTATED_EXCLUDED:
            mutation = "null"
        shape = layout(request_type, body)
        if mutation == "null" and shape.prefixes:
            # every length prefix in turn, over the frames of this (API, version)
            cursor = self._null_cursor[(api_key, version)]
            self._null_cursor[(api_key, version)] += 1
            prefix = shape.prefixes[cursor % len(shape.prefixes)]
            body = with_null(body, prefix)
        elif mutation == "truncate":
            body = body[: rng.choice([0, *shape.boundaries])]
            if rng.random() < 0.3 and body:
                body = body[: rng.randrange(len(body))]
        elif mutation == "huge_length" and shape.prefixes:
            prefix = rng.choice(shape.prefixes)
            body = _splice(body, prefix, _huge(prefix, rng))
        elif mutation == "random_bytes":
            if rng.random() < 0.2 or not body:
                body = rng.randbytes(rng.choice((0, 1, 7, 64)))
            else:
                mutable = bytearray(body)
                for _ in range(rng.choice((1, 2, 4))):
                    mutable[rng.randrange(len(mutable))] = rng.getrandbits(8)
                body = bytes(mutable)
        elif mutation == "bad_tagged_fields":
            sections = shape.tagged_sections
            garbage = rng.choice(
                (
                    b"\xff\xff\xff\xff\x0f",  # 2**32 - 1 tags
                    b"\x01\x00\xff\xff\xff\x7f",  # tag 0 of 268 MB
                    b"\x01\x00\x01\xff",  # tag 0 holding one 0xff byte
                    b"\x02\x00\x00\x00\x00",  # tag 0 twice, empty
                    b"\x01\x05\x03abc",  # an unknown tag, 3 bytes
                )
            )
            if sections:
                at = rng.choice(sections)
                count, _ = _uvarint(body, at)
                body = body[:at] + garbage + body[at + 1 :] if count == 0 else body[:at] + garbage
            else:  # a non-flexible version: garbage where a flexible one has tags
                body += garbage
            if rng.random() < 0.5 and flexible:
                header = header[:-1] + garbage  # in the request header's tags too
        elif mutation == "wrong_header":
            header = self._wrong_header(api_key, version, flexible)
        return Frame(api_key, version, mutation, _frame(header + body))

    def _wrong_header(self, api_key: int, version: int, flexible: bool) -> bytes:
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0:  # another advertised version of the same API
            other = rng.choice(list(self.advertised[api_key]))
            return encode_header(
                api_key,
                other,
                self._correlation,
                flexible=messages.is_flexible(api_key, other)
                if other in messages.schema_versions(api_key)
                else flexible,
            )
        if choice == 1:  # the other header version
            return encode_header(api_key, version, self._correlation, flexible=not flexible)
        if choice == 2:  # a client_id length past the frame, or below -1
            length = rng.choice((1000, -2, -32768))
            return struct.pack(">hhih", api_key, version, self._correlation, length)
        return struct.pack(  # an unknown key or a negative version
            ">hhih", rng.choice((api_key, 32000, -1)), rng.choice((-1, 32767)), 1, -1
        )


def _frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


# --- sending ----------------------------------------------------------------------------


@dataclass
class SendStats:
    frames: int = 0
    connections: int = 0
    closed_by_broker: int = 0
    responses: int = 0
    by_mutation: Counter[str] = field(default_factory=Counter)


class FrameSender:
    """Frames over up to ``parallel`` loopback connections, ``per_connection`` frames
    each, pipelined. A connection ends when the broker closes it, when every frame
    was answered, or after ``idle_s`` without a byte from the broker (a held JoinGroup
    or a long-poll)."""

    def __init__(
        self, port: int, *, parallel: int = 8, per_connection: int = 4, idle_s: float = 0.25
    ) -> None:
        self.port = port
        self.parallel = parallel
        self.per_connection = per_connection
        self.idle_s = idle_s
        self.stats = SendStats()

    def send(self, frames: Iterator[Frame]) -> SendStats:
        selector = selectors.DefaultSelector()
        source = iter(frames)
        exhausted = False
        open_count = 0
        try:
            while True:
                while not exhausted and open_count < self.parallel:
                    batch = [f for _, f in zip(range(self.per_connection), source, strict=False)]
                    if not batch:
                        exhausted = True
                        break
                    self._open(selector, batch)
                    open_count += 1
                if open_count == 0:
                    return self.stats
                now = time.monotonic()
                for key, _events in selector.select(timeout=0.05):
                    if self._read(key.fileobj, key.data):  # type: ignore[arg-type]
                        selector.unregister(key.fileobj)
                        key.fileobj.close()  # type: ignore[union-attr]
                        open_count -= 1
                for key in list(selector.get_map().values()):
                    if now - key.data["last"] > self.idle_s:
                        selector.unregister(key.fileobj)
                        key.fileobj.close()  # type: ignore[union-attr]
                        open_count -= 1
        finally:
            for key in list(selector.get_map().values()):
                key.fileobj.close()  # type: ignore[union-attr]
            selector.close()

    def _open(self, selector: selectors.BaseSelector, batch: list[Frame]) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.stats.connections += 1
        payload = b"".join(f.data for f in batch)
        with contextlib.suppress(OSError):  # closed by the broker mid-way: read what it said
            sock.sendall(payload)
        for f in batch:
            self.stats.frames += 1
            self.stats.by_mutation[f.mutation] += 1
        sock.setblocking(False)
        selector.register(
            sock,
            selectors.EVENT_READ,
            {"last": time.monotonic(), "expected": len(batch), "buffer": b""},
        )

    def _read(self, sock: socket.socket, state: dict[str, Any]) -> bool:
        """Consume what arrived; True when this connection is done."""
        try:
            chunk = sock.recv(1 << 20)
        except BlockingIOError:
            return False
        except OSError:
            self.stats.closed_by_broker += 1
            return True
        if not chunk:
            self.stats.closed_by_broker += 1
            return True
        state["last"] = time.monotonic()
        buffer = state["buffer"] + chunk
        while len(buffer) >= 4:
            (size,) = struct.unpack_from(">i", buffer, 0)
            if len(buffer) < 4 + size:
                break
            buffer = buffer[4 + size :]
            self.stats.responses += 1
            state["expected"] -= 1
        state["buffer"] = buffer
        return state["expected"] <= 0


def vm_rss_kib(pid: int) -> int:
    """The process's resident set size (``VmRSS`` in /proc/<pid>/status), in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")
