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

Produce validation (:func:`validate_produce_batches`, :func:`prepare_produce`) follows
Apache Kafka's LogValidator for magic 2, with the cost of each check chosen on purpose
because it runs in Python on the produce hot path:

- every batch: header fields, CRC-32C (C, ~30 GB/s), size vs ``max.message.bytes``,
  record_count = last_offset_delta + 1 > 0, no control batches, a known codec;
- every record of every batch, compressed (after decompressing it) or not, as Kafka's
  LogValidator walks them: lengths, varints, headers, the declared record count,
  offset deltas 0..n-1, and keys on compacted topics (``cleanup.policy`` has
  ``compact``): :mod:`broker.protocol.record_scan`, a one-pass scan in C that builds
  nothing per record (~10 ns a record; a 16 KiB batch of 100 B records adds ~2 us to
  the ~5 us of header checks and CRC). A malformed record is INVALID_RECORD, as in
  Kafka (``InvalidRecordException``); missing keys and wrong offset deltas name the
  records in ``record_errors``;
- CreateTime timestamps against ``message.timestamp.before.max.ms`` /
  ``after.max.ms``: the header's max_timestamp and every record's (base_timestamp plus
  the smallest and largest delta the scan found) -> INVALID_TIMESTAMP.

:func:`prepare_produce` then applies the topic's settings the way Kafka does:
``message.timestamp.type=LogAppendTime`` rewrites max_timestamp to the append time and
sets attributes bit 3 (inside the CRC: recomputed; base_timestamp and the records'
deltas are left alone, consumers read every record's timestamp from max_timestamp);
a topic ``compression.type`` other than ``producer`` or the batch's codec recompresses
the batch (decompress, decode, compress: **CPU-heavy**, avoid it on busy topics).

This package may not import :mod:`broker.storage` (docs/architecture.md), so topic
settings arrive as any object with :class:`TopicSettings`' attributes;
``broker.storage.log_config.LogConfig`` is one.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import crc32c

from broker.errors import BrokerError, ErrorCode
from broker.protocol import compression, record_scan

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
_OFFSET_FIELDS = struct.Struct(">qii")  # base_offset, batch_length, partition_leader_epoch


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


class TopicSettings(Protocol):
    """The topic settings produce validation reads (``LogConfig`` has them all)."""

    @property
    def compact(self) -> bool: ...
    @property
    def max_message_bytes(self) -> int: ...
    @property
    def message_timestamp_type(self) -> Enum: ...  # value "CreateTime" or "LogAppendTime"
    @property
    def message_timestamp_before_max_ms(self) -> int: ...
    @property
    def message_timestamp_after_max_ms(self) -> int: ...
    @property
    def compression_type(self) -> str: ...


LOG_APPEND_TIME = "LogAppendTime"
NO_TIMESTAMP = -1


def clock_ms() -> int:
    return time.time_ns() // 1_000_000


def is_log_append_time(settings: TopicSettings) -> bool:
    return settings.message_timestamp_type.value == LOG_APPEND_TIME


def validate_produce_batches(
    data: bytes,
    *,
    max_message_bytes: int | None = None,
    log_config: TopicSettings | None = None,
    now_ms: int | None = None,
    allow_zstd: bool = True,
    max_decompressed_bytes: int | None = None,
) -> list[BatchHeader]:
    """Check a client's records as Kafka's LogValidator does for magic 2.

    Without ``log_config`` only header-level checks run (tools that only need the
    headers). With it: every record of every batch (decompressed first), timestamps
    (CreateTime topics, against ``now_ms``, default the clock) and keys on compacted
    topics; see the module docstring. ``max_message_bytes`` defaults to the
    topic's. ``allow_zstd=False`` (Produce < v7) refuses zstd batches with
    UNSUPPORTED_COMPRESSION_TYPE, as Kafka does.

    Raises :class:`BrokerError` with CORRUPT_MESSAGE, INVALID_RECORD (with
    ``record_errors`` when records are named), INVALID_TIMESTAMP,
    UNSUPPORTED_FOR_MESSAGE_FORMAT, UNSUPPORTED_COMPRESSION_TYPE or MESSAGE_TOO_LARGE.
    """
    if max_message_bytes is None:
        if log_config is None:
            raise TypeError("validate_produce_batches needs max_message_bytes or log_config")
        max_message_bytes = log_config.max_message_bytes
    headers = _validate_headers(data, max_message_bytes, allow_zstd)
    if log_config is None:
        return headers
    if max_decompressed_bytes is None:
        max_decompressed_bytes = max(compression.DEFAULT_MAX_DECOMPRESSED, 64 * max_message_bytes)
    compact = log_config.compact
    check_times = not is_log_append_time(log_config)
    view = memoryview(data)
    for header in headers:
        if not (record_scan.SCAN_UNCOMPRESSED or compact or header.compression):
            if check_times:  # benchmark knob: the header-only check of before
                _check_timestamps((header.base_timestamp, header.max_timestamp), log_config, now_ms)
            continue
        records_section = view[header.position + HEADER_SIZE : header.position + header.size]
        if header.compression != compression.NONE:
            records_section = compression.decompress(  # type: ignore[assignment]
                header.compression, records_section, max_size=max_decompressed_bytes
            )
        min_delta, max_delta = record_scan.validate_records(
            records_section, header.record_count, require_keys=compact
        )
        if check_times:
            _check_timestamps(
                (
                    header.max_timestamp,
                    header.base_timestamp + min_delta,
                    header.base_timestamp + max_delta,
                ),
                log_config,
                now_ms,
            )
    return headers


def _check_timestamps(
    timestamps: tuple[int, ...], settings: TopicSettings, now: int | None
) -> None:
    before = settings.message_timestamp_before_max_ms
    after = settings.message_timestamp_after_max_ms
    if now is None:
        now = clock_ms()
    for timestamp in timestamps:
        if timestamp == NO_TIMESTAMP:
            continue
        if now - timestamp > before:
            raise BrokerError(
                ErrorCode.invalid_timestamp,
                f"Timestamp {timestamp} of a record is more than "
                f"message.timestamp.before.max.ms={before} before the broker's {now}",
            )
        if timestamp - now > after:
            raise BrokerError(
                ErrorCode.invalid_timestamp,
                f"Timestamp {timestamp} of a record is more than "
                f"message.timestamp.after.max.ms={after} after the broker's {now}",
            )


def _validate_headers(data: bytes, max_message_bytes: int, allow_zstd: bool) -> list[BatchHeader]:
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
        if header.compression == compression.ZSTD and not allow_zstd:
            raise BrokerError(
                ErrorCode.unsupported_compression_type,
                "zstd record batches need Produce v7 or later",
            )
        headers.append(header)
        position += size
    return headers


def set_log_append_time(
    data: bytes | bytearray, headers: list[BatchHeader], append_time_ms: int
) -> tuple[bytearray, list[BatchHeader]]:
    """Stamp batches with the broker's append time, as Kafka does for LogAppendTime
    topics (``DefaultRecordBatch.setMaxTimestamp``): max_timestamp := ``append_time_ms``
    and attributes bit 3 set, CRC recomputed. base_timestamp and the records' deltas are
    unchanged; consumers take every record's timestamp from max_timestamp.

    Returns the rewritten bytes and their headers.
    """
    buffer = bytearray(data)
    view = memoryview(buffer)
    stamped = []
    for header in headers:
        position = header.position
        struct.pack_into(">h", buffer, position + 21, header.attributes | ATTR_LOG_APPEND_TIME)
        struct.pack_into(">q", buffer, position + 35, append_time_ms)
        crc = crc32c.crc32c(view[position + 21 : position + header.size])
        struct.pack_into(">I", buffer, position + 17, crc)
        stamped.append(read_header(buffer, position))
    view.release()
    return buffer, stamped


def recompress_batches(
    data: bytes | bytearray,
    headers: list[BatchHeader],
    codec: int,
    *,
    max_decompressed_bytes: int = compression.DEFAULT_MAX_DECOMPRESSED,
) -> tuple[bytes, list[BatchHeader]]:
    """Re-encode every batch whose codec is not ``codec`` (a topic's compression.type),
    as Kafka does. COSTS CPU: decompress, decode every record in Python, compress.

    Returns the new bytes and their headers (positions and sizes change).
    """
    from broker.protocol import record_codec

    parts = []
    for header in headers:
        if header.compression == codec:
            parts.append(bytes(data[header.position : header.position + header.size]))
        else:
            parts.append(
                record_codec.recompress_batch(
                    data, header, codec, max_decompressed=max_decompressed_bytes
                )
            )
    out = b"".join(parts)
    return out, list(iter_batches(out))


@dataclass(frozen=True, slots=True)
class PreparedRecords:
    """A produce request's records ready to append: ``data`` and its ``headers``, and
    the append time stamped on them (LogAppendTime topics) for the produce response."""

    data: bytes | bytearray
    headers: list[BatchHeader]
    log_append_time_ms: int | None = None
    recompressed: bool = False


def prepare_produce(
    data: bytes,
    *,
    log_config: TopicSettings,
    now_ms: int | None = None,
    max_message_bytes: int | None = None,
    allow_zstd: bool = True,
    max_decompressed_bytes: int | None = None,
) -> PreparedRecords:
    """Validate a client's records for a topic and apply its settings (Kafka's
    LogValidator): :func:`validate_produce_batches`, then recompression to the topic's
    ``compression.type`` and LogAppendTime stamping where they apply.

    A recompressed batch must still fit ``max.message.bytes`` (MESSAGE_TOO_LARGE).
    """
    if now_ms is None:
        now_ms = clock_ms()
    limit = log_config.max_message_bytes if max_message_bytes is None else max_message_bytes
    if max_decompressed_bytes is None:
        max_decompressed_bytes = max(compression.DEFAULT_MAX_DECOMPRESSED, 64 * limit)
    headers = validate_produce_batches(
        data,
        max_message_bytes=limit,
        log_config=log_config,
        now_ms=now_ms,
        allow_zstd=allow_zstd,
        max_decompressed_bytes=max_decompressed_bytes,
    )
    out: bytes | bytearray = data
    recompressed = False
    target = compression.topic_codec(log_config.compression_type)
    if target is not None and any(h.compression != target for h in headers):
        out, headers = recompress_batches(
            out, headers, target, max_decompressed_bytes=max_decompressed_bytes
        )
        recompressed = True
        for header in headers:
            if header.size > limit:
                raise BrokerError(
                    ErrorCode.message_too_large,
                    f"record batch recompressed to {compression.CODEC_NAMES[target]} is "
                    f"{header.size} bytes, over max.message.bytes {limit}",
                )
    append_time = None
    if is_log_append_time(log_config):
        out, headers = set_log_append_time(out, headers, now_ms)
        append_time = now_ms
    return PreparedRecords(out, headers, append_time, recompressed)


def assign_offsets(
    data: bytes | bytearray | memoryview,
    headers: list[BatchHeader],
    base_offset: int,
    leader_epoch: int,
) -> tuple[list[bytes | memoryview], int]:
    """Rewrite base_offset and partition_leader_epoch (both outside the CRC) of each batch.

    Returns the batches as buffers to write in order, copying no record: per batch its
    first 16 bytes rewritten (base_offset, batch_length, partition_leader_epoch), then
    a view of the rest of ``data``. Also the next offset after the last record.
    """
    view = memoryview(data)
    parts: list[bytes | memoryview] = []
    next_offset = base_offset
    for header in headers:
        parts.append(_OFFSET_FIELDS.pack(next_offset, header.batch_length, leader_epoch))
        parts.append(view[header.position + _OFFSET_FIELDS.size : header.position + header.size])
        next_offset += header.last_offset_delta + 1
    return parts, next_offset
