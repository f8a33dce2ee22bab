"""Records inside a RecordBatch v2: round trips under every codec, and agreement with
two independent implementations (kio's readers/writers, kafka-python's record batch)."""

from __future__ import annotations

import datetime
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kio.records.readers import read_batch
from kio.records.schema import NewRecordBatch, RecordHeader
from kio.records.schema import Record as KioRecord
from kio.records.writers import write_new_batch
from kio.serial.readers import read_signed_varlong
from kio.serial.writers import write_signed_varlong

from broker.errors import BrokerError, ErrorCode
from broker.protocol import compression, record_codec, records
from broker.protocol.record_codec import Record

CODECS = [compression.NONE, compression.GZIP, compression.SNAPPY, compression.LZ4, compression.ZSTD]
BASE_TS = 1_700_000_000_000

nullable_bytes = st.none() | st.binary(max_size=300)
headers = st.lists(st.tuples(st.binary(min_size=0, max_size=20), nullable_bytes), max_size=4).map(
    tuple
)


@st.composite
def record_lists(draw: st.DrawFn, *, contiguous: bool = True) -> list[Record]:
    count = draw(st.integers(min_value=1, max_value=40))
    if contiguous:
        offsets = list(range(count))
    else:  # what the log cleaner leaves: increasing, with gaps
        gaps = draw(st.lists(st.integers(0, 10_000), min_size=count, max_size=count))
        offsets = [sum(gaps[: i + 1]) + i for i in range(count)]
    return [
        Record(
            offset_delta=offset,
            timestamp_delta=draw(st.integers(-(2**40), 2**40)),
            key=draw(nullable_bytes),
            value=draw(nullable_bytes),
            headers=draw(headers),
            attributes=draw(st.integers(-128, 127)),
        )
        for offset in offsets
    ]


@settings(max_examples=80, deadline=None)
@given(batch_records=record_lists(contiguous=False), codec=st.sampled_from(CODECS))
def test_encode_then_decode_returns_the_records_under_every_codec(
    batch_records: list[Record], codec: int
) -> None:
    data = record_codec.encode_batch(batch_records, base_timestamp=BASE_TS, codec=codec)

    decoded = record_codec.decode_batch(data, verify_crc=True)

    assert decoded.records == batch_records
    assert decoded.header.compression == codec
    assert decoded.header.record_count == len(batch_records)
    assert decoded.header.last_offset_delta == batch_records[-1].offset_delta
    assert decoded.header.max_timestamp == BASE_TS + max(r.timestamp_delta for r in batch_records)
    assert decoded.header.size == len(data)


@settings(max_examples=200, deadline=None)
@given(value=st.integers(-(2**63), 2**63 - 1))
def test_varints_agree_with_kio_for_the_whole_int64_range(value: int) -> None:
    ours = record_codec.write_varint(value)
    buffer = io.BytesIO()
    write_signed_varlong(buffer, value)
    assert ours == buffer.getvalue()
    assert record_codec.read_varint(ours, 0) == (value, len(ours))
    assert read_signed_varlong(ours, 0) == (value, len(ours))


def _kio_batch(batch_records: list[Record]) -> bytes:
    kio_records = tuple(
        KioRecord(
            attributes=0,
            timestamp=datetime.datetime.fromtimestamp(
                (BASE_TS + r.timestamp_delta) / 1000, datetime.UTC
            ),
            offset=r.offset_delta,
            key=r.key,
            value=r.value,
            headers=tuple(RecordHeader(key=k, value=v) for k, v in r.headers),
        )
        for r in batch_records
    )
    buffer = io.BytesIO()
    write_new_batch(
        buffer,
        NewRecordBatch(
            producer_id=-1, producer_epoch=-1, base_sequence=-1, records=kio_records, attributes=0
        ),
    )
    return buffer.getvalue()


@settings(max_examples=50, deadline=None)
@given(batch_records=record_lists())
def test_decode_reads_batches_written_by_kio(batch_records: list[Record]) -> None:
    data = _kio_batch(batch_records)

    decoded = record_codec.decode_batch(data, verify_crc=True)

    # kio writes each timestamp as int(datetime.timestamp() * 1000)
    expected_ts = [
        int(
            datetime.datetime.fromtimestamp(
                (BASE_TS + r.timestamp_delta) / 1000, datetime.UTC
            ).timestamp()
            * 1000
        )
        for r in batch_records
    ]
    assert [decoded.timestamp(r) for r in decoded.records] == expected_ts
    assert [decoded.offset(r) for r in decoded.records] == [r.offset_delta for r in batch_records]
    assert [(r.key, r.value, r.headers) for r in decoded.records] == [
        (r.key, r.value, r.headers) for r in batch_records
    ]


@settings(max_examples=50, deadline=None)
@given(batch_records=record_lists())
def test_kio_reads_uncompressed_batches_encoded_here(batch_records: list[Record]) -> None:
    positive = [
        Record(r.offset_delta, abs(r.timestamp_delta) % 10**9, r.key, r.value, r.headers)
        for r in batch_records
    ]
    data = record_codec.encode_batch(positive, base_timestamp=BASE_TS, base_offset=100)

    batch, size = read_batch(data, 0)  # verifies the CRC and the lengths

    assert size == len(data)
    assert [r.offset for r in batch.records] == [100 + r.offset_delta for r in positive]
    assert [(r.key, r.value) for r in batch.records] == [(r.key, r.value) for r in positive]
    assert [tuple((h.key, h.value) for h in r.headers) for r in batch.records] == [
        r.headers for r in positive
    ]
    # kio truncates record timestamps to whole seconds
    assert [int(r.timestamp.timestamp()) for r in batch.records] == [
        (BASE_TS + r.timestamp_delta) // 1000 for r in positive
    ]


def _text_headers(batch_records: list[Record]) -> list[Record]:
    """kafka-python takes header keys as str: keep them valid UTF-8 and values non-null."""
    return [
        Record(
            r.offset_delta,
            r.timestamp_delta,
            r.key,
            r.value,
            tuple((k.hex().encode(), v or b"") for k, v in r.headers),
        )
        for r in batch_records
    ]


def _kafka_python_batch(codec: int, batch_records: list[Record]) -> bytes:
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=codec,
        is_transactional=False,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 24,
    )
    for r in batch_records:
        builder.append(
            r.offset_delta,
            timestamp=BASE_TS + r.timestamp_delta,
            key=r.key,
            value=r.value,
            headers=[(k.decode(), v) for k, v in r.headers],
        )
    return bytes(builder.build())


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
@settings(max_examples=25, deadline=None)
@given(batch_records=record_lists())
def test_decode_reads_kafka_python_batches_of_every_codec(
    codec: int, batch_records: list[Record]
) -> None:
    batch_records = _text_headers(batch_records)
    data = _kafka_python_batch(codec, batch_records)  # uncompressed if it would not shrink

    decoded = record_codec.decode_batch(data, verify_crc=True)

    assert [decoded.timestamp(r) for r in decoded.records] == [
        BASE_TS + r.timestamp_delta for r in batch_records
    ]
    assert [(r.offset_delta, r.key, r.value, r.headers) for r in decoded.records] == [
        (r.offset_delta, r.key, r.value, r.headers) for r in batch_records
    ]


@pytest.mark.parametrize("codec", CODECS[1:], ids=compression.CODEC_NAMES.get)
def test_decode_reads_compressible_kafka_python_batches_in_their_codec(codec: int) -> None:
    batch_records = [
        Record(i, i, b"key-%d" % (i % 7), b"value " * 50, ((b"h", b"x"),)) for i in range(200)
    ]
    data = _kafka_python_batch(codec, batch_records)

    decoded = record_codec.decode_batch(data, verify_crc=True)

    assert decoded.header.compression == codec
    assert decoded.records == batch_records


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
@settings(max_examples=25, deadline=None)
@given(batch_records=record_lists())
def test_kafka_python_reads_batches_encoded_here_with_every_codec(
    codec: int, batch_records: list[Record]
) -> None:
    batch_records = _text_headers(batch_records)
    data = record_codec.encode_batch(
        batch_records, base_timestamp=BASE_TS, base_offset=7, codec=codec
    )

    batch = DefaultRecordBatch(data)

    assert batch.validate_crc()
    assert batch.compression_type == codec
    got = [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in batch]
    assert got == [
        (
            7 + r.offset_delta,
            BASE_TS + r.timestamp_delta,
            r.key,
            r.value,
            [(k.decode(), v) for k, v in r.headers],
        )
        for r in batch_records
    ]


def test_decode_reads_xerial_snappy_batches_from_java_producers() -> None:
    batch_records = [Record(i, i, b"k%d" % i, b"v" * 100) for i in range(50)]
    plain = record_codec.encode_batch(batch_records, base_timestamp=BASE_TS)
    framed = compression.xerial_snappy_compress(plain[records.HEADER_SIZE :], block_size=512)
    header = records.read_header(plain, 0)
    data = record_codec._assemble(
        framed,
        attributes=compression.SNAPPY,
        last_offset_delta=header.last_offset_delta,
        base_timestamp=header.base_timestamp,
        max_timestamp=header.max_timestamp,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        record_count=header.record_count,
        base_offset=0,
        partition_leader_epoch=-1,
    )
    assert record_codec.decode_batch(data, verify_crc=True).records == batch_records


def test_log_append_time_batches_give_every_record_the_max_timestamp() -> None:
    data = record_codec.encode_batch(
        [Record(0, 5, b"k", b"v"), Record(1, 9, b"k", b"v")],
        base_timestamp=BASE_TS,
        attributes=records.ATTR_LOG_APPEND_TIME,
        max_timestamp=BASE_TS + 60_000,
    )
    decoded = record_codec.decode_batch(data)
    assert [decoded.timestamp(r) for r in decoded.records] == [BASE_TS + 60_000] * 2


def test_encode_keeps_producer_fields_and_transactional_bit() -> None:
    data = record_codec.encode_batch(
        [Record(0, 0, b"k", b"v")],
        base_timestamp=BASE_TS,
        codec=compression.LZ4,
        attributes=records.ATTR_TRANSACTIONAL | compression.GZIP,  # codec bits replaced
        producer_id=42,
        producer_epoch=3,
        base_sequence=17,
        partition_leader_epoch=5,
    )
    header = records.read_header(data, 0)
    assert (header.producer_id, header.producer_epoch, header.base_sequence) == (42, 3, 17)
    assert header.attributes == records.ATTR_TRANSACTIONAL | compression.LZ4
    assert header.partition_leader_epoch == 5


def test_empty_batch_needs_explicit_offset_range_and_encodes() -> None:
    with pytest.raises(ValueError):
        record_codec.encode_batch([], base_timestamp=BASE_TS)
    data = record_codec.encode_batch([], base_timestamp=BASE_TS, last_offset_delta=9)
    decoded = record_codec.decode_batch(data, verify_crc=True)
    assert decoded.records == []
    assert decoded.header.last_offset_delta == 9


@pytest.mark.parametrize("codec", CODECS[1:], ids=compression.CODEC_NAMES.get)
def test_recompress_batch_keeps_header_fields_and_records(codec: int) -> None:
    batch_records = [Record(i, i * 10, b"key-%d" % i, b"value" * 20) for i in range(30)]
    original = record_codec.encode_batch(
        batch_records,
        base_timestamp=BASE_TS,
        base_offset=1000,
        producer_id=9,
        producer_epoch=1,
        base_sequence=4,
        attributes=records.ATTR_TRANSACTIONAL,
    )
    before = records.read_header(original, 0)

    data = record_codec.recompress_batch(original, before, codec)

    after = record_codec.decode_batch(data, verify_crc=True)
    assert after.records == batch_records
    assert after.header.compression == codec
    keep = (
        "base_offset",
        "last_offset_delta",
        "base_timestamp",
        "max_timestamp",
        "producer_id",
        "producer_epoch",
        "base_sequence",
        "record_count",
        "partition_leader_epoch",
    )
    assert {f: getattr(after.header, f) for f in keep} == {f: getattr(before, f) for f in keep}
    assert after.header.attributes & ~records.ATTR_COMPRESSION_MASK == records.ATTR_TRANSACTIONAL


def test_decode_batches_reads_every_batch_of_a_buffer() -> None:
    first = record_codec.encode_batch([Record(0, 0, b"a", b"1")], base_timestamp=BASE_TS)
    second = record_codec.encode_batch(
        [Record(0, 0, b"b", b"2"), Record(1, 0, b"c", b"3")],
        base_timestamp=BASE_TS,
        base_offset=1,
        codec=compression.ZSTD,
    )
    decoded = list(record_codec.decode_batches(first + second, verify_crc=True))
    assert [[(b.offset(r), r.key) for r in b.records] for b in decoded] == [
        [(0, b"a")],
        [(1, b"b"), (2, b"c")],
    ]


# --- malformed records -----------------------------------------------------------------

SECTION = record_codec.encode_records([Record(i, 0, b"k", b"value") for i in range(3)])


def _rejected(call: object, *args: object, **kwargs: object) -> BrokerError:
    with pytest.raises(BrokerError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value


def test_fewer_records_than_declared_is_invalid_record() -> None:
    assert _rejected(record_codec.decode_records, SECTION, 4).code == ErrorCode.invalid_record


def test_bytes_after_the_declared_records_are_invalid_record() -> None:
    assert _rejected(record_codec.decode_records, SECTION, 2).code == ErrorCode.invalid_record


def test_truncated_record_is_invalid_record() -> None:
    error = _rejected(record_codec.decode_records, SECTION[:-3], 3)
    assert error.code == ErrorCode.invalid_record


def test_record_length_that_disagrees_with_its_fields_is_invalid_record() -> None:
    broken = bytes([SECTION[0] + 2]) + SECTION[1:]  # zigzag length + 1
    assert _rejected(record_codec.decode_records, broken, 3).code == ErrorCode.invalid_record


def test_overlong_varint_is_invalid_record() -> None:
    assert _rejected(record_codec.read_varint, b"\xff" * 11, 0).code == ErrorCode.invalid_record
