"""The records of ``__consumer_offsets``, in Apache Kafka's binary formats.

Every key and value starts with an int16 version; the rest follows Kafka's
``group-coordinator`` message schemas (big-endian; ``string`` is int16 length + UTF-8,
``bytes`` int32 length; flexible versions use compact lengths and tagged fields).
Kafka's own tools (``kafka-console-consumer --formatter ...OffsetsMessageFormatter``)
can read what Headwater writes, and Headwater loads what Kafka wrote.

Keys (the version says which kind of record it is)::

    OffsetCommitKey   version 0 or 1: group string, topic string, partition int32
    GroupMetadataKey  version 2:      group string

OffsetCommitValue (written as v3, or v1 when the commit set an expire timestamp)::

    v0  offset int64, metadata string, commit_timestamp int64
    v1  offset int64, metadata string, commit_timestamp int64, expire_timestamp int64
    v2  offset int64, metadata string, commit_timestamp int64
    v3  offset int64, leader_epoch int32, metadata string, commit_timestamp int64
    v4  as v3, flexible

GroupMetadataValue (written as v3)::

    protocol_type string, generation int32, protocol nullable string,
    leader nullable string, current_state_timestamp int64 (v2+),
    members [member_id string, group_instance_id nullable string (v3+),
             client_id string, client_host string, rebalance_timeout int32 (v1+),
             session_timeout int32, subscription bytes, assignment bytes]
    v4  as v3, flexible

A null value is a tombstone: the offset (or the whole group) was deleted.

The partition of a group is Kafka's: ``abs(String.hashCode(group)) % partitions``, with
Java's hash over UTF-16 code units.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from broker.coordinator.group import OffsetAndMetadata

OFFSET_COMMIT_KEY_VERSION = 1
GROUP_METADATA_KEY_VERSION = 2
OFFSET_COMMIT_VALUE_VERSION = 3
OFFSET_COMMIT_VALUE_EXPIRE_VERSION = 1
GROUP_METADATA_VALUE_VERSION = 3

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")


class RecordFormatError(ValueError):
    """A key or value that does not parse (corrupt, or a kind Headwater does not know)."""


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode()``: s[0]*31^(n-1) + ... over UTF-16 units, as int32."""
    units = text.encode("utf-16-be")
    value = 0
    for index in range(0, len(units), 2):
        value = (value * 31 + ((units[index] << 8) | units[index + 1])) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def partition_for(group_id: str, partitions: int) -> int:
    """Kafka's ``Utils.abs(groupId.hashCode()) % partitions`` (abs(MIN_VALUE) is 0)."""
    hashed = java_string_hash(group_id)
    return (0 if hashed == -(1 << 31) else abs(hashed)) % partitions


# --- keys ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OffsetCommitKey:
    group: str
    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class GroupMetadataKey:
    group: str


def _string(text: str) -> bytes:
    data = text.encode()
    return _I16.pack(len(data)) + data


def _nullable_string(text: str | None) -> bytes:
    return _I16.pack(-1) if text is None else _string(text)


def _bytes(data: bytes) -> bytes:
    return _I32.pack(len(data)) + data


def encode_offset_commit_key(group: str, topic: str, partition: int) -> bytes:
    return (
        _I16.pack(OFFSET_COMMIT_KEY_VERSION)
        + _string(group)
        + _string(topic)
        + _I32.pack(partition)
    )


def encode_group_metadata_key(group: str) -> bytes:
    return _I16.pack(GROUP_METADATA_KEY_VERSION) + _string(group)


class _Reader:
    """Reads the primitive types of Kafka's schemas (classic and flexible)."""

    def __init__(self, data: bytes, flexible: bool = False) -> None:
        self.data = data
        self.position = 0
        self.flexible = flexible

    def _take(self, size: int) -> bytes:
        end = self.position + size
        if size < 0 or end > len(self.data):
            raise RecordFormatError("record ends early")
        chunk = self.data[self.position : end]
        self.position = end
        return chunk

    def int16(self) -> int:
        return _I16.unpack(self._take(2))[0]

    def int32(self) -> int:
        return _I32.unpack(self._take(4))[0]

    def int64(self) -> int:
        return _I64.unpack(self._take(8))[0]

    def uvarint(self) -> int:
        result = shift = 0
        while True:
            byte = self._take(1)[0]
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 35:
                raise RecordFormatError("varint too long")

    def nullable_string(self) -> str | None:
        length = self.uvarint() - 1 if self.flexible else self.int16()
        if length < 0:
            return None
        try:
            return self._take(length).decode()
        except UnicodeDecodeError as exc:
            raise RecordFormatError(f"invalid UTF-8: {exc}") from None

    def string(self) -> str:
        value = self.nullable_string()
        if value is None:
            raise RecordFormatError("null where a string is required")
        return value

    def bytes_(self) -> bytes:
        length = self.uvarint() - 1 if self.flexible else self.int32()
        return b"" if length < 0 else self._take(length)

    def array_length(self) -> int:
        length = self.uvarint() - 1 if self.flexible else self.int32()
        return max(length, 0)

    def tagged_fields(self) -> None:
        if self.flexible:
            for _ in range(self.uvarint()):
                self.uvarint()  # tag
                self._take(self.uvarint())


def decode_key(key: bytes) -> OffsetCommitKey | GroupMetadataKey | None:
    """The key's meaning; None for record kinds Headwater does not use (KIP-848 consumer
    group records, share groups...), which loading skips."""
    reader = _Reader(key)
    version = reader.int16()
    if version in (0, 1):
        return OffsetCommitKey(reader.string(), reader.string(), reader.int32())
    if version == GROUP_METADATA_KEY_VERSION:
        return GroupMetadataKey(reader.string())
    return None


# --- offset commit values --------------------------------------------------------------


def encode_offset_commit_value(value: OffsetAndMetadata) -> bytes:
    if value.expire_timestamp_ms is not None:
        return (
            _I16.pack(OFFSET_COMMIT_VALUE_EXPIRE_VERSION)
            + _I64.pack(value.offset)
            + _string(value.metadata)
            + _I64.pack(value.commit_timestamp_ms)
            + _I64.pack(value.expire_timestamp_ms)
        )
    return (
        _I16.pack(OFFSET_COMMIT_VALUE_VERSION)
        + _I64.pack(value.offset)
        + _I32.pack(value.leader_epoch)
        + _string(value.metadata)
        + _I64.pack(value.commit_timestamp_ms)
    )


def decode_offset_commit_value(data: bytes) -> OffsetAndMetadata:
    version = _I16.unpack_from(data)[0] if len(data) >= 2 else -1
    if not 0 <= version <= 4:
        raise RecordFormatError(f"unknown OffsetCommitValue version {version}")
    reader = _Reader(data[2:], flexible=version >= 4)
    offset = reader.int64()
    leader_epoch = reader.int32() if version >= 3 else -1
    metadata = reader.string()
    commit_timestamp = reader.int64()
    expire_timestamp = reader.int64() if version == 1 else -1
    reader.tagged_fields()
    return OffsetAndMetadata(
        offset,
        leader_epoch,
        metadata,
        commit_timestamp,
        None if expire_timestamp < 0 else expire_timestamp,
    )


# --- group metadata values -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberMetadata:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    subscription: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class GroupMetadataValue:
    protocol_type: str
    generation: int
    protocol: str | None
    leader: str | None
    current_state_timestamp_ms: int
    members: tuple[MemberMetadata, ...]


def encode_group_metadata_value(value: GroupMetadataValue) -> bytes:
    parts = [
        _I16.pack(GROUP_METADATA_VALUE_VERSION),
        _string(value.protocol_type),
        _I32.pack(value.generation),
        _nullable_string(value.protocol),
        _nullable_string(value.leader),
        _I64.pack(value.current_state_timestamp_ms),
        _I32.pack(len(value.members)),
    ]
    for member in value.members:
        parts += (
            _string(member.member_id),
            _nullable_string(member.group_instance_id),
            _string(member.client_id),
            _string(member.client_host),
            _I32.pack(member.rebalance_timeout_ms),
            _I32.pack(member.session_timeout_ms),
            _bytes(member.subscription),
            _bytes(member.assignment),
        )
    return b"".join(parts)


def decode_group_metadata_value(data: bytes) -> GroupMetadataValue:
    version = _I16.unpack_from(data)[0] if len(data) >= 2 else -1
    if not 0 <= version <= 4:
        raise RecordFormatError(f"unknown GroupMetadataValue version {version}")
    reader = _Reader(data[2:], flexible=version >= 4)
    protocol_type = reader.string()
    generation = reader.int32()
    protocol = reader.nullable_string()
    leader = reader.nullable_string()
    timestamp = reader.int64() if version >= 2 else -1
    members: list[MemberMetadata] = []
    for _ in range(reader.array_length()):
        member_id = reader.string()
        instance_id = reader.nullable_string() if version >= 3 else None
        client_id = reader.string()
        client_host = reader.string()
        rebalance_timeout = reader.int32() if version >= 1 else -1
        session_timeout = reader.int32()
        subscription = reader.bytes_()
        assignment = reader.bytes_()
        reader.tagged_fields()
        members.append(
            MemberMetadata(
                member_id,
                instance_id,
                client_id,
                client_host,
                session_timeout if rebalance_timeout < 0 else rebalance_timeout,
                session_timeout,
                subscription,
                assignment,
            )
        )
    reader.tagged_fields()
    members_ = tuple(members)
    return GroupMetadataValue(protocol_type, generation, protocol, leader, timestamp, members_)
