from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path

import pytest

from broker.errors import BrokerError, ErrorCode
from broker.protocol import records
from broker.storage.log_config import LogConfig
from broker.storage.partition_log import PartitionLog
from tests.support.crafted import CRAFTED, crafted_batch
from tests.support.wire import record_batch

TOPIC_ID = uuid.uuid4()


def open_log(
    directory: Path, segment_bytes: int = 1 << 30, *, clean: bool = True, **settings: object
) -> PartitionLog:
    return PartitionLog(
        directory,
        topic="t",
        partition=0,
        topic_id=TOPIC_ID,
        config=LogConfig(segment_bytes=segment_bytes, **settings),  # type: ignore[arg-type]
        clean_shutdown=clean,
    )


def append(log: PartitionLog, *values: bytes) -> int:
    data = record_batch([(b"k", v) for v in values])
    headers = records.validate_produce_batches(data, max_message_bytes=1 << 20)
    return log.append(data, headers, leader_epoch=0)


def offsets_in(data: bytes) -> list[int]:
    return [o for h in records.iter_batches(data) for o in range(h.base_offset, h.last_offset + 1)]


def test_append_assigns_consecutive_offsets_and_reads_them_back(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    assert append(log, b"a", b"b") == 0
    assert append(log, b"c") == 2
    assert log.log_end_offset == 3
    assert offsets_in(log.read(0, 1 << 20)) == [0, 1, 2]


def test_read_from_the_middle_of_a_batch_returns_the_whole_batch(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    append(log, b"a", b"b", b"c")
    append(log, b"d")
    assert offsets_in(log.read(1, 1 << 20)) == [0, 1, 2, 3]
    assert offsets_in(log.read(3, 1 << 20)) == [3]


def test_read_honours_max_bytes_but_returns_at_least_one_batch(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    for i in range(5):
        append(log, bytes([i]) * 100)
    one = log.read(0, 1)
    assert offsets_in(one) == [0]
    batch_size = len(one)
    assert offsets_in(log.read(0, batch_size * 2 + 10)) == [0, 1]


def test_read_outside_the_log_is_offset_out_of_range(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    append(log, b"a")
    assert log.read(1, 100) == b""
    with pytest.raises(BrokerError) as info:
        log.read(2, 100)
    assert info.value.code == ErrorCode.offset_out_of_range


def test_segments_roll_at_segment_bytes_and_reopen_in_order(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=300)
    for i in range(10):
        append(log, bytes([i]) * 100)
    assert len(log.segments) > 1
    names = sorted(p.name for p in (tmp_path / "t-0").glob("*.log"))
    assert names[0] == "00000000000000000000.log"
    log.close()
    reopened = open_log(tmp_path / "t-0", segment_bytes=300)
    assert reopened.log_end_offset == 10
    assert offsets_in(b"".join(reopened.read(o, 1) for o in range(10))) == list(range(10))


def test_reopen_truncates_a_torn_tail_and_keeps_whole_batches(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    append(log, b"a", b"b")
    append(log, b"c")
    log.close()
    segment = tmp_path / "t-0" / "00000000000000000000.log"
    whole = segment.read_bytes()
    segment.write_bytes(whole + record_batch([(b"k", b"torn")])[:30])  # crash mid-write
    reopened = open_log(tmp_path / "t-0", clean=False)
    assert reopened.log_end_offset == 3
    assert segment.stat().st_size == len(whole)
    assert append(reopened, b"d") == 3


def test_reopen_drops_a_batch_whose_crc_does_not_match(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    append(log, b"a")
    append(log, b"b")
    log.close()
    segment = tmp_path / "t-0" / "00000000000000000000.log"
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF  # corrupt the last batch's payload
    segment.write_bytes(bytes(data))
    reopened = open_log(tmp_path / "t-0", clean=False)
    assert reopened.log_end_offset == 1


def test_failed_write_leaves_the_log_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = open_log(tmp_path / "t-0")
    append(log, b"a")
    size_before = log.size_bytes
    real_write = os.write

    def full_disk(fd: int, parts: list[bytes]) -> int:
        real_write(fd, b"".join(parts)[:10])  # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "writev", full_disk)
    with pytest.raises(BrokerError) as info:
        append(log, b"b")
    assert info.value.code == ErrorCode.kafka_storage_error
    monkeypatch.undo()
    assert log.size_bytes == size_before
    assert append(log, b"c") == 1
    log.close()
    assert open_log(tmp_path / "t-0").log_end_offset == 2


def test_even_a_clean_open_never_appends_after_a_partial_batch(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    append(log, b"a")
    log.close()
    segment = tmp_path / "t-0" / "00000000000000000000.log"
    whole = segment.read_bytes()
    segment.write_bytes(whole + b"\x00" * 20)
    reopened = open_log(tmp_path / "t-0", clean=True)
    assert append(reopened, b"b") == 1
    assert offsets_in(reopened.read(0, 1 << 20)) == [0, 1]


def test_new_partition_and_segment_names_are_synced_before_any_append(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An fdatasync of a segment does not persist its directory entry: the directory
    must be fsync'd when the file is created, or a power loss could drop a whole new
    segment of acknowledged records. (Observes the real fsync calls; they still run.)"""
    synced: list[int] = []
    real_fsync = os.fsync

    def observed_fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", observed_fsync)
    log = open_log(tmp_path / "t-0", segment_bytes=300)
    partition_dir = (tmp_path / "t-0").stat().st_ino
    assert tmp_path.stat().st_ino in synced  # the new partition directory's name
    assert partition_dir in synced  # the first segment's name
    synced.clear()
    while len(log.segments) == 1:
        append(log, b"x" * 100)
    assert partition_dir in synced  # the rolled-to segment's name, before its first append


def test_timestamp_lookups_answer_from_the_header_of_a_batch_that_does_not_decode(
    tmp_path: Path,
) -> None:
    """A batch with malformed records stored by an earlier version (before produce
    walked every record) must not make every later timestamp lookup fail: the lookup
    answers from that batch's header (its base offset and max timestamp)."""
    log = open_log(tmp_path / "t-0")
    append(log, b"good")
    bad_ts = 1_900_000_000_000
    section, count = CRAFTED["claims_17_headers_it_lacks"]
    bad = crafted_batch(section, count, base_timestamp=bad_ts)
    log.append(
        bad, records.validate_produce_batches(bad, max_message_bytes=1 << 20), leader_epoch=0
    )
    append(log, b"after")

    assert log.offset_for_timestamp(bad_ts - 1) == (1, bad_ts)
    assert log.offset_of_max_timestamp() == (1, bad_ts)
    assert log.offset_for_timestamp(bad_ts + 1) is None
