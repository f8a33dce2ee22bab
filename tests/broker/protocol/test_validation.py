"""Produce validation with a topic's settings (Kafka's LogValidator, as chosen here):
timestamps, keys on compacted topics, inner records of compressed batches, LogAppendTime
stamping and recompression to the topic's compression.type."""

from __future__ import annotations

import struct

import crc32c
import pytest

from broker.errors import BrokerError, ErrorCode
from broker.protocol import compression, record_codec, records
from broker.protocol.record_codec import Record
from broker.storage.log_config import LogConfig, TimestampType

NOW = 1_700_000_000_000
HOUR = 3_600_000
CODECS = [compression.GZIP, compression.SNAPPY, compression.LZ4, compression.ZSTD]


def batch(
    keys: list[bytes | None] | None = None,
    *,
    codec: int = compression.NONE,
    base_timestamp: int = NOW,
    offset_deltas: list[int] | None = None,
    value: bytes = b"value",
) -> bytes:
    keys = keys if keys is not None else [b"k0", b"k1", b"k2"]
    deltas = offset_deltas if offset_deltas is not None else list(range(len(keys)))
    return record_codec.encode_batch(
        [Record(d, i, k, value) for i, (d, k) in enumerate(zip(deltas, keys, strict=True))],
        base_timestamp=base_timestamp,
        codec=codec,
        last_offset_delta=len(keys) - 1,
    )


def rejected(data: bytes, config: LogConfig, **kwargs: object) -> BrokerError:
    with pytest.raises(BrokerError) as info:
        records.validate_produce_batches(data, log_config=config, now_ms=NOW, **kwargs)  # type: ignore[arg-type]
    return info.value


# --- compatibility ---------------------------------------------------------------------


def test_max_message_bytes_alone_keeps_header_only_validation() -> None:
    keyless = batch([None, None])
    (header,) = records.validate_produce_batches(keyless, max_message_bytes=1 << 20)
    assert header.record_count == 2


def test_max_message_bytes_defaults_to_the_topics() -> None:
    error = rejected(batch(value=b"x" * 2000), LogConfig(max_message_bytes=1000))
    assert error.code == ErrorCode.message_too_large


# --- timestamps ------------------------------------------------------------------------


def test_create_time_within_bounds_is_accepted() -> None:
    config = LogConfig(message_timestamp_before_max_ms=HOUR, message_timestamp_after_max_ms=HOUR)
    records.validate_produce_batches(
        batch(base_timestamp=NOW - HOUR + 10), log_config=config, now_ms=NOW
    )


def test_create_time_too_far_in_the_past_is_invalid_timestamp() -> None:
    config = LogConfig(message_timestamp_before_max_ms=HOUR)
    error = rejected(batch(base_timestamp=NOW - HOUR - 1), config)
    assert error.code == ErrorCode.invalid_timestamp


def test_create_time_too_far_in_the_future_is_invalid_timestamp() -> None:
    config = LogConfig(message_timestamp_after_max_ms=HOUR)
    # base is fine; the last record (delta 2) pushes max_timestamp over the bound
    error = rejected(batch(base_timestamp=NOW + HOUR - 1), config)
    assert error.code == ErrorCode.invalid_timestamp


def test_default_bounds_accept_any_timestamp() -> None:
    records.validate_produce_batches(batch(base_timestamp=0), log_config=LogConfig(), now_ms=NOW)


def test_log_append_time_topics_do_not_check_client_timestamps() -> None:
    config = LogConfig(
        message_timestamp_type=TimestampType.LOG_APPEND_TIME, message_timestamp_before_max_ms=1
    )
    records.validate_produce_batches(batch(base_timestamp=0), log_config=config, now_ms=NOW)


# --- keys on compacted topics ----------------------------------------------------------

COMPACT = LogConfig(cleanup_policy=frozenset({"compact"}))


@pytest.mark.parametrize("codec", [compression.NONE, *CODECS], ids=compression.CODEC_NAMES.get)
def test_compacted_topic_rejects_keyless_records_naming_them(codec: int) -> None:
    error = rejected(batch([b"a", None, b"c", None], codec=codec), COMPACT)
    assert error.code == ErrorCode.invalid_record
    assert [index for index, _ in error.record_errors] == [1, 3]  # type: ignore[attr-defined]


@pytest.mark.parametrize("codec", [compression.NONE, *CODECS], ids=compression.CODEC_NAMES.get)
def test_compacted_topic_accepts_keyed_records(codec: int) -> None:
    records.validate_produce_batches(batch(codec=codec), log_config=COMPACT, now_ms=NOW)


def test_delete_topic_accepts_keyless_records() -> None:
    records.validate_produce_batches(batch([None, None]), log_config=LogConfig(), now_ms=NOW)


# --- inner records ---------------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_compressed_batch_with_non_contiguous_offset_deltas_is_invalid_record(codec: int) -> None:
    data = batch([b"a", b"b", b"c"], codec=codec, offset_deltas=[0, 2, 2])
    assert rejected(data, LogConfig()).code == ErrorCode.invalid_record


def _with_record_count(data: bytes, count: int) -> bytes:
    """Rewrite record_count and last_offset_delta (header-consistent) with a valid CRC."""
    out = bytearray(data)
    struct.pack_into(">i", out, 23, count - 1)
    struct.pack_into(">i", out, 57, count)
    struct.pack_into(">I", out, 17, crc32c.crc32c(bytes(out[21:])))
    return bytes(out)


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_compressed_batch_holding_fewer_records_than_declared_is_invalid_record(
    codec: int,
) -> None:
    data = _with_record_count(batch(codec=codec), 4)
    assert rejected(data, LogConfig()).code == ErrorCode.invalid_record


def test_uncompressed_batch_is_walked_on_every_topic() -> None:
    """Every record of an uncompressed batch is checked too, as Kafka does (it was
    header + CRC only, so a batch with a correct CRC but bad records was stored)."""
    data = _with_record_count(batch(), 4)
    assert rejected(data, LogConfig()).code == ErrorCode.invalid_record
    assert rejected(data, COMPACT).code == ErrorCode.invalid_record


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_compressed_payload_that_does_not_decompress_is_corrupt_message(codec: int) -> None:
    good = batch(codec=codec)
    out = bytearray(good[: records.HEADER_SIZE]) + b"\x00garbage, not compressed" * 4
    struct.pack_into(">i", out, 8, len(out) - records.LOG_OVERHEAD)
    struct.pack_into(">I", out, 17, crc32c.crc32c(bytes(out[21:])))
    assert rejected(bytes(out), LogConfig()).code == ErrorCode.corrupt_message


def test_zstd_is_unsupported_compression_type_before_produce_v7() -> None:
    error = rejected(batch(codec=compression.ZSTD), LogConfig(), allow_zstd=False)
    assert error.code == ErrorCode.unsupported_compression_type


def test_decompression_bomb_is_refused() -> None:
    bomb = batch([b"k"], codec=compression.ZSTD, value=bytes(8 << 20))
    error = rejected(bomb, LogConfig(), max_decompressed_bytes=1 << 20)
    assert error.code == ErrorCode.corrupt_message


# --- LogAppendTime ---------------------------------------------------------------------


@pytest.mark.parametrize("codec", [compression.NONE, compression.LZ4], ids=["none", "lz4"])
def test_log_append_time_sets_max_timestamp_and_the_attribute_with_a_valid_crc(
    codec: int,
) -> None:
    data = batch(codec=codec, base_timestamp=NOW - HOUR) + batch(base_timestamp=NOW - 5)
    headers = records.validate_produce_batches(data, max_message_bytes=1 << 20)

    stamped, new_headers = records.set_log_append_time(data, headers, NOW)

    for before, after in zip(headers, new_headers, strict=True):
        assert records.crc_ok(stamped, after)
        assert after.max_timestamp == NOW
        assert after.attributes == before.attributes | records.ATTR_LOG_APPEND_TIME
        assert after.base_timestamp == before.base_timestamp
        decoded = record_codec.decode_batch(stamped, after.position, verify_crc=True)
        assert [decoded.timestamp(r) for r in decoded.records] == [NOW] * 3
        assert [r.key for r in decoded.records] == [b"k0", b"k1", b"k2"]


def test_prepare_produce_stamps_log_append_time_topics() -> None:
    config = LogConfig(message_timestamp_type=TimestampType.LOG_APPEND_TIME)

    prepared = records.prepare_produce(batch(base_timestamp=5), log_config=config, now_ms=NOW)

    assert prepared.log_append_time_ms == NOW
    assert [h.max_timestamp for h in prepared.headers] == [NOW]
    assert records.crc_ok(prepared.data, prepared.headers[0])


def test_prepare_produce_leaves_create_time_batches_untouched() -> None:
    data = batch(codec=compression.SNAPPY)
    prepared = records.prepare_produce(data, log_config=LogConfig(), now_ms=NOW)
    assert prepared.data == data
    assert prepared.log_append_time_ms is None
    assert not prepared.recompressed


# --- recompression ---------------------------------------------------------------------


@pytest.mark.parametrize("target", ["uncompressed", "gzip", "snappy", "lz4", "zstd"])
@pytest.mark.parametrize("source", [compression.NONE, *CODECS], ids=compression.CODEC_NAMES.get)
def test_topic_compression_type_recompresses_every_other_codec(source: int, target: str) -> None:
    data = batch(codec=source) + batch([b"x"], codec=compression.NONE)
    config = LogConfig(compression_type=target)

    prepared = records.prepare_produce(data, log_config=config, now_ms=NOW)

    want = compression.topic_codec(target)
    assert [h.compression for h in prepared.headers] == [want, want]
    decoded = list(record_codec.decode_batches(prepared.data, verify_crc=True))
    assert [[r.key for r in b.records] for b in decoded] == [[b"k0", b"k1", b"k2"], [b"x"]]
    assert prepared.recompressed == (source != want or want != compression.NONE)


def test_producer_compression_type_keeps_the_producers_codec() -> None:
    data = batch(codec=compression.GZIP)
    prepared = records.prepare_produce(
        data, log_config=LogConfig(compression_type="producer"), now_ms=NOW
    )
    assert prepared.data == data


def test_recompression_with_log_append_time_stamps_the_new_batch() -> None:
    config = LogConfig(
        compression_type="zstd", message_timestamp_type=TimestampType.LOG_APPEND_TIME
    )
    prepared = records.prepare_produce(batch(codec=compression.GZIP), log_config=config, now_ms=NOW)
    (header,) = prepared.headers
    assert header.compression == compression.ZSTD
    assert header.max_timestamp == NOW
    assert header.attributes & records.ATTR_LOG_APPEND_TIME
    assert records.crc_ok(prepared.data, header)


def test_batch_that_grows_past_max_message_bytes_when_recompressed_is_message_too_large() -> None:
    data = batch([b"k"], codec=compression.ZSTD, value=b"z" * 50_000)
    config = LogConfig(compression_type="uncompressed", max_message_bytes=10_000)
    with pytest.raises(BrokerError) as info:
        records.prepare_produce(data, log_config=config, now_ms=NOW)
    assert info.value.code == ErrorCode.message_too_large
