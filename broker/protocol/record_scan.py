"""Every record of a produced batch checked, as Kafka's LogValidator does, at C speed.

A batch's CRC proves its bytes are what the producer built, not that they are records:
a client can send a correct CRC over a record that claims 17 headers it lacks, a
record length running past the batch, or a header claiming 5 records while holding 1.
Stored, such a batch breaks every reader after it (a consumer stops at its offset for
ever; a timestamp lookup cannot walk it). Kafka walks every record of every batch on
produce (``DefaultRecord.readFrom`` inside ``LogValidator``) and refuses the request
with INVALID_RECORD (``InvalidRecordException``); so does this module.

:func:`validate_records` scans a batch's (decompressed) records section in one pass,
building nothing per record, and checks, for each of the ``count`` records the header
declares:

- the record length is a varint of at most 5 bytes, at least 6 (attributes + five
  one-byte varints) and inside the batch;
- timestamp delta (varlong, at most 10 bytes), offset delta, key length, value length,
  header count and every header's key and value lengths are well-formed varints;
- key and value lengths are -1 (null) or fit in the record; header keys are never
  null, header values may be; the header count is not negative and fits the record;
- the fields fill the record exactly (no bytes missing, none left over);
- the records fill the section exactly (no fewer records, no trailing bytes);
- offset deltas run 0..count-1 (INVALID_RECORD naming each record that does not:
  consumers compute offsets from them), and on compacted topics no key is null.

It returns the smallest and largest timestamp delta, so CreateTime bounds
(``message.timestamp.before/after.max.ms``) are checked for every record's timestamp,
not only the header's. Record attributes are not checked (unused; Kafka ignores them).

The scan runs in C (``_record_scan.c``, built by ``pip install`` through setuptools'
``ext_modules``): about 10 ns a record, against ~0.4 us a record for the same walk in
Python (``scan_records_py``; docs/benchmarks.md has the figures). The extension is
marked optional, so an install where it cannot be compiled still works, on the
pure-Python scan, and says so at start-up (:data:`IMPLEMENTATION`). Tests run both on
the same inputs and require the same verdicts. numpy was not an option worth measuring
further: each record's start depends on the previous record's varint length, a
sequential chain a vectorised pass cannot split without a Python loop per record.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

from broker.errors import BrokerError, ErrorCode

log = logging.getLogger(__name__)

Buffer = bytes | bytearray | memoryview
ScanResult = tuple[int, int, list[tuple[int, str]]]
MIN_RECORD_BODY = 6


class InvalidRecords(BrokerError):
    """INVALID_RECORD naming the offending records (Produce v8+ ``record_errors``)."""

    def __init__(self, message: str, record_errors: Sequence[tuple[int, str]]) -> None:
        super().__init__(ErrorCode.invalid_record, message)
        self.record_errors = tuple(record_errors)


def _varint(data: Buffer, pos: int, end: int, max_bytes: int, index: int, what: str):  # type: ignore[no-untyped-def]
    result = shift = 0
    for _ in range(max_bytes):
        if pos >= end:
            raise ValueError(f"record {index}: {what} runs past the record")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            result &= 0xFFFFFFFF if max_bytes == 5 else 0xFFFFFFFFFFFFFFFF  # int32 / int64
            return (result >> 1) ^ -(result & 1), pos
        shift += 7
    raise ValueError(f"record {index}: {what} is not a valid varint")


def scan_records_py(data: Buffer, count: int, require_keys: bool) -> ScanResult:
    """The reference scan, in Python: what ``_record_scan.scan`` does, as slowly as
    Python does it. Raises ValueError for a malformed record."""
    read = _varint
    position = 0
    end = len(data)
    errors: list[tuple[int, str]] = []
    min_ts = max_ts = 0
    for index in range(count):
        if position >= end:
            raise ValueError(f"the batch holds {index} of the {count} records it declares")
        length, position = read(data, position, end, 5, index, "length")
        if length < MIN_RECORD_BODY or length > end - position:
            raise ValueError(f"record {index}: length {length} runs past the batch")
        stop = position + length
        pos = position + 1  # attributes
        position = stop
        timestamp_delta, pos = read(data, pos, stop, 10, index, "timestamp delta")
        offset_delta, pos = read(data, pos, stop, 5, index, "offset delta")
        key_length, pos = read(data, pos, stop, 5, index, "key length")
        if key_length < -1 or key_length > stop - pos:
            raise ValueError(f"record {index}: invalid key length {key_length}")
        pos += max(key_length, 0)
        value_length, pos = read(data, pos, stop, 5, index, "value length")
        if value_length < -1 or value_length > stop - pos:
            raise ValueError(f"record {index}: invalid value length {value_length}")
        pos += max(value_length, 0)
        header_count, pos = read(data, pos, stop, 5, index, "header count")
        if header_count < 0 or header_count > (stop - pos) // 2:
            raise ValueError(f"record {index}: header count {header_count} does not fit")
        for _ in range(header_count):
            size, pos = read(data, pos, stop, 5, index, "header key length")
            if size < 0 or size > stop - pos:
                raise ValueError(f"record {index}: invalid header key")
            pos += size
            size, pos = read(data, pos, stop, 5, index, "header value length")
            if size < -1 or size > stop - pos:
                raise ValueError(f"record {index}: invalid header value")
            pos += max(size, 0)
        if pos != stop:
            raise ValueError(f"record {index}: declares {length} bytes, fields take fewer")
        if index == 0 or timestamp_delta < min_ts:
            min_ts = timestamp_delta
        if index == 0 or timestamp_delta > max_ts:
            max_ts = timestamp_delta
        if offset_delta != index:
            errors.append((index, f"offset delta {offset_delta}, expected {index}"))
        if require_keys and key_length == -1:
            errors.append((index, "Compacted topic cannot accept message without key"))
    if position != end:
        raise ValueError(f"{end - position} bytes after the last of the {count} records")
    return min_ts, max_ts, errors


scan: Callable[[Buffer, int, bool], ScanResult]
try:
    from broker.protocol._record_scan import scan as _c_scan
except ImportError:  # the optional extension could not be built here
    scan = scan_records_py
    IMPLEMENTATION = "python"
else:
    scan = _c_scan
    IMPLEMENTATION = "c"

# For measuring the scan's cost only (bench/validation.py), never in production:
# HEADWATER_RECORD_SCAN=python forces the pure scan; =off skips the scan of uncompressed
# batches on non-compacted topics (the behaviour before every record was checked).
_FORCED = os.environ.get("HEADWATER_RECORD_SCAN", "")
if _FORCED == "python":
    scan = scan_records_py
    IMPLEMENTATION = "python"
SCAN_UNCOMPRESSED = _FORCED != "off"


def validate_records(
    data: Buffer, count: int, *, require_keys: bool = False, scanner=None
) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Check the ``count`` records of a records section; return the smallest and
    largest timestamp delta. Raises INVALID_RECORD (:class:`InvalidRecords` naming the
    records for offset deltas and missing keys)."""
    try:
        min_ts, max_ts, errors = (scanner or scan)(data, count, require_keys)
    except ValueError as exc:
        raise BrokerError(ErrorCode.invalid_record, f"malformed record batch: {exc}") from None
    if errors:
        raise InvalidRecords(
            f"{len(errors)} of {count} records rejected, first: {errors[0][1]}", errors
        )
    return min_ts, max_ts
