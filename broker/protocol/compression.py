"""The four Kafka record codecs, through ``cramjam``: what a RecordBatch's records hold.

A RecordBatch v2 compresses everything after its 61-byte header (the records) as one
payload; attributes bits 0-2 name the codec:

===  ======  ===============================================================
id   name    payload format
===  ======  ===============================================================
0    none    the records as they are
1    gzip    RFC 1952 gzip (one member from Java/librdkafka; several are read)
2    snappy  raw snappy (librdkafka), or xerial-framed snappy (Java): the magic
             ``82 'SNAPPY' 00``, version i32, compat i32, then blocks of
             [length i32][raw snappy], all big-endian
3    lz4     the LZ4 *frame* format (KIP-57), independent blocks
4    zstd    a zstd frame
===  ======  ===============================================================

Decompression reads both snappy forms. Compression writes **raw** snappy, as librdkafka
does: every client reads it. kafka-python and aiokafka look for the xerial magic and
otherwise call raw ``snappy.decompress``; librdkafka does the same; Java's
``SnappyInputStream`` (xerial snappy-java) falls back to reading a whole raw snappy
buffer when the magic is absent. LZ4 is written with independent blocks and no content
checksum (Java's ``KafkaLZ4BlockInputStream`` refuses linked blocks), at Kafka's
default levels (gzip 6, lz4 9, zstd 3).

Decompressed output is capped (``max_size``): a compressed batch is limited by
``max.message.bytes``, but zstd or gzip can expand a megabyte into gigabytes, and this
Python broker materialises the output where Kafka streams it. Output goes into a
pre-sized buffer (sized from the format's declared length where one exists, else a
guess grown by 8x up to the cap), so a bomb costs at most ``max_size`` bytes of memory.

Any failure (corrupt input, unknown codec, output over the cap) raises
:class:`~broker.errors.BrokerError` with ``CORRUPT_MESSAGE``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

import cramjam

from broker.errors import BrokerError, ErrorCode

Buffer = bytes | bytearray | memoryview

NONE: Final = 0
GZIP: Final = 1
SNAPPY: Final = 2
LZ4: Final = 3
ZSTD: Final = 4

CODEC_NAMES: Final = {NONE: "none", GZIP: "gzip", SNAPPY: "snappy", LZ4: "lz4", ZSTD: "zstd"}
# Topic ``compression.type`` values (Kafka's names; "none" as producers spell it).
_TOPIC_CODECS: Final = {
    "uncompressed": NONE,
    "none": NONE,
    "gzip": GZIP,
    "snappy": SNAPPY,
    "lz4": LZ4,
    "zstd": ZSTD,
}
PRODUCER: Final = "producer"

# Kafka's default compression levels (KIP-390: compression.<codec>.level).
DEFAULT_LEVELS: Final = {GZIP: 6, LZ4: 9, ZSTD: 3}

DEFAULT_MAX_DECOMPRESSED: Final = 64 * 1024 * 1024

XERIAL_MAGIC: Final = b"\x82SNAPPY\x00"
_XERIAL_HEADER_SIZE: Final = 16
_XERIAL_BLOCK: Final = struct.Struct(">i")
_MIN_GUESS: Final = 64 * 1024
_GROWTH: Final = 8


def topic_codec(compression_type: str) -> int | None:
    """The codec id a topic's ``compression.type`` asks for; None for ``producer``
    (keep whatever the producer sent)."""
    if compression_type == PRODUCER:
        return None
    try:
        return _TOPIC_CODECS[compression_type]
    except KeyError:
        raise BrokerError(
            ErrorCode.invalid_config, f"unknown compression.type {compression_type!r}"
        ) from None


def _corrupt(codec: int, detail: object) -> BrokerError:
    name = CODEC_NAMES.get(codec, str(codec))
    return BrokerError(ErrorCode.corrupt_message, f"cannot decompress {name} records: {detail}")


# --- decompression ---------------------------------------------------------------------


def decompress(codec: int, data: Buffer, *, max_size: int = DEFAULT_MAX_DECOMPRESSED) -> bytes:
    """The records a compressed payload holds; ``codec`` is the attributes' bits 0-2.

    ``NONE`` returns the bytes unchanged (as ``bytes``). Raises CORRUPT_MESSAGE when the
    payload does not decode or would exceed ``max_size`` bytes.
    """
    if codec == NONE:
        return bytes(data)
    if codec == SNAPPY:
        return _snappy_decompress(data, max_size)
    into = _DECOMPRESS_INTO.get(codec)
    if into is None:
        raise _corrupt(codec, "unknown codec")
    return _decompress_growing(codec, into, data, _size_hint(codec, data), max_size)


def _decompress_growing(
    codec: int,
    into: Callable[[Buffer, bytearray], int],
    data: Buffer,
    hint: int | None,
    max_size: int,
) -> bytes:
    """Decompress into a buffer of ``hint`` (or guessed) bytes, growing it up to
    ``max_size`` when the output does not fit.

    cramjam raises the same error for "output too small" and "corrupt", so a failure
    at a size below the cap is retried larger; a corrupt payload is thus decoded a few
    times before it is rejected (rare, and still bounded by the cap).
    """
    size = hint if hint is not None else max(len(data) * 4, _MIN_GUESS)
    size = min(size, max_size)
    while True:
        out = bytearray(size)
        try:
            written = into(data, out)
        except cramjam.DecompressionError as exc:
            if size >= max_size:
                raise _corrupt(codec, f"{exc} (or larger than {max_size} bytes)") from None
            size = min(max(size, _MIN_GUESS) * _GROWTH, max_size)
            continue
        except (ValueError, TypeError) as exc:
            raise _corrupt(codec, exc) from None
        # cramjam fails rather than truncates when the output does not fit, so a
        # success (even an exact fit) is the whole payload.
        return bytes(memoryview(out)[:written])


def _size_hint(codec: int, data: Buffer) -> int | None:
    """The decompressed size the payload declares, when its format says so cheaply."""
    if codec == ZSTD:
        return _zstd_content_size(data)
    if codec == LZ4:
        return _lz4_content_size(data)
    if codec == GZIP and len(data) >= 18:
        # ISIZE, the last member's length mod 2**32 (a guess for several members)
        return int.from_bytes(bytes(data[-4:]), "little") or None
    return None


def _zstd_content_size(data: Buffer) -> int | None:
    """Frame_Content_Size from a single zstd frame header (RFC 8878 3.1.1.1), if set."""
    if len(data) < 6 or bytes(data[:4]) != b"\x28\xb5\x2f\xfd":
        return None
    descriptor = data[4]
    fcs_flag = descriptor >> 6
    single_segment = (descriptor >> 5) & 1
    dict_id_size = (0, 1, 2, 4)[descriptor & 3]
    fcs_size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    if fcs_size == 0:
        return None
    start = 5 + (0 if single_segment else 1) + dict_id_size
    field = bytes(data[start : start + fcs_size])
    if len(field) != fcs_size:
        return None
    size = int.from_bytes(field, "little")
    return size + 256 if fcs_size == 2 else size


def _lz4_content_size(data: Buffer) -> int | None:
    """Content Size from an LZ4 frame descriptor, when the FLG byte says it is present."""
    if len(data) < 15 or bytes(data[:4]) != b"\x04\x22\x4d\x18":
        return None
    if not data[4] & 0x08:
        return None
    return int.from_bytes(bytes(data[6:14]), "little")


def _snappy_decompress(data: Buffer, max_size: int) -> bytes:
    view = memoryview(data)
    if len(view) >= _XERIAL_HEADER_SIZE and bytes(view[:8]) == XERIAL_MAGIC:
        return _xerial_decompress(view, max_size)
    try:
        size = cramjam.snappy.decompress_raw_len(view)
        if size > max_size:
            raise _corrupt(SNAPPY, f"declares {size} bytes, more than {max_size}")
        out = bytearray(size)
        written = cramjam.snappy.decompress_raw_into(view, out)
    except cramjam.DecompressionError as exc:
        raise _corrupt(SNAPPY, exc) from None
    if written != size:
        raise _corrupt(SNAPPY, f"decoded {written} of {size} declared bytes")
    return bytes(out)


def _xerial_decompress(view: memoryview, max_size: int) -> bytes:
    """Xerial (snappy-java) framing: a 16-byte header, then [length i32][raw snappy]..."""
    blocks: list[tuple[memoryview, int]] = []
    position = _XERIAL_HEADER_SIZE
    end = len(view)
    total = 0
    try:
        while position < end:
            if end - position < 4:
                raise _corrupt(SNAPPY, "truncated xerial block length")
            (length,) = _XERIAL_BLOCK.unpack_from(view, position)
            position += 4
            if length < 0 or position + length > end:
                raise _corrupt(SNAPPY, f"xerial block of {length} bytes overruns the payload")
            block = view[position : position + length]
            size = cramjam.snappy.decompress_raw_len(block)
            total += size
            if total > max_size:
                raise _corrupt(SNAPPY, f"more than {max_size} bytes")
            blocks.append((block, size))
            position += length
        out = bytearray(total)
        target = memoryview(out)
        at = 0
        for block, size in blocks:
            written = cramjam.snappy.decompress_raw_into(block, target[at : at + size])
            if written != size:
                raise _corrupt(SNAPPY, f"xerial block decoded {written} of {size} bytes")
            at += size
    except cramjam.DecompressionError as exc:
        raise _corrupt(SNAPPY, exc) from None
    return bytes(out)


_DECOMPRESS_INTO: Final[dict[int, Callable[[Buffer, bytearray], int]]] = {
    GZIP: cramjam.gzip.decompress_into,
    LZ4: cramjam.lz4.decompress_into,
    ZSTD: cramjam.zstd.decompress_into,
}


# --- compression -----------------------------------------------------------------------


def compress(codec: int, data: Buffer, *, level: int | None = None) -> bytes:
    """``data`` compressed with ``codec`` in the format Kafka clients read (see module
    docstring); ``level`` defaults to Kafka's default for the codec."""
    if codec == NONE:
        return bytes(data)
    if level is None:
        level = DEFAULT_LEVELS.get(codec)
    if codec == GZIP:
        return bytes(cramjam.gzip.compress(data, level=level))
    if codec == SNAPPY:
        return bytes(cramjam.snappy.compress_raw(data))
    if codec == LZ4:
        compressor = cramjam.lz4.Compressor(level=level, content_checksum=False, block_linked=False)
        compressor.compress(data)
        return bytes(compressor.finish())
    if codec == ZSTD:
        return bytes(cramjam.zstd.compress(data, level=level))
    raise ValueError(f"unknown codec {codec}")


def xerial_snappy_compress(data: Buffer, *, block_size: int = 32 * 1024) -> bytes:
    """Xerial-framed snappy as Java producers write it (for tests and tools)."""
    view = memoryview(data)
    parts = [XERIAL_MAGIC, struct.pack(">ii", 1, 1)]
    for start in range(0, len(view), block_size):
        block = bytes(cramjam.snappy.compress_raw(view[start : start + block_size]))
        parts += [_XERIAL_BLOCK.pack(len(block)), block]
    return b"".join(parts)
