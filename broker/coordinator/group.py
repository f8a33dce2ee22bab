"""The classic consumer group: its members, its generation and its state machine.

States and the transitions between them (Kafka's ``ClassicGroupState``)::

    Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance
      ▲                 │     ▲                                               │
      │   no member left│     └───── member joins, leaves, fails ─────────────┤
      └─────────────────┘     └───── member joins, leaves, fails ── Stable ◀──┘ leader's SyncGroup
    any state ──DeleteGroups / offsets expired on an empty group──▶ Dead

:data:`VALID_PREVIOUS_STATES` is the table every transition is checked against; an
illegal transition is a coordinator bug and raises :class:`IllegalStateTransition`.

- **Empty**: no members; the group may still have committed offsets (a group that
  only stores offsets, e.g. of manually assigned consumers, stays Empty forever).
- **PreparingRebalance**: members must (re)send JoinGroup; their requests are held
  until every known member has joined or the rebalance timeout (the largest of the
  members' ``rebalance_timeout_ms``) expires; members that did not rejoin are removed.
- **CompletingRebalance**: JoinGroup responses went out with the new generation; the
  leader computes the assignment and sends it with its SyncGroup, which is persisted
  (a GroupMetadata record) before the held SyncGroup requests are answered.
- **Stable**: every member has its assignment; heartbeats keep members alive.
- **Dead**: the group was deleted; nothing may happen to it any more.

The model holds no timers: deadlines are plain numbers (ms since the epoch) compared
against the ``now_ms`` every operation receives.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final


class GroupState(StrEnum):
    """Kafka's state names, as ListGroups and DescribeGroups report them."""

    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


_S = GroupState

VALID_PREVIOUS_STATES: Final[Mapping[GroupState, frozenset[GroupState]]] = {
    # a rebalance ended with no member left, or offsets were loaded for a new group
    _S.EMPTY: frozenset({_S.PREPARING_REBALANCE}),
    # a member joined, left or failed; or the leader rejoined; or sync timed out
    _S.PREPARING_REBALANCE: frozenset({_S.EMPTY, _S.STABLE, _S.COMPLETING_REBALANCE}),
    # every member rejoined (or the rebalance timeout expired) with members left
    _S.COMPLETING_REBALANCE: frozenset({_S.PREPARING_REBALANCE}),
    # the leader's assignment was persisted
    _S.STABLE: frozenset({_S.COMPLETING_REBALANCE}),
    # deleted, or emptied of offsets by expiry; from anywhere
    _S.DEAD: frozenset(GroupState),
}
"""For each state, the states a group may enter it from."""


class IllegalStateTransition(RuntimeError):
    """A transition the table does not allow: a coordinator bug, never a client error."""


CONSUMER_PROTOCOL_TYPE: Final = "consumer"
NEW_MEMBER_JOIN_TIMEOUT_MS: Final = 5 * 60 * 1000
"""How long a new member's held JoinGroup keeps it alive without heartbeats (KIP-394)."""

Protocols = tuple[tuple[str, bytes], ...]


@dataclass(slots=True)
class Member:
    """One member of a classic group (Kafka's ``ClassicGroupMember``).

    ``join_token`` / ``sync_token`` identify a JoinGroup / SyncGroup request the
    coordinator is holding for this member (the service maps tokens to futures).
    """

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: Protocols
    assignment: bytes = b""
    join_token: int | None = None
    sync_token: int | None = None
    join_version: int = 0  # the JoinGroup version of the held request
    heartbeat_deadline_ms: int = 0
    is_new: bool = False

    @property
    def is_static(self) -> bool:
        return self.group_instance_id is not None

    @property
    def awaiting_join(self) -> bool:
        return self.join_token is not None

    @property
    def awaiting_sync(self) -> bool:
        return self.sync_token is not None

    def protocol_names(self) -> list[str]:
        return [name for name, _metadata in self.protocols]

    def metadata(self, protocol: str | None) -> bytes:
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""

    def matches(self, protocols: Protocols) -> bool:
        """Same protocols, same order, same metadata: rejoining changes nothing."""
        return self.protocols == protocols

    def vote(self, candidates: Iterable[str]) -> str:
        """The member's most preferred protocol among ``candidates``."""
        allowed = set(candidates)
        return next(name for name in self.protocol_names() if name in allowed)

    def should_keep_alive(self, now_ms: int) -> bool:
        """Kafka's rule: a held JoinGroup keeps a member alive (a new member only until
        its join timeout), a held SyncGroup always; otherwise heartbeats do."""
        if self.awaiting_join:
            return not self.is_new or self.heartbeat_deadline_ms > now_ms
        if self.awaiting_sync:
            return True
        return self.heartbeat_deadline_ms > now_ms


@dataclass(slots=True)
class OffsetAndMetadata:
    """A committed offset as stored in an OffsetCommitValue record."""

    offset: int
    leader_epoch: int
    metadata: str
    commit_timestamp_ms: int
    expire_timestamp_ms: int | None = None


TopicPartition = tuple[str, int]


@dataclass(slots=True)
class ClassicGroup:
    """A classic group; also the home of the group's committed offsets."""

    group_id: str
    state: GroupState = GroupState.EMPTY
    state_timestamp_ms: int | None = None
    generation_id: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, Member] = field(default_factory=dict)  # in join order
    static_members: dict[str, str] = field(default_factory=dict)  # instance id -> member id
    pending_members: dict[str, int] = field(default_factory=dict)  # member id -> deadline
    pending_sync: set[str] = field(default_factory=set)
    offsets: dict[TopicPartition, OffsetAndMetadata] = field(default_factory=dict)
    # the held rebalance (Kafka's DelayedJoin / InitialDelayedJoin)
    join_deadline_ms: int | None = None
    initial_delay_ms: int = 0  # > 0 while the initial rebalance delay is running
    initial_delay_remaining_ms: int = 0
    new_member_added: bool = False
    sync_deadline_ms: int | None = None

    # -- state machine --------------------------------------------------------------
    def transition_to(self, target: GroupState, now_ms: int) -> None:
        if self.state not in VALID_PREVIOUS_STATES[target]:
            raise IllegalStateTransition(
                f"group {self.group_id!r}: {self.state} -> {target} is not a valid transition"
            )
        self.state = target
        self.state_timestamp_ms = now_ms

    def is_in(self, *states: GroupState) -> bool:
        return self.state in states

    @property
    def can_rebalance(self) -> bool:
        return self.state in VALID_PREVIOUS_STATES[GroupState.PREPARING_REBALANCE]

    # -- members --------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.members)

    def is_empty(self) -> bool:
        return not self.members

    def has_member(self, member_id: str) -> bool:
        return member_id in self.members

    def is_leader(self, member_id: str) -> bool:
        return self.leader_id == member_id

    def static_member_id(self, instance_id: str | None) -> str | None:
        return None if instance_id is None else self.static_members.get(instance_id)

    def is_static_member_fenced(self, member_id: str, instance_id: str | None) -> bool:
        """Another member ID holds this ``group.instance.id`` (KIP-345)."""
        known = self.static_member_id(instance_id)
        return known is not None and known != member_id

    def add_member(self, member: Member) -> None:
        if not self.members:
            self.protocol_type = member.protocol_type
        self.members[member.member_id] = member
        if self.leader_id is None:
            self.leader_id = member.member_id
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        self.pending_members.pop(member.member_id, None)

    def remove_member(self, member_id: str) -> Member | None:
        member = self.members.pop(member_id, None)
        if member is None:
            return None
        if (
            member.group_instance_id is not None
            and self.static_members.get(member.group_instance_id) == member_id
        ):
            del self.static_members[member.group_instance_id]
        self.pending_sync.discard(member_id)
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        return member

    def replace_static_member(self, instance_id: str, old_id: str, new_id: str) -> Member:
        """A static member rejoined under a new member ID: it keeps its place, metadata
        and assignment; the old ID is gone (requests held for it are the caller's)."""
        old = self.members[old_id]
        members = {}
        for member_id, member in self.members.items():
            members[new_id if member_id == old_id else member_id] = member
        self.members = members
        old.member_id = new_id
        self.static_members[instance_id] = new_id
        if old_id in self.pending_sync:
            self.pending_sync.discard(old_id)
            self.pending_sync.add(new_id)
        if self.leader_id == old_id:
            self.leader_id = new_id
        return old

    def not_yet_rejoined(self) -> list[Member]:
        return [m for m in self.members.values() if not m.awaiting_join]

    def has_all_members_joined(self) -> bool:
        return not self.pending_members and all(m.awaiting_join for m in self.members.values())

    def max_rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    # -- protocols ------------------------------------------------------------------
    def candidate_protocols(self) -> set[str]:
        """Protocols every member supports."""
        members = iter(self.members.values())
        first = next(members, None)
        if first is None:
            return set()
        candidates = set(first.protocol_names())
        for member in members:
            candidates &= set(member.protocol_names())
        return candidates

    def supports_protocols(self, protocol_type: str, protocols: Iterable[str]) -> bool:
        names = set(protocols)
        if not self.members:
            return bool(protocol_type) and bool(names)
        return self.protocol_type == protocol_type and bool(self.candidate_protocols() & names)

    def select_protocol(self) -> str:
        """Each member votes for its most preferred common protocol; most votes wins
        (ties go to the protocol the earliest member prefers)."""
        candidates = self.candidate_protocols()
        votes = Counter(member.vote(candidates) for member in self.members.values())
        best = max(votes.values())
        for member in self.members.values():
            choice = member.vote(candidates)
            if votes[choice] == best:
                return choice
        raise AssertionError("a group with members always has a vote")

    def subscribed_topics(self) -> set[str] | None:
        """Topics the members subscribe to, when they speak the consumer protocol and
        their subscriptions parse; None when unknown (treated as "everything")."""
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE or self.protocol_name is None:
            return None if self.members else set()
        topics: set[str] = set()
        for member in self.members.values():
            parsed = parse_subscription_topics(member.metadata(self.protocol_name))
            if parsed is None:
                return None
            topics.update(parsed)
        return topics


def parse_subscription_topics(metadata: bytes) -> list[str] | None:
    """The topics of a ConsumerProtocolSubscription (every version starts with
    ``version int16, topics [string]``); None if it does not parse."""
    try:
        (count,) = struct.unpack_from(">i", metadata, 2)
        position = 6
        topics = []
        for _ in range(count):
            (length,) = struct.unpack_from(">h", metadata, position)
            position += 2
            if length < 0 or position + length > len(metadata):
                return None
            topics.append(metadata[position : position + length].decode())
            position += length
        return topics
    except (struct.error, UnicodeDecodeError):
        return None
