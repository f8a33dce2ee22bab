from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.protocol import compression, record_codec, records
from broker.storage import cleaner
from broker.storage.log_config import LogConfig
from broker.storage.partition_log import PartitionLog

NOW = 1_800_000_000_000
DAY = 86_400_000


def open_log(directory: Path, **settings_: object) -> PartitionLog:
    config = LogConfig(
        cleanup_policy=frozenset({"compact"}),
        segment_bytes=settings_.pop("segment_bytes", 400),  # type: ignore[arg-type]
        min_cleanable_dirty_ratio=settings_.pop("min_cleanable_dirty_ratio", 0.0),  # type: ignore[arg-type]
        **settings_,  # type: ignore[arg-type]
    )
    return PartitionLog(directory, topic="c", partition=0, topic_id=uuid.uuid4(), config=config)


def append(
    log: PartitionLog,
    pairs: list[tuple[bytes, bytes | None]],
    *,
    ts: int,
    codec: int = compression.NONE,
) -> None:
    batch = record_codec.encode_batch(
        [record_codec.Record(i, 0, key, value) for i, (key, value) in enumerate(pairs)],
        base_timestamp=ts,
        codec=codec,
    )
    log.append(
        batch, records.validate_produce_batches(batch, max_message_bytes=1 << 20), leader_epoch=0
    )


def read_all(log: PartitionLog) -> list[tuple[int, bytes | None, bytes | None]]:
    out = []
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        data = log.read(offset, 1 << 20)
        if not data:
            break
        for batch in record_codec.decode_batches(data, verify_crc=True):
            for record in batch.records:
                if batch.offset(record) >= offset:
                    out.append((batch.offset(record), record.key, record.value))
            offset = batch.header.last_offset + 1
    return out


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.one_of(st.none(), st.binary(max_size=20))),
        min_size=1,
        max_size=120,
    )
)
def test_compaction_keeps_the_latest_record_of_every_key(
    tmp_path_factory: pytest.TempPathFactory, writes: list[tuple[int, bytes | None]]
) -> None:
    log = open_log(tmp_path_factory.mktemp("c") / "c-0")
    for key, value in writes:
        append(log, [(b"k%d" % key, value)], ts=NOW - DAY)  # tombstones are recent enough to stay
    before = read_all(log)
    cleaner.clean(log, NOW)
    after = read_all(log)
    active_start = log.segments[-1].base_offset
    # Kafka's contract: the latest record of each key *within the cleaned range* survives;
    # records in the active segment are not cleaned and do not supersede (yet).
    latest = {key: offset for offset, key, _value in before if offset < active_start}
    expected = [
        (offset, key, value)
        for offset, key, value in before
        if offset >= active_start or latest[key] == offset
    ]
    assert after == expected


def test_old_tombstones_are_dropped_recent_ones_kept(tmp_path: Path) -> None:
    log = open_log(tmp_path / "c-0", delete_retention_ms=DAY)
    append(log, [(b"gone", b"v1"), (b"kept", b"v1")], ts=NOW - 3 * DAY)
    append(log, [(b"gone", None)], ts=NOW - 2 * DAY)  # older than delete.retention.ms
    append(log, [(b"kept", None)], ts=NOW - 1000)  # recent: consumers must still see it
    append(log, [(b"other", b"x" * 300)], ts=NOW)  # rolls; the tombstones are now cleanable
    cleaner.clean(log, NOW)
    keys = [(key, value) for _offset, key, value in read_all(log)]
    assert (b"gone", None) not in keys and (b"gone", b"v1") not in keys
    assert (b"kept", None) in keys and (b"kept", b"v1") not in keys


def test_partly_cleaned_compressed_batches_keep_their_codec_offsets_and_crc(tmp_path: Path) -> None:
    log = open_log(tmp_path / "c-0", segment_bytes=10_000)
    append(log, [(b"a", b"1"), (b"b", b"1"), (b"c", b"1")], ts=NOW, codec=compression.GZIP)
    append(log, [(b"a", b"2")], ts=NOW)
    append(log, [(b"z", b"x" * 10_000)], ts=NOW)  # rolls the first segment out of activity
    result = cleaner.clean(log, NOW)
    assert result is not None and result.records_removed == 1
    data = log.read(0, 1 << 20)
    first = next(records.iter_batches(data))
    assert (
        first.compression == compression.GZIP and first.base_offset == 0 and first.last_offset == 2
    )
    assert records.crc_ok(data, first)
    assert [(o, k) for o, k, _v in read_all(log)][:3] == [(1, b"b"), (2, b"c"), (3, b"a")]


def test_a_cleaned_log_reopens_and_interrupted_cleanings_leave_no_trace(tmp_path: Path) -> None:
    log = open_log(tmp_path / "c-0")
    for i in range(40):
        append(log, [(b"k%d" % (i % 4), b"%d" % i)], ts=NOW)
    cleaner.clean(log, NOW)
    after = read_all(log)
    (tmp_path / "c-0" / "00000000000000000000.log.cleaned").write_bytes(b"half written")
    log.close()
    reopened = open_log(tmp_path / "c-0")
    assert read_all(reopened) == after
    assert not list((tmp_path / "c-0").glob("*.cleaned"))


def test_recent_segments_wait_for_min_compaction_lag_and_the_dirty_ratio(tmp_path: Path) -> None:
    log = open_log(tmp_path / "c-0", min_compaction_lag_ms=DAY)
    for i in range(20):
        append(log, [(b"k", b"%d" % i)], ts=NOW - 1000)
    assert cleaner.clean(log, NOW) is None  # everything is younger than the lag
    assert cleaner.clean(log, NOW + 2 * DAY) is not None

    lazy = open_log(tmp_path / "lazy-0", min_cleanable_dirty_ratio=0.9)
    for i in range(20):
        append(lazy, [(b"k%d" % i, b"v")], ts=NOW)
    assert cleaner.clean(lazy, NOW) is not None  # all dirty: ratio 1.0
    for i in range(3):
        append(lazy, [(b"k%d" % i, b"w")], ts=NOW)
    assert cleaner.clean(lazy, NOW) is None  # a little new dirt is below 0.9
