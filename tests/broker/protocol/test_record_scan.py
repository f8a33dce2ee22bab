"""The produce-time record scan: every malformed record refused, in C and in Python alike.

Both implementations (the C extension and the pure-Python reference) run every case;
a random walk of mutated sections must get the same verdict from both.
"""

from __future__ import annotations

import random

import pytest

from broker.errors import BrokerError, ErrorCode
from broker.protocol import compression, record_codec, record_scan, records
from broker.protocol.record_codec import Record
from broker.storage.log_config import LogConfig
from tests.support.crafted import CRAFTED, crafted_batch, good, record, record_body

SCANNERS = [pytest.param(record_scan.scan_records_py, id="python")]
if record_scan.IMPLEMENTATION == "c":
    SCANNERS.append(pytest.param(record_scan.scan, id="c"))


def test_the_c_scan_is_built_here() -> None:
    """CI and developers' machines have gcc and the Python headers: the install must
    have built the extension (the pure scan is only for machines that cannot)."""
    assert record_scan.IMPLEMENTATION == "c"


@pytest.mark.parametrize("scanner", SCANNERS)
def test_well_formed_records_pass_with_their_timestamp_range(scanner) -> None:  # type: ignore[no-untyped-def]
    section = record_codec.encode_records(
        [
            Record(0, 5, b"k", b"v"),
            Record(1, -3, None, None, ((b"h", None), (b"h2", b"x" * 300))),
            Record(2, 70000, b"", b"y" * 5000),
        ]
    )
    assert record_scan.validate_records(section, 3, scanner=scanner) == (-3, 70000)


@pytest.mark.parametrize("scanner", SCANNERS)
@pytest.mark.parametrize("case", CRAFTED)
def test_each_crafted_section_is_invalid_record(scanner, case: str) -> None:  # type: ignore[no-untyped-def]
    section, count = CRAFTED[case]
    with pytest.raises(BrokerError) as info:
        record_scan.validate_records(section, count, scanner=scanner)
    assert info.value.code == ErrorCode.invalid_record


@pytest.mark.parametrize("scanner", SCANNERS)
def test_offset_deltas_and_missing_keys_name_the_records(scanner) -> None:  # type: ignore[no-untyped-def]
    section = b"".join(
        record(record_body(offset_delta=delta, key=key))
        for delta, key in ((0, b"k"), (2, b"k"), (2, None))
    )
    with pytest.raises(record_scan.InvalidRecords) as info:
        record_scan.validate_records(section, 3, require_keys=True, scanner=scanner)
    assert [index for index, _ in info.value.record_errors] == [1, 2]  # delta, then key
    with pytest.raises(record_scan.InvalidRecords) as info:
        record_scan.validate_records(section, 3, scanner=scanner)
    assert [index for index, _ in info.value.record_errors] == [1]


def _verdict(scanner, data: bytes, count: int) -> object:  # type: ignore[no-untyped-def]
    try:
        return scanner(data, count, True)
    except ValueError:
        return "malformed"


@pytest.mark.skipif(record_scan.IMPLEMENTATION != "c", reason="compares C with Python")
def test_c_and_python_agree_on_random_mutations() -> None:
    rng = random.Random(99)
    bases = [good(3), good(1), *(section for section, _ in CRAFTED.values())]
    for _ in range(20000):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.choice((1, 2, 3))):
            if data and rng.random() < 0.7:
                data[rng.randrange(len(data))] = rng.getrandbits(8)
            elif data:
                del data[rng.randrange(len(data)) :]
        count = rng.choice((0, 1, 2, 3, 5))
        c = _verdict(record_scan.scan, bytes(data), count)
        python = _verdict(record_scan.scan_records_py, bytes(data), count)
        assert c == python, (bytes(data), count)


CODECS = [compression.NONE, compression.GZIP, compression.SNAPPY, compression.LZ4, compression.ZSTD]


@pytest.mark.parametrize("codec", CODECS, ids=compression.CODEC_NAMES.get)
@pytest.mark.parametrize("case", CRAFTED)
def test_produce_validation_refuses_each_crafted_batch_compressed_or_not(
    case: str, codec: int
) -> None:
    section, count = CRAFTED[case]
    batch = crafted_batch(section, count, codec=codec)
    with pytest.raises(BrokerError) as info:
        records.validate_produce_batches(batch, log_config=LogConfig())
    assert info.value.code == ErrorCode.invalid_record


def test_a_record_timestamp_out_of_bounds_is_caught_even_when_the_header_is_fine() -> None:
    """A negative delta takes one record a day back while the header's timestamps are
    now: with message.timestamp.before.max.ms of an hour it is INVALID_TIMESTAMP."""
    now = 1_800_000_000_000
    section = record(record_body(offset_delta=0)) + record(
        record_body(offset_delta=1, timestamp_delta=record_codec.write_varint(-86_400_000))
    )
    batch = crafted_batch(section, 2, base_timestamp=now)
    config = LogConfig(message_timestamp_before_max_ms=3_600_000)
    with pytest.raises(BrokerError) as info:
        records.validate_produce_batches(batch, log_config=config, now_ms=now)
    assert info.value.code == ErrorCode.invalid_timestamp
