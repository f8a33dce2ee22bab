"""The asyncio adapter around the sans-IO :class:`GroupCoordinator`.

It does the three things the coordinator may not:

- **IO**: the records of each result are appended to the group's ``__consumer_offsets``
  partition through an :class:`OffsetsLog` (created on the first write; read back by
  :meth:`GroupCoordinatorService.load` at start-up). Only then do offsets change
  (replay) and do held SyncGroups get their assignment (follow-ups).
- **Waiting**: JoinGroup and SyncGroup long-poll. Each gets a token and a future; the
  coordinator answers tokens in ``completions``, now or later, and the service
  resolves the futures. A connection handles one request at a time (as Kafka's does),
  so a held JoinGroup holds only its own connection.
- **Time**: one task sleeps until the coordinator's next deadline (or until an
  operation changed the deadlines), then feeds the current time to ``poll``; every
  ``offsets.retention.check.interval.ms`` it runs the offset expiry pass.

Everything runs on the broker's event loop: the coordinator needs no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from broker.coordinator.classic import JoinRequest, SyncRequest
from broker.coordinator.consumer_group import ConsumerGroup, HeartbeatRequest, HeartbeatResponse
from broker.coordinator.coordinator import GroupCoordinator
from broker.coordinator.group import TopicPartition
from broker.coordinator.offsets import CommitErrors, CommitRequest
from broker.coordinator.results import (
    CoordinatorResult,
    DescribedGroup,
    GroupStored,
    JoinResponse,
    LeaveResponse,
    ListedGroup,
    OffsetFetchPartition,
    OffsetsRecord,
    SyncResponse,
    append_error,
)
from broker.errors import BrokerError, ErrorCode

log = logging.getLogger(__name__)


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class OffsetsLog(Protocol):
    """Where the coordinator's records go: the ``__consumer_offsets`` topic."""

    def partition_count(self) -> int | None:
        """Partitions of the topic, None while it does not exist."""
        ...

    def ensure(self) -> int:
        """Create the topic if needed; its partition count."""
        ...

    def append(self, partition: int, records: Sequence[OffsetsRecord], now_ms: int) -> None:
        """Append as one batch; raises :class:`BrokerError` if the write fails."""
        ...

    def read(self) -> Iterator[OffsetsRecord]:
        """Every record, partition by partition, each in log order."""
        ...


class GroupCoordinatorService:
    def __init__(
        self,
        coordinator: GroupCoordinator,
        offsets_log: OffsetsLog,
        *,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.coordinator = coordinator
        self.offsets_log = offsets_log
        self.clock = clock
        self._tokens = itertools.count(1)
        self._waiters: dict[int, asyncio.Future[Any]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._topic_ready = False

    # -- lifecycle --------------------------------------------------------------------
    def load(self) -> None:
        """Read ``__consumer_offsets`` back (start-up; synchronous, before serving)."""
        count = self.offsets_log.partition_count()
        if count is None:
            return
        self._use_partition_count(count)
        self.coordinator.load(self.offsets_log.read(), self.clock())

    def _use_partition_count(self, count: int) -> None:
        if count != self.coordinator.config.offsets_topic_num_partitions:
            log.warning(
                "__consumer_offsets has %d partitions, not offsets.topic.num.partitions=%d: "
                "using the topic's",
                count,
                self.coordinator.config.offsets_topic_num_partitions,
            )
        self.coordinator.num_partitions = count
        self._topic_ready = True

    def start(self) -> None:
        """Start the timer task (idempotent; every operation also makes sure of it, so
        the coordinator works on any running loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="group-coordinator")

    async def stop(self) -> None:
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            self._stopping = False

    # -- classic groups ---------------------------------------------------------------
    async def join_group(self, request: JoinRequest) -> JoinResponse:
        return await self._held(
            lambda token: self.coordinator.classic.join(request, token, self.clock())
        )  # type: ignore[no-any-return]

    async def sync_group(self, request: SyncRequest) -> SyncResponse:
        return await self._held(
            lambda token: self.coordinator.classic.sync(request, token, self.clock())
        )  # type: ignore[no-any-return]

    def heartbeat(
        self, group_id: str, member_id: str, instance_id: str | None, generation_id: int
    ) -> ErrorCode:
        self.start()
        error = self.coordinator.classic.heartbeat(
            group_id, member_id, instance_id, generation_id, self.clock()
        )
        self._wake.set()
        return error

    def leave_group(self, group_id: str, members: list[tuple[str, str | None]]) -> LeaveResponse:
        self.start()
        result = self.coordinator.classic.leave(group_id, members, self.clock())
        self._apply(result)
        assert result.response is not None
        return result.response  # type: ignore[no-any-return]

    async def _held(self, operation: Callable[[int], CoordinatorResult[Any]]) -> Any:
        self.start()
        token = next(self._tokens)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters[token] = future
        try:
            self._apply(operation(token))
            return await future
        finally:
            self._waiters.pop(token, None)

    # -- KIP-848 consumer groups ------------------------------------------------------
    def consumer_group_heartbeat(
        self, request: HeartbeatRequest, topics: Mapping[str, int]
    ) -> HeartbeatResponse:
        self.start()
        response = self.coordinator.consumer.heartbeat(request, topics, self.clock())
        self._wake.set()
        return response

    def consumer_group(self, group_id: str) -> ConsumerGroup | None:
        self.start()
        return self.coordinator.consumer.groups.get(group_id)

    # -- offsets ----------------------------------------------------------------------
    def commit_offsets(self, request: CommitRequest) -> CommitErrors:
        self.start()
        result = self.coordinator.offsets.commit(request, self.clock())
        error = self._apply(result)
        errors = result.response or {}
        if error is not None:
            failed = append_error(error)
            errors = {tp: failed if e == ErrorCode.none else e for tp, e in errors.items()}
        return errors

    def fetch_offsets(
        self, group_id: str, topics: Iterable[tuple[str, Iterable[int]]] | None
    ) -> list[tuple[str, list[OffsetFetchPartition]]]:
        return self.coordinator.offsets.fetch(group_id, topics)

    def validate_offset_fetch(
        self, group_id: str, member_id: str | None, member_epoch: int
    ) -> ErrorCode | None:
        return self.coordinator.consumer.validate_offset_fetch(group_id, member_id, member_epoch)

    def delete_offsets(
        self, group_id: str, partitions: Iterable[TopicPartition]
    ) -> tuple[ErrorCode, CommitErrors]:
        result = self.coordinator.offsets.delete(group_id, partitions)
        error = self._apply(result)
        assert result.response is not None
        top, errors = result.response
        if error is not None:
            return append_error(error), {}
        return top, errors

    def topic_deleted(self, topic: str) -> None:
        """Drop the committed offsets of a deleted topic."""
        for result in self.coordinator.delete_topic_offsets(topic):
            self._apply(result)

    # -- admin ------------------------------------------------------------------------
    def list_groups(
        self, states: Iterable[str] = (), types: Iterable[str] = ()
    ) -> list[ListedGroup]:
        self.start()
        return self.coordinator.list_groups(states, types)

    def describe_group(self, group_id: str) -> DescribedGroup | None:
        self.start()
        return self.coordinator.describe_group(group_id)

    def delete_group(self, group_id: str) -> ErrorCode:
        result = self.coordinator.delete_group(group_id, self.clock())
        error = self._apply(result)
        assert result.response is not None
        return append_error(error) if error is not None else result.response

    # -- applying results -------------------------------------------------------------
    def _apply(self, result: CoordinatorResult[Any]) -> ErrorCode | None:
        """Append, replay, run the follow-up, complete held requests; the append's
        error code if it failed."""
        now = self.clock()
        error: ErrorCode | None = None
        if result.records:
            try:
                self._append(result.group_id, result.records, now)
            except BrokerError as exc:
                error = exc.code
                log.error(
                    "group %s: appending %d records to __consumer_offsets failed: %s",
                    result.group_id,
                    len(result.records),
                    exc,
                )
            else:
                if result.replay:
                    for record in result.records:
                        self.coordinator.offsets.replay(record, now)
        follow_up = result.follow_up
        if isinstance(follow_up, GroupStored):
            self._apply(self.coordinator.classic.on_group_stored(follow_up, error, now))
        elif follow_up is not None:
            self._apply(self.coordinator.classic.on_static_member_stored(follow_up, error))
        for token, response in result.completions:
            future = self._waiters.get(token)
            if future is not None and not future.done():
                future.set_result(response)
        self._wake.set()
        return error

    def _append(self, group_id: str, records: Sequence[OffsetsRecord], now_ms: int) -> None:
        if not self._topic_ready:
            self._use_partition_count(self.offsets_log.ensure())
        self.offsets_log.append(self.coordinator.partition_for(group_id), records, now_ms)

    # -- the timer --------------------------------------------------------------------
    async def _run(self) -> None:
        interval = self.coordinator.config.offsets_retention_check_interval_ms
        next_expiry = self.clock() + interval
        while not self._stopping:
            self._wake.clear()
            now = self.clock()
            deadline = self.coordinator.next_deadline()
            wake_at = next_expiry if deadline is None else min(deadline, next_expiry)
            # asyncio.wait, not wait_for: Python 3.11's wait_for can swallow a cancellation
            # that arrives as the event fires, and stop() would then wait forever
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({woken}, timeout=max(wake_at - now, 1) / 1000)
            finally:
                woken.cancel()
            if self._stopping:
                return
            now = self.clock()
            try:
                for result in self.coordinator.poll(now):
                    self._apply(result)
                if now >= next_expiry:
                    next_expiry = now + interval
                    for result in self.coordinator.expire_offsets(now):
                        self._apply(result)
            except Exception:
                log.exception("group coordinator timer failed")
