"""The records inside a RecordBatch v2: decode and encode.

:mod:`broker.protocol.records` handles the 61-byte batch header; this module handles
what follows it, after :mod:`broker.protocol.compression` has decompressed it. The log
cleaner, exact timestamp lookups and recompression use it (produce validation scans
records without building them: :mod:`broker.protocol.record_scan`), so it is written
for speed: one pass over ``bytes`` with the common one-byte varint inlined, no
per-byte loops except for multi-byte varints, and slices for payloads.

A record (all integers varints, zigzag-encoded as in protobuf; ``varlong`` is 64-bit)::

    length          varint   bytes of the record after this field
    attributes      int8     unused (0)
    timestamp_delta varlong  relative to the batch's base_timestamp
    offset_delta    varint   relative to the batch's base_offset
    key_length      varint   -1 for a null key
    key             bytes
    value_length    varint   -1 for a null value
    value           bytes
    header_count    varint
    headers         [key_length varint, key bytes, value_length varint, value bytes]

Header keys are Kafka strings (UTF-8, never null); they are kept here as ``bytes`` so
decoding never fails on a client's bytes and re-encoding is exact. Header values may be
null. Malformed records raise ``INVALID_RECORD`` (as Kafka's ``DefaultRecord.readFrom``
does: the CRC already matched, so a retry cannot help); a payload that does not
decompress raises ``CORRUPT_MESSAGE``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple

import crc32c

from broker.errors import BrokerError, ErrorCode
from broker.protocol import compression, records
from broker.protocol.records import BatchHeader

Buffer = bytes | bytearray | memoryview
Headers = tuple[tuple[bytes, bytes | None], ...]

# The part of the batch header covered by the CRC: attributes .. record_count.
_POST_CRC: Final = struct.Struct(">hiqqqhii")
_PRE_CRC: Final = struct.Struct(">qiibI")
_BATCH_LENGTH_EXTRA: Final = 9  # partition_leader_epoch + magic + crc, inside batch_length
_MIN_RECORD_BODY: Final = 6  # attributes + five one-byte varints


class Record(NamedTuple):
    """One record as stored: offsets and timestamps are deltas from its batch header.

    A NamedTuple rather than a frozen dataclass: decoding builds one per record, and a
    tuple is built about 3x faster (frozen dataclasses set fields via object.__setattr__).
    """

    offset_delta: int
    timestamp_delta: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    attributes: int = 0


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    header: BatchHeader
    records: list[Record]

    def offset(self, record: Record) -> int:
        return self.header.base_offset + record.offset_delta

    def timestamp(self, record: Record) -> int:
        """The record's timestamp as consumers see it: with LogAppendTime every record
        carries the batch's max_timestamp (the broker's append time)."""
        if self.header.attributes & records.ATTR_LOG_APPEND_TIME:
            return self.header.max_timestamp
        return self.header.base_timestamp + record.timestamp_delta


def _invalid(detail: str) -> BrokerError:
    return BrokerError(ErrorCode.invalid_record, f"malformed record: {detail}")


# --- varints ---------------------------------------------------------------------------


def read_varint(data: Buffer, position: int) -> tuple[int, int]:
    """A zigzag varint/varlong at ``position``: (value, position after it)."""
    result = 0
    shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (result >> 1) ^ -(result & 1), position
        shift += 7
        if shift > 63:
            raise _invalid("varint longer than 10 bytes")


def _varint_slow(value: int) -> bytes:
    zigzag = (value << 1) ^ (value >> 63)
    out = bytearray()
    while zigzag >= 0x80:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


# Values -64..63 are one byte; -8192..8191 two. Precomputed: most lengths and deltas.
_VARINTS: Final = {value: _varint_slow(value) for value in range(-8192, 8192)}


def write_varint(value: int) -> bytes:
    """``value`` as a zigzag varint (varlong for 64-bit values)."""
    encoded = _VARINTS.get(value)
    return encoded if encoded is not None else _varint_slow(value)


# --- decoding --------------------------------------------------------------------------


def decode_records(data: bytes, count: int) -> list[Record]:
    """Exactly ``count`` records filling ``data`` (an uncompressed records section)."""
    out: list[Record] = []
    append = out.append
    read = read_varint
    make = tuple.__new__  # skips NamedTuple's Python-level __new__ (hot loop)
    cls = Record
    position = 0
    end = len(data)
    try:
        for _ in range(count):
            byte = data[position]
            if byte < 0x80:
                length = (byte >> 1) ^ -(byte & 1)
                position += 1
            else:
                length, position = read(data, position)
            stop = position + length
            if length < _MIN_RECORD_BODY or stop > end:
                raise _invalid(f"record length {length} at byte {position} overruns the batch")
            attributes = data[position]
            position += 1
            byte = data[position]
            if byte < 0x80:
                timestamp_delta = (byte >> 1) ^ -(byte & 1)
                position += 1
            else:
                timestamp_delta, position = read(data, position)
            byte = data[position]
            if byte < 0x80:
                offset_delta = (byte >> 1) ^ -(byte & 1)
                position += 1
            else:
                offset_delta, position = read(data, position)
            byte = data[position]
            if byte < 0x80:
                size = (byte >> 1) ^ -(byte & 1)
                position += 1
            else:
                size, position = read(data, position)
            if size >= 0:
                key: bytes | None = data[position : position + size]
                position += size
            elif size == -1:
                key = None
            else:
                raise _invalid(f"key length {size}")
            byte = data[position]
            if byte < 0x80:
                size = (byte >> 1) ^ -(byte & 1)
                position += 1
            else:
                size, position = read(data, position)
            if size >= 0:
                value: bytes | None = data[position : position + size]
                position += size
            elif size == -1:
                value = None
            else:
                raise _invalid(f"value length {size}")
            byte = data[position]
            if byte == 0:
                headers: Headers = ()
                position += 1
            else:
                header_count, position = read(data, position)
                headers, position = _decode_headers(data, position, stop, header_count)
            if position != stop:
                raise _invalid(
                    f"record declares {length} bytes but holds {length + position - stop}"
                )
            if attributes > 127:
                attributes -= 256
            append(make(cls, (offset_delta, timestamp_delta, key, value, headers, attributes)))
    except IndexError:
        raise _invalid(f"records end after {len(out)} of {count}") from None
    if position != end:
        raise _invalid(f"{end - position} bytes after the last of {count} records")
    return out


def _decode_headers(data: bytes, position: int, stop: int, count: int) -> tuple[Headers, int]:
    if count < 0 or count * 2 > stop - position:
        raise _invalid(f"header count {count}")
    read = read_varint
    headers = []
    for _ in range(count):
        size, position = read(data, position)
        if size < 0:
            raise _invalid(f"header key length {size}")
        key = data[position : position + size]
        position += size
        size, position = read(data, position)
        if size >= 0:
            value: bytes | None = data[position : position + size]
            position += size
        elif size == -1:
            value = None
        else:
            raise _invalid(f"header value length {size}")
        headers.append((key, value))
    return tuple(headers), position


def records_payload(
    data: Buffer,
    header: BatchHeader,
    *,
    max_decompressed: int = compression.DEFAULT_MAX_DECOMPRESSED,
) -> bytes:
    """The batch's records section, decompressed."""
    view = memoryview(data)[header.position + records.HEADER_SIZE : header.position + header.size]
    return compression.decompress(header.compression, view, max_size=max_decompressed)


def decode_batch(
    data: Buffer,
    position: int = 0,
    *,
    verify_crc: bool = False,
    max_decompressed: int = compression.DEFAULT_MAX_DECOMPRESSED,
) -> DecodedBatch:
    """The header and records of the whole batch starting at ``position``."""
    size = records.batch_size_at(data, position)
    if size is None or size < records.HEADER_SIZE or position + size > len(data):
        raise BrokerError(ErrorCode.corrupt_message, "truncated record batch")
    header = records.read_header(data, position)
    if header.magic != records.MAGIC_V2:
        raise BrokerError(
            ErrorCode.unsupported_for_message_format, f"record batch magic {header.magic}"
        )
    if verify_crc and not records.crc_ok(data, header):
        raise BrokerError(ErrorCode.corrupt_message, "record batch CRC-32C mismatch")
    payload = records_payload(data, header, max_decompressed=max_decompressed)
    return DecodedBatch(header, decode_records(payload, header.record_count))


def decode_batches(data: Buffer, *, verify_crc: bool = False) -> Iterator[DecodedBatch]:
    """Every whole batch in ``data`` (a log read or a produce request's records)."""
    for header in records.iter_batches(data):
        yield decode_batch(data, header.position, verify_crc=verify_crc)


# --- encoding --------------------------------------------------------------------------

_NULL: Final = write_varint(-1)
_ATTRIBUTES: Final = [bytes((value,)) for value in range(256)]


def encode_records(batch_records: Sequence[Record]) -> bytes:
    """The uncompressed records section for ``batch_records``."""
    varint = write_varint
    null = _NULL
    attribute_bytes = _ATTRIBUTES
    parts: list[bytes] = []
    extend = parts.extend
    for record in batch_records:
        key = record.key
        value = record.value
        body = [
            attribute_bytes[record.attributes & 0xFF],
            varint(record.timestamp_delta),
            varint(record.offset_delta),
        ]
        if key is None:
            body.append(null)
        else:
            body += (varint(len(key)), key)
        if value is None:
            body.append(null)
        else:
            body += (varint(len(value)), value)
        headers = record.headers
        body.append(varint(len(headers)))
        for header_key, header_value in headers:
            body += (varint(len(header_key)), header_key)
            if header_value is None:
                body.append(null)
            else:
                body += (varint(len(header_value)), header_value)
        extend((varint(sum(map(len, body))), *body))
    return b"".join(parts)


def encode_batch(
    batch_records: Sequence[Record],
    *,
    base_timestamp: int,
    base_offset: int = 0,
    codec: int = compression.NONE,
    level: int | None = None,
    attributes: int = 0,
    last_offset_delta: int | None = None,
    max_timestamp: int | None = None,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    partition_leader_epoch: int = -1,
) -> bytes:
    """A whole RecordBatch v2 holding ``batch_records``, compressed with ``codec``.

    ``attributes`` carries the non-codec bits (timestamp type, transactional, control);
    its codec bits are replaced by ``codec``. ``last_offset_delta`` defaults to the
    largest record offset delta and ``max_timestamp`` to the latest record timestamp
    (give both for an empty batch, or when the cleaner keeps a batch's original range).
    """
    if last_offset_delta is None:
        if not batch_records:
            raise ValueError("an empty batch needs an explicit last_offset_delta")
        last_offset_delta = max(r.offset_delta for r in batch_records)
    if max_timestamp is None:
        max_timestamp = base_timestamp + max((r.timestamp_delta for r in batch_records), default=0)
    payload = compression.compress(codec, encode_records(batch_records), level=level)
    return _assemble(
        payload,
        attributes=(attributes & ~records.ATTR_COMPRESSION_MASK) | codec,
        last_offset_delta=last_offset_delta,
        base_timestamp=base_timestamp,
        max_timestamp=max_timestamp,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        record_count=len(batch_records),
        base_offset=base_offset,
        partition_leader_epoch=partition_leader_epoch,
    )


def _assemble(
    payload: bytes,
    *,
    attributes: int,
    last_offset_delta: int,
    base_timestamp: int,
    max_timestamp: int,
    producer_id: int,
    producer_epoch: int,
    base_sequence: int,
    record_count: int,
    base_offset: int,
    partition_leader_epoch: int,
) -> bytes:
    covered = (
        _POST_CRC.pack(
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            record_count,
        )
        + payload
    )
    crc = crc32c.crc32c(covered)
    return (
        _PRE_CRC.pack(
            base_offset,
            len(covered) + _BATCH_LENGTH_EXTRA,
            partition_leader_epoch,
            records.MAGIC_V2,
            crc,
        )
        + covered
    )


def recompress_batch(
    data: Buffer,
    header: BatchHeader,
    codec: int,
    *,
    level: int | None = None,
    max_decompressed: int = compression.DEFAULT_MAX_DECOMPRESSED,
) -> bytes:
    """The batch at ``header`` with its records re-encoded under ``codec``; every header
    field but the codec bits, the length and the CRC is kept (offsets, timestamps,
    producer id/epoch/sequence, transactional and timestamp-type bits).

    The records are fully decoded first (a malformed record fails here rather than
    reaching the log), then the unchanged records section is compressed: this costs
    CPU (decompress, a Python pass over every record, compress again).
    """
    payload = records_payload(data, header, max_decompressed=max_decompressed)
    decode_records(payload, header.record_count)
    return _assemble(
        compression.compress(codec, payload, level=level),
        attributes=(header.attributes & ~records.ATTR_COMPRESSION_MASK) | codec,
        last_offset_delta=header.last_offset_delta,
        base_timestamp=header.base_timestamp,
        max_timestamp=header.max_timestamp,
        producer_id=header.producer_id,
        producer_epoch=header.producer_epoch,
        base_sequence=header.base_sequence,
        record_count=header.record_count,
        base_offset=header.base_offset,
        partition_leader_epoch=header.partition_leader_epoch,
    )
