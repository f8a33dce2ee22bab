"""The broker's periodic housekeeping, as Kafka's LogManager schedules it.

- Retention every ``log.retention.check.interval.ms`` (default 5 minutes): whole
  segments past ``retention.ms`` / ``retention.bytes`` or below a DeleteRecords log
  start offset are deleted, and idempotent producers idle for longer than
  ``producer.id.expiration.ms`` are forgotten.
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
    ) -> None:
        self.state = state
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
