"""Record batches with a correct CRC around malformed records, as a hostile client builds.

Each entry of :data:`CRAFTED` is a records section (what follows the 61-byte batch
header, before compression) and the record count the header declares. Records are
spelled out field by field with zigzag varints (Kafka's DefaultRecord layout), so each
case says exactly what is wrong. :func:`crafted_batch` wraps one in a RecordBatch v2
with a correct CRC, compressed with any codec.
"""

from __future__ import annotations

import time

from broker.protocol import compression, record_codec

varint = record_codec.write_varint


def record_body(
    *,
    offset_delta: int = 0,
    key: bytes | None = b"k",
    value: bytes | None = b"value",
    headers: list[tuple[bytes, bytes | None]] | None = None,
    header_count: int | None = None,
    timestamp_delta: bytes | None = None,
) -> bytes:
    """A record's fields after its length: attributes, deltas, key, value, headers.
    ``header_count`` overrides the count written (to claim headers that are absent);
    ``timestamp_delta`` replaces that varint's bytes."""
    headers = headers or []
    out = b"\x00" + (timestamp_delta if timestamp_delta is not None else varint(0))
    out += varint(offset_delta)
    out += varint(-1) if key is None else varint(len(key)) + key
    out += varint(-1) if value is None else varint(len(value)) + value
    out += varint(len(headers) if header_count is None else header_count)
    for header_key, header_value in headers:
        out += varint(len(header_key)) + header_key
        out += varint(-1) if header_value is None else varint(len(header_value)) + header_value
    return out


def record(body: bytes, *, length: int | None = None) -> bytes:
    """``body`` prefixed with its length (or a different one)."""
    return varint(len(body) if length is None else length) + body


def good(count: int) -> bytes:
    return b"".join(record(record_body(offset_delta=i)) for i in range(count))


# name -> (records section, declared record count)
CRAFTED: dict[str, tuple[bytes, int]] = {
    # the three: claimed headers that are absent, a length past the batch,
    # and a header that claims more records than the batch holds
    "claims_17_headers_it_lacks": (record(record_body(header_count=17)), 1),
    "record_length_past_the_batch": (record(record_body(), length=200), 1),
    "claims_5_records_holds_1": (good(1), 5),
    "bytes_after_the_last_record": (good(1) + b"\x00\x00\x00", 1),
    "fields_short_of_the_record_length": (record(record_body() + b"\x00\x00"), 1),
    "record_length_negative": (varint(-5) + record_body(), 1),
    "timestamp_delta_overlong_varint": (record(record_body(timestamp_delta=b"\xff" * 11)), 1),
    "key_length_below_minus_one": (
        record(b"\x00" + varint(0) + varint(0) + varint(-7) + varint(-1) + varint(0)),
        1,
    ),
    "header_key_null": (record(record_body(headers=[(b"h", b"v")]).replace(b"\x02h", b"\x01h")), 1),
    "header_count_negative": (record(record_body(header_count=-3)), 1),
    "offset_deltas_not_0_to_n": (
        record(record_body(offset_delta=0)) + record(record_body(offset_delta=5)),
        2,
    ),
}


def crafted_batch(
    section: bytes, count: int, *, codec: int = compression.NONE, base_timestamp: int | None = None
) -> bytes:
    """A RecordBatch v2 around ``section`` with a correct CRC (codec applied to it)."""
    return record_codec._assemble(
        compression.compress(codec, section),
        attributes=codec,
        last_offset_delta=count - 1,
        base_timestamp=int(time.time() * 1000) if base_timestamp is None else base_timestamp,
        max_timestamp=int(time.time() * 1000) if base_timestamp is None else base_timestamp,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        record_count=count,
        base_offset=0,
        partition_leader_epoch=-1,
    )
