"""A group coordinator driven by hand: a fake clock, an in-memory ``__consumer_offsets``
and held requests as tokens, doing exactly what the asyncio service does but
synchronously, so rebalances are tested without sockets, tasks or sleeps."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from broker.coordinator.classic import JoinRequest, SyncRequest
from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.coordinator import GroupCoordinator
from broker.coordinator.group import ClassicGroup
from broker.coordinator.offsets import CommitRequest, PartitionCommit
from broker.coordinator.results import (
    CoordinatorResult,
    GroupStored,
    JoinResponse,
    OffsetsRecord,
    SyncResponse,
)
from broker.errors import ErrorCode

CONSUMER = "consumer"
RANGE = ("range", b"range-metadata")


def subscription(*topics: str) -> bytes:
    """A ConsumerProtocolSubscription v0 naming ``topics``."""
    body = len(topics).to_bytes(4, "big", signed=True)
    for topic in topics:
        body += len(topic).to_bytes(2, "big") + topic.encode()
    return b"\x00\x00" + body + b"\xff\xff\xff\xff"  # user_data: null


@dataclass
class Harness:
    config: GroupCoordinatorConfig = field(
        default_factory=lambda: GroupCoordinatorConfig(initial_rebalance_delay_ms=0)
    )
    now: int = 1_000_000
    fail_appends: ErrorCode | None = None

    def __post_init__(self) -> None:
        ids = itertools.count(1)
        self.coordinator = GroupCoordinator(
            self.config, member_ids=lambda prefix: f"{prefix}-{next(ids)}"
        )
        self.log: dict[int, list[OffsetsRecord]] = defaultdict(list)
        self.answers: dict[int, Any] = {}
        self.answered_twice: list[int] = []
        self._tokens = itertools.count(1)

    # -- the service's job ------------------------------------------------------------
    def apply(self, result: CoordinatorResult[Any]) -> ErrorCode | None:
        error = None
        if result.records:
            if self.fail_appends is not None:
                error = self.fail_appends
            else:
                self.log[self.coordinator.partition_for(result.group_id)].extend(result.records)
                if result.replay:
                    for record in result.records:
                        self.coordinator.offsets.replay(record, self.now)
        if isinstance(result.follow_up, GroupStored):
            self.apply(self.coordinator.classic.on_group_stored(result.follow_up, error, self.now))
        elif result.follow_up is not None:
            self.apply(self.coordinator.classic.on_static_member_stored(result.follow_up, error))
        for token, response in result.completions:
            if token in self.answers:
                self.answered_twice.append(token)
            self.answers[token] = response
        return error

    def advance(self, ms: int) -> None:
        """Let ``ms`` pass, waking at every deadline on the way (as the timer does)."""
        target = self.now + ms
        while True:
            deadline = self.coordinator.next_deadline()
            if deadline is None or deadline > target:
                break
            self.now = max(self.now, deadline)
            for result in self.coordinator.poll(self.now):
                self.apply(result)
        self.now = target
        for result in self.coordinator.poll(self.now):
            self.apply(result)
        # a deadline that polling leaves in the past would spin the service's timer
        deadline = self.coordinator.next_deadline()
        assert deadline is None or deadline > self.now, f"stuck deadline {deadline} <= {self.now}"

    def records(self) -> list[OffsetsRecord]:
        return [record for partition in sorted(self.log) for record in self.log[partition]]

    # -- requests ---------------------------------------------------------------------
    def send_join(
        self,
        group: str = "g",
        member_id: str = "",
        *,
        instance_id: str | None = None,
        client_id: str = "client",
        session_timeout_ms: int = 10_000,
        rebalance_timeout_ms: int = 30_000,
        protocol_type: str = CONSUMER,
        protocols: tuple[tuple[str, bytes], ...] = (RANGE,),
        version: int = 5,
    ) -> int:
        """A JoinGroup, held or answered; returns its token (see :meth:`answer`)."""
        token = next(self._tokens)
        request = JoinRequest(
            group_id=group,
            member_id=member_id,
            group_instance_id=instance_id,
            client_id=client_id,
            client_host="/127.0.0.1",
            session_timeout_ms=session_timeout_ms,
            rebalance_timeout_ms=rebalance_timeout_ms,
            protocol_type=protocol_type,
            protocols=protocols,
            version=version,
        )
        self.apply(self.coordinator.classic.join(request, token, self.now))
        return token

    def join(self, group: str = "g", member_id: str = "", **kwargs: Any) -> JoinResponse:
        """A JoinGroup that must be answered at once."""
        token = self.send_join(group, member_id, **kwargs)
        return self.answer(token)

    def join_new_member(self, group: str = "g", **kwargs: Any) -> int:
        """Join as a new dynamic member the v4+ way (MEMBER_ID_REQUIRED, then rejoin);
        returns the token of the held second JoinGroup."""
        first = self.join(group, **kwargs)
        assert first.error == ErrorCode.member_id_required, first
        return self.send_join(group, first.member_id, **kwargs)

    def send_sync(
        self,
        group: str,
        member_id: str,
        generation: int,
        assignments: dict[str, bytes] | None = None,
        *,
        instance_id: str | None = None,
        protocol_type: str | None = None,
        protocol_name: str | None = None,
    ) -> int:
        token = next(self._tokens)
        request = SyncRequest(
            group, generation, member_id, instance_id, protocol_type, protocol_name,
            assignments or {},
        )  # fmt: skip
        self.apply(self.coordinator.classic.sync(request, token, self.now))
        return token

    def sync(self, *args: Any, **kwargs: Any) -> SyncResponse:
        return self.answer(self.send_sync(*args, **kwargs))

    def heartbeat(
        self, group: str, member_id: str, generation: int, instance_id: str | None = None
    ) -> ErrorCode:
        return self.coordinator.classic.heartbeat(
            group, member_id, instance_id, generation, self.now
        )

    def leave(self, group: str, *members: tuple[str, str | None]) -> Any:
        result = self.coordinator.classic.leave(group, list(members), self.now)
        self.apply(result)
        return result.response

    def commit(
        self,
        group: str,
        offsets: dict[tuple[str, int], int],
        *,
        member_id: str = "",
        generation: int = -1,
        instance_id: str | None = None,
        metadata: str | None = "",
        retention_ms: int = -1,
    ) -> dict[tuple[str, int], ErrorCode]:
        request = CommitRequest(
            group,
            generation,
            member_id,
            instance_id,
            tuple(PartitionCommit(t, p, o, 3, metadata) for (t, p), o in offsets.items()),
            retention_ms,
        )
        result = self.coordinator.offsets.commit(request, self.now)
        error = self.apply(result)
        assert error is None
        return result.response or {}

    def fetch(self, group: str, topics: list[tuple[str, list[int]]] | None = None) -> dict:
        return {
            (topic, row.partition): row.offset
            for topic, rows in self.coordinator.offsets.fetch(group, topics)
            for row in rows
        }

    def answer(self, token: int) -> Any:
        assert token in self.answers, f"request {token} is still held"
        return self.answers[token]

    def held(self, token: int) -> bool:
        return token not in self.answers

    def group(self, group_id: str = "g") -> ClassicGroup:
        return self.coordinator.groups[group_id]

    # -- whole rebalances ---------------------------------------------------------------
    def stable_group(self, members: int, group: str = "g", **kwargs: Any) -> list[str]:
        """A Stable group of ``members`` dynamic members; their IDs, leader first."""
        tokens = [self.join_new_member(group, **kwargs) for _ in range(members)]
        if any(self.held(t) for t in tokens):
            # the first members' generation completed without the later ones: they rejoin
            for index, token in [(i, t) for i, t in enumerate(tokens) if not self.held(t)]:
                tokens[index] = self.send_join(group, self.answer(token).member_id, **kwargs)
        responses = [self.answer(t) for t in tokens]
        generation = responses[0].generation_id
        leader = responses[0].leader
        ids = [r.member_id for r in responses]
        assignment = {member: f"assigned-{member}".encode() for member in ids}
        for member in ids:
            if member != leader:
                self.send_sync(group, member, generation)
        self.sync(group, leader, generation, assignment)
        assert self.group(group).state.value == "Stable"
        return [leader, *(m for m in ids if m != leader)]
