from __future__ import annotations

import datetime
import uuid
from pathlib import Path

import pytest

from broker.errors import BrokerError, ErrorCode
from broker.protocol import records
from broker.storage.log_config import LogConfig
from broker.storage.partition_log import PartitionLog
from tests.support.wire import record_batch

TOPIC_ID = uuid.uuid4()
HOUR_MS = 3_600_000


def open_log(directory: Path, *, clean: bool = True, **settings: object) -> PartitionLog:
    return PartitionLog(
        directory,
        topic="t",
        partition=0,
        topic_id=TOPIC_ID,
        config=LogConfig(**settings),  # type: ignore[arg-type]
        clean_shutdown=clean,
    )


def append_at(log: PartitionLog, timestamp_ms: int, count: int = 1, size: int = 50) -> int:
    when = datetime.datetime.fromtimestamp(timestamp_ms / 1000, datetime.UTC)
    data = record_batch([(b"k", b"x" * size)] * count, timestamp=when)
    headers = records.validate_produce_batches(data, max_message_bytes=1 << 20)
    return log.append(data, headers, leader_epoch=0)


def first_offset(data: bytes) -> int:
    return next(records.iter_batches(data)).base_offset


@pytest.mark.parametrize("clean", [True, False])
def test_sparse_index_finds_every_offset_after_reopen(tmp_path: Path, clean: bool) -> None:
    log = open_log(tmp_path / "t-0", index_interval_bytes=200, segment_bytes=5000)
    now = 1_700_000_000_000
    for i in range(300):
        append_at(log, now + i, count=1 + i % 3)
    end = log.log_end_offset
    log.close()
    reopened = open_log(tmp_path / "t-0", clean=clean, index_interval_bytes=200, segment_bytes=5000)
    assert reopened.log_end_offset == end
    assert len(reopened.segments) > 3
    for offset in range(0, end, 7):
        batch = next(records.iter_batches(reopened.read(offset, 1)))
        assert batch.base_offset <= offset <= batch.last_offset


def test_missing_index_is_rebuilt_from_the_log(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", index_interval_bytes=100)
    for i in range(50):
        append_at(log, 1_700_000_000_000 + i)
    log.close()
    index = tmp_path / "t-0" / "00000000000000000000.index"
    size = index.stat().st_size
    assert size > 0
    index.write_bytes(b"\xff" * 8)  # points far past the end of the log: insane
    reopened = open_log(tmp_path / "t-0", index_interval_bytes=100)
    assert index.stat().st_size == size
    assert first_offset(reopened.read(37, 1)) == 37


def append_spread(log: PartitionLog, first_ms: int, count: int, step_ms: int) -> None:
    """One batch whose records are ``step_ms`` apart."""
    times = [
        datetime.datetime.fromtimestamp((first_ms + i * step_ms) / 1000, datetime.UTC)
        for i in range(count)
    ]
    data = record_batch([(b"k", b"v")] * count, timestamps=times)
    log.append(
        data, records.validate_produce_batches(data, max_message_bytes=1 << 20), leader_epoch=0
    )


def test_timestamp_lookup_finds_the_first_record_at_or_after(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", index_interval_bytes=64, segment_bytes=2000)
    base = 1_700_000_000_000
    for i in range(20):  # 20 batches of 5 records, one record per second
        append_spread(log, base + i * 5000, 5, 1000)
    assert log.offset_for_timestamp(base) == (0, base)
    assert log.offset_for_timestamp(base + 41_500) == (42, base + 42_000)  # mid-batch
    assert log.offset_for_timestamp(base + 99_000) == (99, base + 99_000)
    assert log.offset_for_timestamp(base + 100_000) is None
    assert log.offset_of_max_timestamp() == (99, base + 99_000)
    log.close()
    reopened = open_log(tmp_path / "t-0", index_interval_bytes=64, segment_bytes=2000)
    assert reopened.offset_for_timestamp(base + 41_500) == (42, base + 42_000)
    assert reopened.offset_of_max_timestamp() == (99, base + 99_000)


def test_timestamp_lookup_respects_out_of_order_timestamps(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0")
    base = 1_700_000_000_000
    append_spread(log, base + 10_000, 1, 0)  # offset 0: late timestamp
    append_spread(log, base, 3, 1000)  # offsets 1-3: earlier timestamps
    assert log.offset_for_timestamp(base + 1500) == (0, base + 10_000)  # first in offset order
    assert log.offset_of_max_timestamp() == (0, base + 10_000)


def test_retention_ms_deletes_whole_expired_segments(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=400, retention_ms=HOUR_MS)
    now = 1_700_000_000_000
    for i in range(10):
        append_at(log, now - 3 * HOUR_MS + i)  # old
    for i in range(10):
        append_at(log, now + i)  # fresh
    assert log.delete_expired(now) > 0
    assert log.log_start_offset > 0
    assert log.read(log.log_start_offset, 1)
    assert all(s.max_timestamp >= now - HOUR_MS for s in log.segments)
    with pytest.raises(BrokerError) as info:
        log.read(0, 100)
    assert info.value.code == ErrorCode.offset_out_of_range


def test_retention_empties_an_idle_topic_by_rolling_its_expired_active_segment(
    tmp_path: Path,
) -> None:
    log = open_log(tmp_path / "t-0", retention_ms=HOUR_MS)
    now = 1_700_000_000_000
    for i in range(5):
        append_at(log, now - 2 * HOUR_MS + i)
    log.delete_expired(now)
    assert log.log_start_offset == log.log_end_offset == 5
    assert append_at(log, now) == 5


def test_retention_bytes_keeps_the_log_under_the_limit_in_whole_segments(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=500, retention_bytes=1500, retention_ms=-1)
    for i in range(60):
        append_at(log, 1_700_000_000_000 + i)
    log.delete_expired(1_700_000_000_000)
    assert log.size_bytes <= 1500 + 500
    assert log.size_bytes - log.segments[0].size < 1500


def test_delete_records_moves_log_start_and_survives_reopen(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_bytes=400)
    for i in range(30):
        append_at(log, 1_700_000_000_000 + i)
    assert log.delete_records(17) == 17
    with pytest.raises(BrokerError):
        log.read(16, 100)
    assert first_offset(log.read(17, 1)) <= 17
    with pytest.raises(BrokerError) as info:
        log.delete_records(31)
    assert info.value.code == ErrorCode.offset_out_of_range
    log.close()
    assert open_log(tmp_path / "t-0", segment_bytes=400).log_start_offset == 17


def test_segment_ms_rolls_a_segment_whose_first_batch_is_old(tmp_path: Path) -> None:
    log = open_log(tmp_path / "t-0", segment_ms=HOUR_MS)
    now = 1_700_000_000_000
    append_at(log, now - 2 * HOUR_MS)
    append_at(log, now)
    assert len(log.segments) == 2
    assert log.segments[1].base_offset == 1
