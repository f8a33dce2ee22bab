"""Rebalancing classic groups: the join phase, generations, member removal, timeouts.

The parts of Kafka's classic group coordinator that every operation shares
(``prepareRebalance``, ``completeClassicGroupJoin``, ``removeMemberAndUpdateClassicGroup``,
the heartbeat / join / sync expirations): :class:`Rebalancing` is the base of
:class:`~broker.coordinator.classic.ClassicGroups`. Time is an argument; held requests
are answered through ``(token, response)`` completions in the result.

Timeouts, each a deadline the service wakes up for (:meth:`Rebalancing.next_deadline`):

- a member's session: ``session_timeout_ms`` after its last heartbeat (or join, sync,
  commit); a held JoinGroup or SyncGroup keeps it alive, a new member's JoinGroup only
  for five minutes (KIP-394);
- a member that was told MEMBER_ID_REQUIRED must rejoin within its session timeout;
- the join phase ends when every member rejoined, or after the largest rebalance
  timeout; members that did not rejoin are removed;
- an empty group's first join phase lasts ``group.initial.rebalance.delay.ms``, extended
  by as much while new members keep arriving, up to the rebalance timeout;
- members must send SyncGroup within the rebalance timeout of the join phase's end,
  or they are removed and the group rebalances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.group import ClassicGroup, GroupState, Member
from broker.coordinator.records import (
    GroupMetadataValue,
    MemberMetadata,
    encode_group_metadata_key,
    encode_group_metadata_value,
)
from broker.coordinator.results import (
    CoordinatorResult,
    JoinMember,
    JoinResponse,
    OffsetsRecord,
    SyncResponse,
)
from broker.errors import ErrorCode

log = logging.getLogger(__name__)

S = GroupState
E = ErrorCode
Result = CoordinatorResult[Any]


def group_metadata_record(
    group: ClassicGroup, assignments: dict[str, bytes] | None = None
) -> OffsetsRecord:
    """The GroupMetadata record of ``group`` as it is now (with ``assignments`` when
    they are about to be set)."""
    members = tuple(
        MemberMetadata(
            member.member_id,
            member.group_instance_id,
            member.client_id,
            member.client_host,
            member.rebalance_timeout_ms,
            member.session_timeout_ms,
            member.metadata(group.protocol_name),
            (assignments or {}).get(member.member_id, member.assignment),
        )
        for member in group.members.values()
    )
    value = GroupMetadataValue(
        group.protocol_type or "",
        group.generation_id,
        group.protocol_name,
        group.leader_id if members else None,
        group.state_timestamp_ms if group.state_timestamp_ms is not None else -1,
        members,
    )
    return OffsetsRecord(
        encode_group_metadata_key(group.group_id), encode_group_metadata_value(value)
    )


def join_error(member_id: str, error: ErrorCode) -> JoinResponse:
    return JoinResponse(error=error, member_id=member_id)


class Rebalancing:
    """The rebalance machinery over the coordinator's groups (shared with offsets)."""

    def __init__(
        self,
        config: GroupCoordinatorConfig,
        groups: dict[str, ClassicGroup],
    ) -> None:
        self.config = config
        self.groups = groups
        # set by the coordinator: does a KIP-848 group with members hold this group ID?
        self.is_consumer_group: Callable[[str], bool] = lambda _group_id: False

    # -- rebalancing ------------------------------------------------------------------
    def _maybe_prepare_rebalance(
        self, group: ClassicGroup, now_ms: int, result: Result, reason: str
    ) -> None:
        if group.can_rebalance:
            self._prepare_rebalance(group, now_ms, result, reason)

    def _prepare_rebalance(
        self, group: ClassicGroup, now_ms: int, result: Result, reason: str
    ) -> None:
        if group.state is S.COMPLETING_REBALANCE:
            # members waiting for their assignment must rejoin instead
            for member in group.members.values():
                member.assignment = b""
            self._propagate_assignment(group, E.rebalance_in_progress, result, now_ms)
        group.pending_sync.clear()
        group.sync_deadline_ms = None
        delay = self.config.initial_rebalance_delay_ms
        if group.state is S.EMPTY:
            group.initial_delay_ms = delay
            group.initial_delay_remaining_ms = max(group.max_rebalance_timeout_ms() - delay, 0)
            group.join_deadline_ms = now_ms + delay
        else:
            group.initial_delay_ms = 0
            group.join_deadline_ms = now_ms + group.max_rebalance_timeout_ms()
        log.info(
            "group %s: preparing to rebalance from %s, generation %d (%s)",
            group.group_id,
            group.state,
            group.generation_id,
            reason,
        )
        group.transition_to(S.PREPARING_REBALANCE, now_ms)
        self._maybe_complete_join(group, now_ms, result)  # e.g. the last member just left

    def _maybe_complete_join(self, group: ClassicGroup, now_ms: int, result: Result) -> None:
        if group.state is not S.PREPARING_REBALANCE or group.join_deadline_ms is None:
            return
        expired = now_ms >= group.join_deadline_ms
        if group.initial_delay_ms > 0:
            # group.initial.rebalance.delay.ms: wait, extending while new members arrive
            if not expired:
                return
            if group.new_member_added and group.initial_delay_remaining_ms > 0:
                group.new_member_added = False
                step = min(group.initial_delay_ms, group.initial_delay_remaining_ms)
                group.initial_delay_remaining_ms -= step
                group.join_deadline_ms = now_ms + step
                return
        elif not (expired or group.has_all_members_joined()):
            return
        self._complete_join(group, now_ms, result)

    def _complete_join(self, group: ClassicGroup, now_ms: int, result: Result) -> None:
        group.join_deadline_ms = None
        group.initial_delay_ms = 0
        group.new_member_added = False
        for member in group.not_yet_rejoined():
            log.info("group %s: member %s did not rejoin in time", group.group_id, member.member_id)
            self._complete_held(member, result, E.unknown_member_id)
            group.remove_member(member.member_id)
        group.pending_members.clear()
        if group.leader_id is not None and group.leader_id not in group.members:
            group.leader_id = None
        if group.leader_id is None:
            group.leader_id = next(iter(group.members), None)
        group.generation_id += 1
        if group.members:
            group.protocol_name = group.select_protocol()
            group.transition_to(S.COMPLETING_REBALANCE, now_ms)
        else:
            group.protocol_name = None
            group.transition_to(S.EMPTY, now_ms)
            log.info("group %s: empty at generation %d", group.group_id, group.generation_id)
            result.records.append(group_metadata_record(group))
            return
        log.info(
            "group %s: generation %d with %d members, protocol %s, leader %s",
            group.group_id,
            group.generation_id,
            group.size,
            group.protocol_name,
            group.leader_id,
        )
        members = self._member_list(group)
        for member in group.members.values():
            leader = group.is_leader(member.member_id)
            response = JoinResponse(
                error=E.none,
                member_id=member.member_id,
                generation_id=group.generation_id,
                protocol_type=group.protocol_type,
                protocol_name=group.protocol_name,
                leader=group.leader_id or "",
                members=members if leader else (),
            )
            assert member.join_token is not None
            result.completions.append((member.join_token, response))
            member.join_token = None
            member.is_new = False
            member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
        group.pending_sync = set(group.members)
        group.sync_deadline_ms = now_ms + group.max_rebalance_timeout_ms()

    def _propagate_assignment(
        self, group: ClassicGroup, error: ErrorCode, result: Result, now_ms: int
    ) -> None:
        for member in group.members.values():
            if member.sync_token is None:
                continue
            if error == E.none:
                response = SyncResponse(
                    error, member.assignment, group.protocol_type, group.protocol_name
                )
            else:
                response = SyncResponse(error)
            result.completions.append((member.sync_token, response))
            member.sync_token = None
            member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms

    def _remove_member_and_update(
        self, group: ClassicGroup, member: Member, now_ms: int, result: Result
    ) -> None:
        self._complete_held(member, result, E.unknown_member_id)
        group.remove_member(member.member_id)
        if group.state in (S.STABLE, S.COMPLETING_REBALANCE):
            self._maybe_prepare_rebalance(
                group, now_ms, result, f"member {member.member_id} left or failed"
            )
        elif group.state is S.PREPARING_REBALANCE:
            self._maybe_complete_join(group, now_ms, result)

    @staticmethod
    def _complete_held(member: Member, result: Result, error: ErrorCode) -> None:
        if member.join_token is not None:
            result.completions.append((member.join_token, join_error("", error)))
            member.join_token = None
        if member.sync_token is not None:
            result.completions.append((member.sync_token, SyncResponse(error)))
            member.sync_token = None

    # -- timeouts ---------------------------------------------------------------------
    def poll(self, group: ClassicGroup, now_ms: int) -> Result:
        """Everything due in ``group`` at ``now_ms``: expired pending members and
        sessions, the end of the join phase, members that never sent SyncGroup."""
        result: Result = CoordinatorResult(group.group_id)
        if group.state is S.DEAD:
            return result
        for member_id, deadline in list(group.pending_members.items()):
            if deadline <= now_ms:
                log.info("group %s: pending member %s expired", group.group_id, member_id)
                del group.pending_members[member_id]
        for member in list(group.members.values()):
            if group.members.get(member.member_id) is not member:
                continue  # removed meanwhile, when an earlier removal ended the join phase
            if member.heartbeat_deadline_ms <= now_ms and not member.should_keep_alive(now_ms):
                log.info(
                    "group %s: member %s failed (session timeout %d ms)",
                    group.group_id,
                    member.member_id,
                    member.session_timeout_ms,
                )
                self._remove_member_and_update(group, member, now_ms, result)
        if group.sync_deadline_ms is not None and group.sync_deadline_ms <= now_ms:
            late = [m for m in group.pending_sync if m in group.members]
            group.sync_deadline_ms = None
            group.pending_sync.clear()
            if late and group.state in (S.COMPLETING_REBALANCE, S.STABLE):
                for member_id in late:
                    log.info("group %s: member %s never synced", group.group_id, member_id)
                    member = group.members[member_id]
                    self._complete_held(member, result, E.unknown_member_id)
                    group.remove_member(member_id)
                self._prepare_rebalance(group, now_ms, result, "members failed to sync")
        self._maybe_complete_join(group, now_ms, result)
        return result

    @staticmethod
    def next_deadline(group: ClassicGroup) -> int | None:
        deadlines = [*group.pending_members.values()]
        deadlines += (
            m.heartbeat_deadline_ms
            for m in group.members.values()
            if not (m.awaiting_sync or (m.awaiting_join and not m.is_new))
        )
        if group.join_deadline_ms is not None and group.state is S.PREPARING_REBALANCE:
            deadlines.append(group.join_deadline_ms)
        if group.sync_deadline_ms is not None:
            deadlines.append(group.sync_deadline_ms)
        return min(deadlines, default=None)

    def _forget_if_unused(self, group: ClassicGroup) -> None:
        """A join that failed before the group was ever used leaves nothing behind."""
        if (
            group.state is S.EMPTY
            and group.generation_id == 0
            and not group.members
            and not group.pending_members
            and not group.offsets
        ):
            self.groups.pop(group.group_id, None)

    @staticmethod
    def _member_list(group: ClassicGroup) -> tuple[JoinMember, ...]:
        return tuple(
            JoinMember(m.member_id, m.group_instance_id, m.metadata(group.protocol_name))
            for m in group.members.values()
        )
