"""KIP-848 consumer groups: ConsumerGroupHeartbeat with server-side assignment.

A member only heartbeats; the coordinator computes a target assignment with the group's
assignor whenever the group epoch moves (a member joined, left, failed or changed its
subscription, or a subscribed topic changed its partition count), and reconciles each
member towards its target one heartbeat at a time, as Kafka's
``CurrentAssignmentBuilder`` does:

1. partitions the member owns but must give up are taken out of its assignment first;
   its epoch stays while it still owns them (it may commit their offsets);
2. once its heartbeat no longer reports them (it revoked them), it moves to the
   target epoch and gets the target's new partitions that no other member still owns;
3. partitions still owned elsewhere are added on a later heartbeat, once released.

Members are fenced (FENCED_MEMBER_EPOCH) when they heartbeat with an epoch that is
neither their current nor their previous one, removed when their session
(``group.consumer.session.timeout.ms``) ends or when they do not revoke within their
rebalance timeout. Epoch -1 leaves; -2 is a static member's temporary leave: its
``group.instance.id`` keeps its assignment for the next member that brings it.

Membership is held in memory only: after a broker restart members get
UNKNOWN_MEMBER_ID and rejoin (committed offsets are in ``__consumer_offsets`` as for
every group). Topics are addressed by name here; handlers translate topic IDs.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from broker.coordinator.assignors import ASSIGNORS, Assignment
from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.group import ClassicGroup
from broker.errors import ErrorCode

log = logging.getLogger(__name__)

E = ErrorCode
LEAVE_EPOCH = -1
STATIC_LEAVE_EPOCH = -2


class ConsumerGroupState(StrEnum):
    EMPTY = "Empty"
    ASSIGNING = "Assigning"
    RECONCILING = "Reconciling"
    STABLE = "Stable"
    DEAD = "Dead"


@dataclass(slots=True)
class ConsumerMember:
    member_id: str
    instance_id: str | None
    rack_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    subscribed_topics: set[str] = field(default_factory=set)
    subscribed_regex: str | None = None
    server_assignor: str | None = None
    epoch: int = 0
    previous_epoch: int = -1
    assigned: Assignment = field(default_factory=dict)
    revoking: Assignment = field(default_factory=dict)
    sent: Assignment | None = None
    session_deadline_ms: int = 0
    revocation_deadline_ms: int | None = None
    left_static: bool = False  # epoch -2: away, keeping its assignment for its instance


@dataclass(slots=True)
class ConsumerGroup:
    group_id: str
    group_epoch: int = 0
    assignment_epoch: int = 0
    members: dict[str, ConsumerMember] = field(default_factory=dict)
    target: dict[str, Assignment] = field(default_factory=dict)
    subscribed_partitions: dict[str, int] = field(default_factory=dict)
    assignor: str = "uniform"

    def active(self) -> list[ConsumerMember]:
        return [m for m in self.members.values() if not m.left_static]

    @property
    def state(self) -> ConsumerGroupState:
        if not self.members:
            return ConsumerGroupState.EMPTY
        if self.group_epoch > self.assignment_epoch:
            return ConsumerGroupState.ASSIGNING
        for member in self.members.values():
            if (
                member.epoch != self.assignment_epoch
                or member.revoking
                or member.assigned != self.target.get(member.member_id, {})
            ):
                return ConsumerGroupState.RECONCILING
        return ConsumerGroupState.STABLE


@dataclass(frozen=True, slots=True)
class HeartbeatRequest:
    group_id: str
    member_id: str
    member_epoch: int
    instance_id: str | None
    rack_id: str | None
    rebalance_timeout_ms: int
    subscribed_topic_names: tuple[str, ...] | None
    subscribed_topic_regex: str | None
    server_assignor: str | None
    owned: Assignment | None  # None: unchanged since the last heartbeat
    client_id: str = ""
    client_host: str = ""


@dataclass(frozen=True, slots=True)
class HeartbeatResponse:
    error: ErrorCode
    member_id: str | None = None
    member_epoch: int = 0
    heartbeat_interval_ms: int = 0
    assignment: Assignment | None = None
    message: str | None = None


def _copy(assignment: Assignment) -> Assignment:
    return {topic: set(ps) for topic, ps in assignment.items() if ps}


def _minus(a: Assignment, b: Assignment) -> Assignment:
    return _copy({t: ps - b.get(t, set()) for t, ps in a.items()})


def _and(a: Assignment, b: Assignment) -> Assignment:
    return _copy({t: ps & b.get(t, set()) for t, ps in a.items()})


class ConsumerGroups:
    """The KIP-848 groups of the coordinator. ``shells`` are the coordinator's classic
    groups: a consumer group's committed offsets live in an empty classic group of the
    same ID, which also makes the two protocols exclusive for one group ID."""

    def __init__(self, config: GroupCoordinatorConfig, shells: dict[str, ClassicGroup]) -> None:
        self.config = config
        self.shells = shells
        self.groups: dict[str, ConsumerGroup] = {}

    def heartbeat(
        self, request: HeartbeatRequest, topics: Mapping[str, int], now_ms: int
    ) -> HeartbeatResponse:
        """One ConsumerGroupHeartbeat; ``topics`` maps every topic name to its partition
        count (the metadata image the assignment is computed from)."""

        def fail(error: ErrorCode, message: str | None = None) -> HeartbeatResponse:
            return HeartbeatResponse(error, message=message)

        if not request.group_id:
            return fail(E.invalid_request, "GroupId can't be empty.")
        if request.server_assignor is not None and request.server_assignor not in ASSIGNORS:
            return fail(E.unsupported_assignor, f"{request.server_assignor} is not supported.")
        shell = self.shells.get(request.group_id)
        if shell is not None and shell.members:
            return fail(E.group_id_not_found, f"Group {request.group_id} is not a consumer group.")
        group = self.groups.get(request.group_id)
        if request.member_epoch in (LEAVE_EPOCH, STATIC_LEAVE_EPOCH):
            return self._leave(group, request, now_ms)
        if request.member_epoch == 0:
            if request.subscribed_topic_names is None and request.subscribed_topic_regex is None:
                return fail(E.invalid_request, "SubscribedTopicNames must be set in first request.")
            if group is None:
                group = self._create(request.group_id, now_ms)
            joined = self._join(group, request, now_ms)
            if isinstance(joined, HeartbeatResponse):
                return joined
            member = joined
        else:
            member = group.members.get(request.member_id) if group is not None else None
            if group is None or member is None or member.left_static:
                return fail(E.unknown_member_id)
            if request.member_epoch != member.epoch and not (
                request.member_epoch == member.previous_epoch
                and request.owned is not None
                and not _minus(request.owned, member.assigned)
            ):
                return fail(E.fenced_member_epoch)
        self._update(group, member, request, now_ms)
        self._maybe_compute_target(group, topics)
        self._reconcile(group, member, now_ms)
        assignment = None
        if member.sent is None or member.sent != member.assigned:
            assignment = _copy(member.assigned)
            member.sent = _copy(member.assigned)
        return HeartbeatResponse(
            E.none,
            member.member_id,
            member.epoch,
            self.config.consumer_heartbeat_interval_ms,
            assignment,
        )

    # -- membership -------------------------------------------------------------------
    def _create(self, group_id: str, now_ms: int) -> ConsumerGroup:
        group = ConsumerGroup(group_id, assignor=self.config.consumer_assignors[0])
        self.groups[group_id] = group
        shell = self.shells.setdefault(group_id, ClassicGroup(group_id, state_timestamp_ms=now_ms))
        shell.protocol_type = "consumer"
        return group

    def _join(
        self, group: ConsumerGroup, request: HeartbeatRequest, now_ms: int
    ) -> ConsumerMember | HeartbeatResponse:
        member_id = request.member_id or str(uuid.uuid4())
        existing = group.members.get(member_id)
        if request.instance_id is not None:
            holder = next(
                (m for m in group.members.values() if m.instance_id == request.instance_id), None
            )
            if holder is not None and holder.member_id != member_id:
                if not holder.left_static:
                    return HeartbeatResponse(
                        E.unreleased_instance_id,
                        message=f"Static member {request.instance_id} is still in use.",
                    )
                # the instance comes back: it keeps its assignment and epoch, no rebalance
                old_id = holder.member_id
                del group.members[old_id]
                holder.member_id = member_id
                holder.left_static = False
                holder.sent = None
                group.members[member_id] = holder
                group.target[member_id] = group.target.pop(old_id, {})
                return holder
        if len(group.active()) >= self.config.consumer_max_size and existing is None:
            return HeartbeatResponse(E.group_max_size_reached)
        if existing is not None:  # rejoining after being fenced: starts over
            self._remove(group, existing, now_ms)
        member = ConsumerMember(
            member_id=member_id,
            instance_id=request.instance_id,
            rack_id=request.rack_id,
            client_id=request.client_id,
            client_host=request.client_host,
            rebalance_timeout_ms=request.rebalance_timeout_ms,
        )
        group.members[member_id] = member
        group.group_epoch += 1
        log.info(
            "consumer group %s: member %s joined, epoch %d",
            group.group_id,
            member_id,
            group.group_epoch,
        )
        return member

    def _update(
        self, group: ConsumerGroup, member: ConsumerMember, request: HeartbeatRequest, now_ms: int
    ) -> None:
        member.session_deadline_ms = now_ms + self.config.consumer_session_timeout_ms
        if request.rebalance_timeout_ms > 0:
            member.rebalance_timeout_ms = request.rebalance_timeout_ms
        if request.client_id:
            member.client_id, member.client_host = request.client_id, request.client_host
        if request.rack_id is not None:
            member.rack_id = request.rack_id
        if request.server_assignor is not None:
            member.server_assignor = request.server_assignor
            group.assignor = request.server_assignor
        changed = False
        if request.subscribed_topic_names is not None:
            topics = set(request.subscribed_topic_names)
            changed |= topics != member.subscribed_topics
            member.subscribed_topics = topics
        if request.subscribed_topic_regex is not None:
            changed |= request.subscribed_topic_regex != member.subscribed_regex
            member.subscribed_regex = request.subscribed_topic_regex or None
        if changed:
            group.group_epoch += 1
        if request.owned is not None and member.revoking:
            member.revoking = _and(member.revoking, request.owned)  # what it still holds
            if not member.revoking:
                member.revocation_deadline_ms = None

    def _leave(
        self, group: ConsumerGroup | None, request: HeartbeatRequest, now_ms: int
    ) -> HeartbeatResponse:
        member = group.members.get(request.member_id) if group is not None else None
        if group is None or member is None:
            return HeartbeatResponse(E.unknown_member_id)
        if request.member_epoch == STATIC_LEAVE_EPOCH and member.instance_id is not None:
            member.left_static = True
            member.session_deadline_ms = now_ms + self.config.consumer_session_timeout_ms
        else:
            self._remove(group, member, now_ms)
        log.info("consumer group %s: member %s left", group.group_id, member.member_id)
        return HeartbeatResponse(E.none, member.member_id, request.member_epoch)

    def _remove(self, group: ConsumerGroup, member: ConsumerMember, now_ms: int) -> None:
        group.members.pop(member.member_id, None)
        group.target.pop(member.member_id, None)
        group.group_epoch += 1
        if not group.members:
            shell = self.shells.get(group.group_id)
            if shell is not None:
                shell.state_timestamp_ms = now_ms  # offsets retention counts from now

    # -- assignment -------------------------------------------------------------------
    def _subscribed(self, group: ConsumerGroup, topics: Mapping[str, int]) -> dict[str, set[str]]:
        subscriptions = {}
        for member in group.members.values():
            wanted = {t for t in member.subscribed_topics if t in topics}
            if member.subscribed_regex:
                try:
                    pattern = re.compile(member.subscribed_regex)
                except re.error:
                    pattern = None
                if pattern is not None:
                    wanted |= {t for t in topics if pattern.fullmatch(t) and not t.startswith("__")}
            subscriptions[member.member_id] = wanted
        return subscriptions

    def _maybe_compute_target(self, group: ConsumerGroup, topics: Mapping[str, int]) -> None:
        subscriptions = self._subscribed(group, topics)
        wanted = set().union(*subscriptions.values()) if subscriptions else set()
        partitions = {t: topics[t] for t in wanted}
        if partitions != group.subscribed_partitions:
            group.subscribed_partitions = partitions
            group.group_epoch += 1
        if group.group_epoch <= group.assignment_epoch:
            return
        current = {m.member_id: m.assigned for m in group.members.values()}
        group.target = ASSIGNORS[group.assignor](subscriptions, partitions, current)
        group.assignment_epoch = group.group_epoch

    def _reconcile(self, group: ConsumerGroup, member: ConsumerMember, now_ms: int) -> None:
        if member.revoking:
            return  # waiting for the member to give partitions up
        target = group.target.get(member.member_id, {})
        revoke = _minus(member.assigned, target)
        if revoke:
            member.revoking = revoke
            member.assigned = _and(member.assigned, target)
            member.revocation_deadline_ms = now_ms + member.rebalance_timeout_ms
            return
        held_elsewhere: Assignment = {}
        for other in group.members.values():
            if other is not member:
                for source in (other.assigned, other.revoking):
                    for topic, ps in source.items():
                        held_elsewhere.setdefault(topic, set()).update(ps)
        new = _minus(_minus(target, member.assigned), held_elsewhere)
        for topic, ps in new.items():
            member.assigned.setdefault(topic, set()).update(ps)
        if member.epoch != group.assignment_epoch:
            member.previous_epoch, member.epoch = member.epoch, group.assignment_epoch

    # -- timeouts ---------------------------------------------------------------------
    def poll(self, now_ms: int) -> None:
        for group in list(self.groups.values()):
            for member in list(group.members.values()):
                expired = member.session_deadline_ms <= now_ms
                stuck = (
                    member.revocation_deadline_ms is not None
                    and member.revocation_deadline_ms <= now_ms
                )
                if expired or stuck:
                    log.info(
                        "consumer group %s: member %s %s",
                        group.group_id,
                        member.member_id,
                        "failed" if expired else "did not revoke in time",
                    )
                    self._remove(group, member, now_ms)

    def next_deadline(self) -> int | None:
        deadlines = [
            d
            for group in self.groups.values()
            for member in group.members.values()
            for d in (member.session_deadline_ms, member.revocation_deadline_ms)
            if d is not None
        ]
        return min(deadlines, default=None)

    # -- offsets and admin -------------------------------------------------------------
    def has_members(self, group_id: str) -> bool:
        group = self.groups.get(group_id)
        return group is not None and bool(group.members)

    def validate_offset_commit(self, group_id: str, member_id: str, epoch: int) -> ErrorCode | None:
        """For a consumer group with members: None if the commit may go ahead."""
        group = self.groups.get(group_id)
        if group is None or not group.members:
            return None
        member = group.members.get(member_id)
        if member is None:
            return E.unknown_member_id
        if epoch != member.epoch:
            return E.stale_member_epoch
        return None

    def validate_offset_fetch(
        self, group_id: str, member_id: str | None, epoch: int
    ) -> ErrorCode | None:
        """OffsetFetch v9 from a member (an admin fetch names no member): None if fine."""
        group = self.groups.get(group_id)
        if group is None or not group.members or member_id is None or epoch < 0:
            return None
        member = group.members.get(member_id)
        if member is None:
            return E.unknown_member_id
        return E.stale_member_epoch if epoch != member.epoch else None

    def forget(self, group_id: str) -> None:
        self.groups.pop(group_id, None)
