"""RecordBatch v2 (magic 2): the unit clients produce, the log stores and fetch returns.

Layout of the 61-byte batch header (big-endian)::

    0  base_offset i64          (rewritten by the broker; outside the CRC)
    8  batch_length i32         (bytes after this field)
    12 partition_leader_epoch i32 (outside the CRC)
    16 magic i8 = 2
    17 crc u32                  CRC-32C of bytes 21..end
    21 attributes i16           bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control
    23 last_offset_delta i32
    27 base_timestamp i64
    35 max_timestamp i64
    43 producer_id i64
    51 producer_epoch i16
    53 base_sequence i32
    57 record_count i32
    61 records...

The broker never decodes individual records on the produce path: it validates the
header and CRC, then rewrites base_offset in place.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import crc32c

from broker.errors import BrokerError, ErrorCode

HEADER_SIZE = 61
LOG_OVERHEAD = 12  # base_offset + batch_length: what precedes the length-counted part
MAGIC_V2 = 2

ATTR_COMPRESSION_MASK = 0x07
ATTR_LOG_APPEND_TIME = 0x08
ATTR_TRANSACTIONAL = 0x10
ATTR_CONTROL = 0x20

_HEADER = struct.Struct(">qiibIhiqqqhii")
_BASE_OFFSET = struct.Struct(">q")
_LENGTH = struct.Struct(">i")


@dataclass(frozen=True, slots=True)
class BatchHeader:
    position: int  # where the batch starts within the buffer it was read from
    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @property
    def size(self) -> int:
        """Bytes the whole batch occupies, header included."""
        return LOG_OVERHEAD + self.batch_length

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & ATTR_CONTROL)

    @property
    def compression(self) -> int:
        return self.attributes & ATTR_COMPRESSION_MASK


def read_header(data: bytes | bytearray | memoryview, position: int) -> BatchHeader:
    return BatchHeader(position, *_HEADER.unpack_from(data, position))


def batch_size_at(data: bytes | bytearray | memoryview, position: int) -> int | None:
    """Total size of the batch starting at ``position``, or None if its length field is
    not fully present."""
    if len(data) - position < LOG_OVERHEAD:
        return None
    return LOG_OVERHEAD + _LENGTH.unpack_from(data, position + 8)[0]


def crc_ok(data: bytes | bytearray | memoryview, header: BatchHeader) -> bool:
    view = memoryview(data)[header.position + 21 : header.position + header.size]
    return crc32c.crc32c(view) == header.crc


def iter_batches(data: bytes | bytearray | memoryview) -> Iterator[BatchHeader]:
    """Headers of the whole batches in ``data``; stops at the first incomplete one."""
    position = 0
    end = len(data)
    while end - position >= HEADER_SIZE:
        size = batch_size_at(data, position)
        if size is None or size < HEADER_SIZE or position + size > end:
            return
        yield read_header(data, position)
        position += size


def validate_produce_batches(data: bytes, *, max_message_bytes: int) -> list[BatchHeader]:
    """Check a client's records as Kafka's LogValidator does for magic 2 (header level).

    Raises :class:`BrokerError` with CORRUPT_MESSAGE, INVALID_RECORD,
    UNSUPPORTED_FOR_MESSAGE_FORMAT or MESSAGE_TOO_LARGE.
    """
    headers: list[BatchHeader] = []
    position = 0
    end = len(data)
    if end == 0:
        raise BrokerError(ErrorCode.corrupt_message, "empty record set")
    while position < end:
        if end - position < HEADER_SIZE:
            raise BrokerError(ErrorCode.corrupt_message, "truncated record batch header")
        size = batch_size_at(data, position)
        assert size is not None
        if size < HEADER_SIZE or position + size > end:
            raise BrokerError(ErrorCode.corrupt_message, f"record batch length {size} is invalid")
        header = read_header(data, position)
        if header.magic != MAGIC_V2:
            raise BrokerError(
                ErrorCode.unsupported_for_message_format,
                f"record batch magic {header.magic} is not supported (only v2)",
            )
        if size > max_message_bytes:
            raise BrokerError(
                ErrorCode.message_too_large,
                f"record batch of {size} bytes exceeds max.message.bytes {max_message_bytes}",
            )
        if not crc_ok(data, header):
            raise BrokerError(ErrorCode.corrupt_message, "record batch CRC-32C mismatch")
        if header.record_count <= 0 or header.record_count != header.last_offset_delta + 1:
            raise BrokerError(
                ErrorCode.invalid_record,
                f"record_count {header.record_count} does not match "
                f"last_offset_delta {header.last_offset_delta}",
            )
        if header.is_control:
            raise BrokerError(ErrorCode.invalid_record, "clients may not write control batches")
        if header.compression > 4:
            raise BrokerError(ErrorCode.corrupt_message, f"unknown codec {header.compression}")
        headers.append(header)
        position += size
    return headers


def assign_offsets(
    data: bytes, headers: list[BatchHeader], base_offset: int, leader_epoch: int
) -> tuple[bytearray, int]:
    """Rewrite base_offset and partition_leader_epoch (both outside the CRC) of each batch.

    Returns the rewritten bytes and the next offset after the last record.
    """
    buffer = bytearray(data)
    next_offset = base_offset
    for header in headers:
        struct.pack_into(
            ">qii", buffer, header.position, next_offset, header.batch_length, leader_epoch
        )
        next_offset += header.last_offset_delta + 1
    return buffer, next_offset
