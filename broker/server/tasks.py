"""The broker's periodic housekeeping, as Kafka's LogManager schedules it.

- Retention every ``log.retention.check.interval.ms`` (default 5 minutes): whole
  segments past ``retention.ms`` / ``retention.bytes`` or below a DeleteRecords log
  start offset are deleted, and idempotent producers idle for longer than
  ``producer.id.expiration.ms`` are forgotten.
- The log cleaner every ``log.cleaner.backoff.ms`` (default 15 s) when
  ``log.cleaner.enable``: compaction of ``cleanup.policy=compact`` partitions
  (:mod:`broker.storage.cleaner`).
- ``flush.ms``: logs not flushed for longer than their ``flush.ms`` are fdatasync'd.
  Kafka only checks this every ``log.flush.scheduler.interval.ms`` (default: never);
  Headwater checks every second, so setting ``flush.ms`` on a topic is enough.

Each pass is synchronous storage work on the event loop, between requests; fdatasync
runs on a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from broker.server.state import BrokerState
from broker.storage import cleaner
from broker.storage.log_config import NO_LIMIT

log = logging.getLogger(__name__)

FLUSH_CHECK_INTERVAL_S = 1.0


def run_retention(
    state: BrokerState, *, producer_id_expiration_ms: int, now_ms: int | None = None
) -> int:
    """Retention on every log, and expiry of idle idempotent producers' state."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    deleted = 0
    for partition_log in state.logs:
        try:
            deleted += partition_log.delete_expired(now)
            partition_log.producers.expire(now, producer_id_expiration_ms)
        except OSError as exc:
            log.error(
                "%s-%d: retention failed: %s", partition_log.topic, partition_log.partition, exc
            )
    return deleted


async def clean_due_logs(state: BrokerState) -> int:
    """One log-cleaner pass over compacted partitions: the offset map and the rewritten
    segments are built on a worker thread; only the swap runs on the event loop."""
    loop = asyncio.get_running_loop()
    cleaned = 0
    for partition_log in state.logs:
        now_ms = int(time.time() * 1000)
        plan = cleaner.plan(partition_log, now_ms)
        if plan is None:
            continue
        horizon = now_ms - partition_log.config.delete_retention_ms

        def build(plan: cleaner.CleanPlan = plan, horizon: int = horizon) -> dict:  # type: ignore[type-arg]
            return cleaner.write_cleaned(plan, cleaner.build_offset_map(plan), horizon)

        try:
            written = await loop.run_in_executor(None, build)
        except Exception:
            log.exception("%s-%d: cleaning failed", partition_log.topic, partition_log.partition)
            continue
        if state.logs.get(partition_log.topic, partition_log.partition) is not partition_log:
            for path, _removed in written.values():
                path.unlink(missing_ok=True)  # the topic went away meanwhile
            continue
        result = cleaner.swap_in(partition_log, plan, written)
        cleaned += 1
        log.info(
            "%s-%d: compacted %d segments, removed %d records, %d -> %d bytes",
            partition_log.topic,
            partition_log.partition,
            result.segments_rewritten,
            result.records_removed,
            result.bytes_before,
            result.bytes_after,
        )
    return cleaned


async def flush_due_logs(state: BrokerState) -> None:
    now_ms = int(time.time() * 1000)
    due = [
        partition_log
        for partition_log in state.logs
        if partition_log.config.flush_ms != NO_LIMIT
        and partition_log.dirty
        and now_ms - partition_log.last_flush_ms >= partition_log.config.flush_ms
    ]
    if due:
        await state.flusher.flush(due)


class BackgroundTasks:
    def __init__(
        self,
        state: BrokerState,
        *,
        retention_check_interval_ms: int,
        producer_id_expiration_ms: int,
        cleaner_backoff_ms: int | None = None,
    ) -> None:
        self.state = state
        self.cleaner_backoff_ms = cleaner_backoff_ms
        self.retention_check_interval_ms = retention_check_interval_ms
        self.producer_id_expiration_ms = producer_id_expiration_ms
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self._every(self.retention_check_interval_ms / 1000, self._retention)
            ),
            asyncio.create_task(self._every(FLUSH_CHECK_INTERVAL_S, self._flush)),
        ]
        if self.cleaner_backoff_ms is not None:
            self._tasks.append(
                asyncio.create_task(self._every(self.cleaner_backoff_ms / 1000, self._clean))
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _retention(self) -> None:
        deleted = run_retention(
            self.state, producer_id_expiration_ms=self.producer_id_expiration_ms
        )
        if deleted:
            log.info("retention deleted %d segments", deleted)

    async def _clean(self) -> None:
        await clean_due_logs(self.state)

    async def _flush(self) -> None:
        await flush_due_logs(self.state)

    @staticmethod
    async def _every(interval_s: float, work) -> None:  # type: ignore[no-untyped-def]
        while True:
            await asyncio.sleep(interval_s)
            try:
                await work()
            except Exception:
                log.exception("background task failed")
