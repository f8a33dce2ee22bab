"""The four Kafka codecs: round trips, both snappy framings, what each client library
reads, corrupt input and decompression bombs."""

from __future__ import annotations

import gzip
import struct

import aiokafka.codec
import kafka.codec
import lz4.frame
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.errors import BrokerError, ErrorCode
from broker.protocol import compression

CODECS = [compression.GZIP, compression.SNAPPY, compression.LZ4, compression.ZSTD]
PAYLOAD = b"".join(b"record-%05d:" % i + bytes(range(i % 256)) for i in range(400))


def _compressible(data: bytes) -> bytes:
    return data * 3 + b"\x00" * 1000


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=4096), codec=st.sampled_from([compression.NONE, *CODECS]))
def test_compress_then_decompress_returns_the_bytes_for_every_codec(
    data: bytes, codec: int
) -> None:
    assert compression.decompress(codec, compression.compress(codec, data)) == data


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_decompress_accepts_memoryview_and_bytearray(codec: int) -> None:
    compressed = compression.compress(codec, PAYLOAD)
    assert compression.decompress(codec, memoryview(compressed)) == PAYLOAD
    assert compression.decompress(codec, bytearray(compressed)) == PAYLOAD


def test_snappy_decompress_reads_xerial_framed_blocks_as_java_writes_them() -> None:
    framed = compression.xerial_snappy_compress(PAYLOAD, block_size=1000)
    assert framed.startswith(compression.XERIAL_MAGIC)
    assert compression.decompress(compression.SNAPPY, framed) == PAYLOAD


def test_snappy_decompress_reads_kafka_pythons_xerial_output() -> None:
    framed = kafka.codec.snappy_encode(PAYLOAD, xerial_compatible=True, xerial_blocksize=4096)
    assert framed.startswith(compression.XERIAL_MAGIC)
    assert compression.decompress(compression.SNAPPY, framed) == PAYLOAD


def test_snappy_decompress_reads_raw_snappy_as_librdkafka_writes_it() -> None:
    raw = kafka.codec.snappy_encode(PAYLOAD, xerial_compatible=False)
    assert compression.decompress(compression.SNAPPY, raw) == PAYLOAD


def test_snappy_compress_writes_raw_snappy_that_kafka_python_and_aiokafka_read() -> None:
    out = compression.compress(compression.SNAPPY, PAYLOAD)
    assert not out.startswith(compression.XERIAL_MAGIC)
    assert kafka.codec.snappy_decode(out) == PAYLOAD
    assert aiokafka.codec.snappy_decode(out) == PAYLOAD


def test_lz4_compress_writes_a_frame_with_independent_blocks_that_clients_read() -> None:
    out = compression.compress(compression.LZ4, PAYLOAD)
    magic, flags = struct.unpack_from("<IB", out)
    assert magic == 0x184D2204
    assert flags & 0x20, "Java's KafkaLZ4BlockInputStream refuses linked blocks"
    assert lz4.frame.decompress(out) == PAYLOAD
    assert kafka.codec.lz4_decode(out) == PAYLOAD
    assert aiokafka.codec.lz4_decode(out) == PAYLOAD


def test_lz4_decompress_reads_python_lz4_frames_with_content_size() -> None:
    framed = lz4.frame.compress(PAYLOAD, store_size=True, block_linked=False)
    assert compression.decompress(compression.LZ4, framed) == PAYLOAD


def test_gzip_and_zstd_output_is_read_by_the_reference_libraries() -> None:
    assert gzip.decompress(compression.compress(compression.GZIP, PAYLOAD)) == PAYLOAD
    zstd_out = compression.compress(compression.ZSTD, PAYLOAD)
    assert zstandard.ZstdDecompressor().decompress(zstd_out) == PAYLOAD
    assert kafka.codec.zstd_decode(zstd_out) == PAYLOAD


def test_zstd_decompress_reads_frames_without_a_declared_content_size() -> None:
    framed = zstandard.ZstdCompressor(write_content_size=False).compress(_compressible(PAYLOAD))
    assert compression.decompress(compression.ZSTD, framed) == _compressible(PAYLOAD)


def test_gzip_decompress_reads_several_members() -> None:
    two = gzip.compress(PAYLOAD) + gzip.compress(b"tail")
    assert compression.decompress(compression.GZIP, two) == PAYLOAD + b"tail"


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_garbage_is_corrupt_message(codec: int) -> None:
    with pytest.raises(BrokerError) as info:
        compression.decompress(codec, b"\x07not compressed at all, just some bytes" * 3)
    assert info.value.code == ErrorCode.corrupt_message


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_truncated_payload_is_corrupt_message(codec: int) -> None:
    compressed = compression.compress(codec, PAYLOAD)
    with pytest.raises(BrokerError) as info:
        compression.decompress(codec, compressed[: len(compressed) // 2])
    assert info.value.code == ErrorCode.corrupt_message


def test_truncated_xerial_block_is_corrupt_message() -> None:
    framed = compression.xerial_snappy_compress(PAYLOAD)
    with pytest.raises(BrokerError) as info:
        compression.decompress(compression.SNAPPY, framed[:-10])
    assert info.value.code == ErrorCode.corrupt_message


def test_unknown_codec_is_corrupt_message() -> None:
    with pytest.raises(BrokerError) as info:
        compression.decompress(5, b"whatever")
    assert info.value.code == ErrorCode.corrupt_message


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_output_larger_than_max_size_is_refused_as_corrupt(codec: int) -> None:
    bomb = compression.compress(codec, bytes(4 << 20))
    with pytest.raises(BrokerError) as info:
        compression.decompress(codec, bomb, max_size=1 << 20)
    assert info.value.code == ErrorCode.corrupt_message


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_output_of_exactly_max_size_is_accepted(codec: int) -> None:
    data = bytes(300_000)
    assert (
        compression.decompress(codec, compression.compress(codec, data), max_size=300_000) == data
    )


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
def test_highly_compressible_payload_larger_than_the_first_guess_decodes(codec: int) -> None:
    data = b"a" * (8 << 20)  # ~1000x smaller compressed: the buffer must grow
    assert compression.decompress(codec, compression.compress(codec, data)) == data


def test_topic_compression_type_names_map_to_codecs() -> None:
    assert compression.topic_codec("producer") is None
    assert compression.topic_codec("uncompressed") == compression.NONE
    assert [compression.topic_codec(n) for n in ("gzip", "snappy", "lz4", "zstd")] == CODECS


def test_unknown_topic_compression_type_is_invalid_config() -> None:
    with pytest.raises(BrokerError) as info:
        compression.topic_codec("brotli")
    assert info.value.code == ErrorCode.invalid_config
