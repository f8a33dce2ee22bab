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
