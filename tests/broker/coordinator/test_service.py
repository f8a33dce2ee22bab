"""The asyncio service around the coordinator: held requests, appends, the timer, load."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence

from broker.coordinator.classic import JoinRequest, SyncRequest
from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.coordinator import GroupCoordinator
from broker.coordinator.group import GroupState
from broker.coordinator.offsets import CommitRequest, PartitionCommit
from broker.coordinator.results import OffsetsRecord
from broker.coordinator.service import GroupCoordinatorService
from broker.errors import BrokerError
from broker.errors import ErrorCode as E

FAST = GroupCoordinatorConfig(
    initial_rebalance_delay_ms=0,
    min_session_timeout_ms=10,
    offsets_retention_ms=100,
    offsets_retention_check_interval_ms=50,
    offsets_topic_num_partitions=3,
)


class MemoryLog:
    """An in-memory __consumer_offsets that can be told to fail."""

    def __init__(self, partitions: int | None = None) -> None:
        self.partitions = partitions
        self.records: dict[int, list[OffsetsRecord]] = {}
        self.fail: E | None = None

    def partition_count(self) -> int | None:
        return self.partitions

    def ensure(self) -> int:
        self.partitions = self.partitions or 3
        return self.partitions

    def append(self, partition: int, records: Sequence[OffsetsRecord], now_ms: int) -> None:
        if self.fail is not None:
            raise BrokerError(self.fail)
        self.records.setdefault(partition, []).extend(records)

    def read(self) -> Iterator[OffsetsRecord]:
        for partition in sorted(self.records):
            yield from self.records[partition]


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` on the loop (the service's timer runs meanwhile) until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


def join_request(member_id: str = "", session_ms: int = 5_000) -> JoinRequest:
    return JoinRequest(
        "g", member_id, None, "client", "/127.0.0.1", session_ms, session_ms, "consumer",
        (("range", b""),), 3,
    )  # fmt: skip


def test_join_and_sync_are_answered_and_the_assignment_is_stored() -> None:
    log = MemoryLog()

    async def scenario() -> None:
        service = GroupCoordinatorService(GroupCoordinator(FAST), log)
        joined = await service.join_group(join_request())
        synced = await service.sync_group(
            SyncRequest("g", 1, joined.member_id, None, None, None, {joined.member_id: b"a"})
        )
        assert (joined.error, synced.error, synced.assignment) == (E.none, E.none, b"a")
        await service.stop()

    asyncio.run(scenario())
    assert sum(len(r) for r in log.records.values()) == 1  # the GroupMetadata record


def test_a_held_join_is_answered_when_the_other_member_rejoins() -> None:
    async def scenario() -> None:
        service = GroupCoordinatorService(GroupCoordinator(FAST), MemoryLog())
        first = await service.join_group(join_request())
        second = asyncio.create_task(service.join_group(join_request()))
        await asyncio.sleep(0.01)
        assert not second.done()  # waiting for the first member to rejoin
        again = await service.join_group(join_request(first.member_id))
        assert (await second).generation_id == again.generation_id == 2
        await service.stop()

    asyncio.run(scenario())


def test_the_timer_expires_sessions_and_offsets() -> None:
    async def scenario() -> None:
        coordinator = GroupCoordinator(FAST)
        service = GroupCoordinatorService(coordinator, MemoryLog())
        await service.join_group(join_request(session_ms=30))
        assert coordinator.groups["g"].state is GroupState.COMPLETING_REBALANCE
        # the session ends; the group, empty and without offsets, goes at an expiry pass
        await eventually(lambda: "g" not in coordinator.groups)
        commit = CommitRequest("simple", -1, "", None, (PartitionCommit("t", 0, 5),))
        assert service.commit_offsets(commit) == {("t", 0): E.none}
        assert "simple" in coordinator.groups
        await eventually(lambda: "simple" not in coordinator.groups)  # offsets expired
        await service.stop()

    asyncio.run(scenario())


def test_a_failed_append_fails_the_commit_and_changes_nothing() -> None:
    log = MemoryLog()
    log.fail = E.kafka_storage_error

    async def scenario() -> None:
        coordinator = GroupCoordinator(FAST)
        service = GroupCoordinatorService(coordinator, log)
        commit = CommitRequest("g", -1, "", None, (PartitionCommit("t", 0, 5),))
        assert service.commit_offsets(commit) == {("t", 0): E.not_coordinator}
        assert service.fetch_offsets("g", [("t", [0])])[0][1][0].offset == -1
        await service.stop()

    asyncio.run(scenario())


def test_load_restores_groups_and_uses_the_topics_partition_count() -> None:
    log = MemoryLog()

    async def commit() -> None:
        service = GroupCoordinatorService(GroupCoordinator(FAST), log)
        service.commit_offsets(CommitRequest("g", -1, "", None, (PartitionCommit("t", 1, 9),)))
        await service.stop()

    asyncio.run(commit())
    coordinator = GroupCoordinator(GroupCoordinatorConfig(offsets_topic_num_partitions=50))
    service = GroupCoordinatorService(coordinator, log)
    service.load()
    assert coordinator.num_partitions == 3  # the existing topic's, not the setting
    assert service.fetch_offsets("g", None)[0][1][0].offset == 9
