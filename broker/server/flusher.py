"""Group commit: acks=all writes to durable topics wait for an fdatasync covering them.

A request that needs durability registers its partition logs and awaits a future.
One fsync round runs at a time, off the event loop; every request that arrived while a
round was running is covered by the next round, which flushes every log dirtied since
the previous round began. So N concurrent producers cost one fdatasync per log per
round, not one each, and a write is acknowledged only after its bytes are on stable
storage (``flush.mode=durable``). Only ``.log`` files are synced here (indexes are
derived data), and only those holding bytes no completed fdatasync covers yet
(:meth:`PartitionLog.unsynced_segments`).

A round is one hand-off to the fsync pool, whatever the number of files: the round's
thread syncs one file itself and the others on the pool's remaining threads at the same
time (fdatasync releases the GIL; parallel syncs on one disk share journal commits).
Handing each file to the pool from the event loop cost a future, a thread wake-up and
a loop wake-up per file: a fifth of the broker's produce time with 8 partitions.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Iterable

from broker.errors import BrokerError, ErrorCode
from broker.storage.partition_log import PartitionLog
from broker.storage.segment import Segment

log = logging.getLogger(__name__)

FSYNC_THREADS = 4


class GroupCommitFlusher:
    def __init__(self) -> None:
        self._dirty: dict[int, PartitionLog] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._task: asyncio.Task[None] | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=FSYNC_THREADS, thread_name_prefix="fsync"
        )
        self.rounds = 0

    async def flush(self, logs: Iterable[PartitionLog]) -> None:
        """Return once an fdatasync that started after this call covered ``logs``."""
        loop = asyncio.get_running_loop()
        for partition_log in logs:
            self._dirty[id(partition_log)] = partition_log
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        await waiter

    def _sync(self, segments: list[Segment]) -> None:
        """On a pool thread: fdatasync every segment, in parallel; raises the first
        OSError once all have finished."""
        others = [self._pool.submit(segment.flush_data) for segment in segments[1:]]
        errors = []
        try:
            segments[0].flush_data()
        except OSError as exc:
            errors.append(exc)
        for future in others:
            try:
                future.result()
            except OSError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiters:
            dirty, waiters = list(self._dirty.values()), self._waiters
            self._dirty, self._waiters = {}, []
            segments = [s for partition_log in dirty for s in partition_log.unsynced_segments()]
            try:
                if segments:
                    await loop.run_in_executor(self._pool, self._sync, segments)
            except OSError as exc:
                log.error("group commit fdatasync failed: %s", exc)
                error = BrokerError(ErrorCode.kafka_storage_error, f"fdatasync failed: {exc}")
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(error)
                continue
            self.rounds += 1
            for partition_log in dirty:
                partition_log.mark_flushed()
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
