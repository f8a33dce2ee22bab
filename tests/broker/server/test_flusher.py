"""Group commit for flush.mode=durable, with real partition logs on disk."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from broker.errors import BrokerError, ErrorCode
from broker.protocol import records
from broker.server.flusher import GroupCommitFlusher
from broker.storage.log_config import FlushMode, LogConfig
from broker.storage.partition_log import PartitionLog
from tests.support.wire import record_batch


def open_logs(tmp_path: Path, count: int) -> list[PartitionLog]:
    return [
        PartitionLog(
            tmp_path / f"t-{i}",
            topic="t",
            partition=i,
            topic_id=uuid.uuid4(),
            config=LogConfig(flush_mode=FlushMode.DURABLE),
        )
        for i in range(count)
    ]


def append(log: PartitionLog) -> None:
    data = record_batch([(b"k", b"v")])
    log.append(
        data, records.validate_produce_batches(data, max_message_bytes=1 << 20), leader_epoch=0
    )


def test_concurrent_durable_writes_share_fsync_rounds_and_each_waits_for_one(
    tmp_path: Path,
) -> None:
    logs = open_logs(tmp_path, 4)

    async def scenario() -> int:
        flusher = GroupCommitFlusher()

        async def produce(log: PartitionLog) -> None:
            append(log)
            assert log.dirty
            await flusher.flush([log])
            assert not log.dirty  # acknowledged only once flushed

        await asyncio.gather(*(produce(logs[i % 4]) for i in range(40)))
        return flusher.rounds

    rounds = asyncio.run(scenario())
    assert 1 <= rounds < 40  # coalesced: fewer fdatasync rounds than writers


def test_flusher_reports_a_storage_error_when_fdatasync_fails(tmp_path: Path) -> None:
    (log,) = open_logs(tmp_path, 1)
    append(log)
    log.segments[-1].close()  # fdatasync on a closed descriptor fails with EBADF

    async def scenario() -> None:
        await GroupCommitFlusher().flush([log])

    with pytest.raises(BrokerError) as info:
        asyncio.run(scenario())
    assert info.value.code == ErrorCode.kafka_storage_error


def test_a_round_syncs_every_segment_written_since_the_last_even_after_rolls(
    tmp_path: Path,
) -> None:
    # Sealed segments are normally synced on a background thread; here nobody does,
    # so only the group commit can make the rolled segments' bytes durable.
    log = PartitionLog(
        tmp_path / "t-0",
        topic="t",
        partition=0,
        topic_id=uuid.uuid4(),
        config=LogConfig(flush_mode=FlushMode.DURABLE, segment_bytes=100),
        background=lambda work: None,
    )
    for _ in range(4):
        append(log)  # each batch is over 60 bytes: every append after the first rolls
    assert len(log.segments) == 4
    assert len(log.unsynced_segments()) == 4

    async def scenario() -> GroupCommitFlusher:
        flusher = GroupCommitFlusher()
        await flusher.flush([log])
        return flusher

    flusher = asyncio.run(scenario())
    flusher.close()
    assert flusher.rounds == 1
    assert log.unsynced_segments() == []
    assert not any(segment.unsynced for segment in log.segments)


def test_a_flush_with_nothing_unsynced_answers_without_a_round(tmp_path: Path) -> None:
    logs = open_logs(tmp_path, 2)
    for log in logs:
        append(log)

    async def scenario() -> tuple[int, int]:
        flusher = GroupCommitFlusher()
        await flusher.flush(logs)
        first = flusher.rounds
        await flusher.flush(logs)  # no append since: fdatasync already covers it all
        second = flusher.rounds
        append(logs[1])
        await flusher.flush(logs)
        flusher.close()
        return first, second, flusher.rounds  # type: ignore[return-value]

    assert asyncio.run(scenario()) == (1, 1, 2)
    assert not any(log.unsynced_segments() for log in logs)


def test_a_write_during_a_round_stays_unsynced_until_a_later_round(tmp_path: Path) -> None:
    (log,) = open_logs(tmp_path, 1)
    append(log)
    segment = log.segments[-1]
    size_before = segment.size
    segment.flush_data()
    assert not segment.unsynced
    append(log)
    assert segment.unsynced and segment.size > size_before
