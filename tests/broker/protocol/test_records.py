from __future__ import annotations

import struct

import pytest

from broker.errors import BrokerError, ErrorCode
from broker.protocol import records
from tests.support.wire import record_batch


def test_validate_accepts_a_client_batch_and_reads_its_header() -> None:
    data = record_batch([(b"k1", b"v1"), (b"k2", None), (None, b"v3")])
    (header,) = records.validate_produce_batches(data, max_message_bytes=1 << 20)
    assert header.record_count == 3
    assert header.last_offset_delta == 2
    assert header.size == len(data)


def test_validate_rejects_a_flipped_bit_as_corrupt_message() -> None:
    data = bytearray(record_batch([(b"k", b"value")]))
    data[-1] ^= 0x01
    with pytest.raises(BrokerError) as info:
        records.validate_produce_batches(bytes(data), max_message_bytes=1 << 20)
    assert info.value.code == ErrorCode.corrupt_message


def test_validate_rejects_a_batch_larger_than_max_message_bytes() -> None:
    data = record_batch([(b"k", b"x" * 2000)])
    with pytest.raises(BrokerError) as info:
        records.validate_produce_batches(data, max_message_bytes=1000)
    assert info.value.code == ErrorCode.message_too_large


def test_validate_rejects_truncated_batches() -> None:
    data = record_batch([(b"k", b"value")])
    with pytest.raises(BrokerError) as info:
        records.validate_produce_batches(data[:-5], max_message_bytes=1 << 20)
    assert info.value.code == ErrorCode.corrupt_message


def test_validate_rejects_control_batches_from_clients() -> None:
    data = bytearray(record_batch([(b"k", b"v")]))
    attributes = struct.unpack_from(">h", data, 21)[0] | records.ATTR_CONTROL
    struct.pack_into(">h", data, 21, attributes)
    import crc32c

    struct.pack_into(">I", data, 17, crc32c.crc32c(bytes(data[21:])))
    with pytest.raises(BrokerError) as info:
        records.validate_produce_batches(bytes(data), max_message_bytes=1 << 20)
    assert info.value.code == ErrorCode.invalid_record


def test_assign_offsets_rewrites_base_offset_outside_the_crc() -> None:
    data = record_batch([(b"a", b"1"), (b"b", b"2")]) + record_batch([(b"c", b"3")])
    headers = records.validate_produce_batches(data, max_message_bytes=1 << 20)
    parts, next_offset = records.assign_offsets(data, headers, 40, leader_epoch=3)
    rewritten = b"".join(parts)
    assert next_offset == 43
    again = list(records.iter_batches(rewritten))
    assert [h.base_offset for h in again] == [40, 42]
    assert [h.partition_leader_epoch for h in again] == [3, 3]
    assert all(records.crc_ok(rewritten, h) for h in again)
    # everything but the rewritten fields is the client's bytes, untouched
    for old, new in zip(headers, again, strict=True):
        assert (
            rewritten[new.position + 16 : new.position + new.size]
            == (data[old.position + 16 : old.position + old.size])
        )
    assert [h.partition_leader_epoch for h in again] == [3, 3]
    assert all(records.crc_ok(rewritten, h) for h in again)
