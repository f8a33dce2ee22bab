"""The classic rebalance protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, timeouts.

Follows Apache Kafka's classic group coordinator (``GroupMetadataManager`` for classic
groups, formerly ``GroupCoordinator.scala``), decision for decision, without its IO:

- JoinGroup and SyncGroup are held (long-polled). A request arrives with a ``token``;
  the answer comes back as a ``(token, response)`` completion, either at once or from a
  later operation (another member's join, the leader's sync, a timeout).
- Time is an argument. :meth:`ClassicGroups.poll` is called by the service when a
  deadline passes (session timeouts, rebalance timeout, initial rebalance delay,
  pending-sync timeout, pending-member timeout); :meth:`next_deadline` says when.
- The leader's assignment is answered only after its GroupMetadata record was appended:
  the result carries a :class:`~broker.coordinator.results.GroupStored` follow-up and
  the service calls :meth:`on_group_stored` once the append succeeded or failed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.group import (
    NEW_MEMBER_JOIN_TIMEOUT_MS,
    ClassicGroup,
    GroupState,
    Member,
    Protocols,
)
from broker.coordinator.rebalance import Rebalancing, group_metadata_record, join_error
from broker.coordinator.results import (
    CoordinatorResult,
    GroupStored,
    JoinResponse,
    LeaveMemberResponse,
    LeaveResponse,
    StaticMemberStored,
    SyncResponse,
    append_error,
)
from broker.errors import ErrorCode

log = logging.getLogger(__name__)

S = GroupState
E = ErrorCode
Result = CoordinatorResult[Any]

REQUIRE_KNOWN_MEMBER_ID_VERSION = 4  # JoinGroup v4+: MEMBER_ID_REQUIRED (KIP-394)
SKIP_ASSIGNMENT_VERSION = 9  # JoinGroup v9+: a static leader may skip assigning (KIP-814)


def new_member_id(prefix: str) -> str:
    """Kafka's member IDs: the client (or group instance) ID and a random UUID."""
    return f"{prefix}-{uuid.uuid4()}"


@dataclass(frozen=True, slots=True)
class JoinRequest:
    group_id: str
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: Protocols
    version: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SyncRequest:
    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None
    protocol_type: str | None
    protocol_name: str | None
    assignments: dict[str, bytes]


class ClassicGroups(Rebalancing):
    """JoinGroup, SyncGroup, Heartbeat and LeaveGroup of classic groups."""

    def __init__(
        self,
        config: GroupCoordinatorConfig,
        groups: dict[str, ClassicGroup],
        member_ids: Callable[[str], str] = new_member_id,
    ) -> None:
        super().__init__(config, groups)
        self._member_ids = member_ids

    # -- JoinGroup --------------------------------------------------------------------
    def join(self, request: JoinRequest, token: int, now_ms: int) -> Result:
        result: Result = CoordinatorResult(request.group_id)

        def fail(error: ErrorCode, member_id: str = request.member_id) -> Result:
            result.completions.append((token, join_error(member_id, error)))
            return result

        if not request.group_id:
            return fail(E.invalid_group_id)
        if not (
            self.config.min_session_timeout_ms
            <= request.session_timeout_ms
            <= self.config.max_session_timeout_ms
        ):
            return fail(E.invalid_session_timeout)
        unknown = request.member_id == ""
        group = self.groups.get(request.group_id)
        if group is None:
            if not unknown:
                return fail(E.unknown_member_id)
            group = ClassicGroup(request.group_id, state_timestamp_ms=now_ms)
            self.groups[request.group_id] = group
        if group.state is S.DEAD:
            return fail(E.coordinator_not_available)
        if self.is_consumer_group(request.group_id):
            return fail(E.inconsistent_group_protocol)
        if unknown and group.size + len(group.pending_members) >= self.config.max_size:
            return fail(E.group_max_size_reached, "")
        if not group.supports_protocols(request.protocol_type, (n for n, _ in request.protocols)):
            fail(E.inconsistent_group_protocol)
        elif unknown:
            self._join_unknown_member(group, request, token, now_ms, result)
        else:
            self._join_known_member(group, request, token, now_ms, result)
        self._maybe_complete_join(group, now_ms, result)
        self._forget_if_unused(group)
        return result

    def _join_unknown_member(
        self,
        group: ClassicGroup,
        request: JoinRequest,
        token: int,
        now_ms: int,
        result: Result,
    ) -> None:
        member_id = self._member_ids(request.group_instance_id or request.client_id)
        instance_id = request.group_instance_id
        if instance_id is not None and instance_id in group.static_members:
            self._rejoin_static_member(group, request, member_id, token, now_ms, result)
        elif instance_id is None and request.version >= REQUIRE_KNOWN_MEMBER_ID_VERSION:
            # KIP-394: hand out the ID first, so a client that times out and retries
            # cannot leave a trail of defunct members behind.
            group.pending_members[member_id] = now_ms + request.session_timeout_ms
            result.completions.append((token, join_error(member_id, E.member_id_required)))
        else:
            self._add_member_and_rebalance(group, request, member_id, token, now_ms, result)

    def _join_known_member(
        self,
        group: ClassicGroup,
        request: JoinRequest,
        token: int,
        now_ms: int,
        result: Result,
    ) -> None:
        member_id = request.member_id
        instance_id = request.group_instance_id

        def reply(response: JoinResponse) -> None:
            result.completions.append((token, response))

        if member_id in group.pending_members:
            self._add_member_and_rebalance(group, request, member_id, token, now_ms, result)
            return
        if group.is_static_member_fenced(member_id, instance_id):
            reply(join_error(member_id, E.fenced_instance_id))
            return
        if not group.has_member(member_id) or (
            instance_id is not None and instance_id not in group.static_members
        ):
            reply(join_error(member_id, E.unknown_member_id))
            return
        member = group.members[member_id]
        if group.state is S.PREPARING_REBALANCE:
            self._update_member_and_rebalance(group, member, request, token, now_ms, result)
        elif group.state is S.COMPLETING_REBALANCE:
            if member.matches(request.protocols):
                # the member lost its JoinGroup response: send it again
                reply(self._current_join_response(group, member_id))
            else:
                self._update_member_and_rebalance(group, member, request, token, now_ms, result)
        elif group.state is S.STABLE:
            if group.is_leader(member_id) or not member.matches(request.protocols):
                # the leader rejoins to trigger a rebalance (e.g. topic metadata changed)
                self._update_member_and_rebalance(group, member, request, token, now_ms, result)
            else:
                reply(self._current_join_response(group, member_id, with_members=False))
        else:
            reply(join_error(member_id, E.unknown_member_id))

    def _current_join_response(
        self, group: ClassicGroup, member_id: str, *, with_members: bool = True
    ) -> JoinResponse:
        leader = with_members and group.is_leader(member_id)
        return JoinResponse(
            error=E.none,
            member_id=member_id,
            generation_id=group.generation_id,
            protocol_type=group.protocol_type,
            protocol_name=group.protocol_name,
            leader=group.leader_id or "",
            members=self._member_list(group) if leader else (),
        )

    def _rejoin_static_member(
        self,
        group: ClassicGroup,
        request: JoinRequest,
        new_id: str,
        token: int,
        now_ms: int,
        result: Result,
    ) -> None:
        """KIP-345: a known ``group.instance.id`` with a new member ID replaces the old
        member in place; in a Stable group whose protocol is unchanged, no rebalance."""
        instance_id = request.group_instance_id
        assert instance_id is not None
        old_id = group.static_members[instance_id]
        old = group.members[old_id]
        self._complete_held(old, result, E.fenced_instance_id)
        current_leader = group.leader_id or ""
        member = group.replace_static_member(instance_id, old_id, new_id)
        member.heartbeat_deadline_ms = now_ms + request.session_timeout_ms
        if group.state is S.STABLE:
            old_protocol = group.protocol_name
            self._update_member(member, request, None)
            if group.select_protocol() != old_protocol:
                self._update_member_and_rebalance(group, member, request, token, now_ms, result)
                return
            skip = group.is_leader(new_id) and request.version >= SKIP_ASSIGNMENT_VERSION
            response = JoinResponse(
                error=E.none,
                member_id=new_id,
                generation_id=group.generation_id,
                protocol_type=group.protocol_type,
                protocol_name=group.protocol_name,
                # an older leader must not think it leads: its assignment would go nowhere
                leader=new_id if skip else current_leader,
                members=self._member_list(group) if skip else (),
                skip_assignment=skip,
            )
            result.records.append(group_metadata_record(group))
            result.follow_up = StaticMemberStored(
                group.group_id, instance_id, old_id, new_id, token, response
            )
        elif group.state is S.COMPLETING_REBALANCE:
            # the leader may already be assigning to the old ID: assign again
            self._update_member_and_rebalance(group, member, request, token, now_ms, result)
        else:  # PreparingRebalance: answered when the join phase completes
            self._update_member(member, request, token)

    def on_static_member_stored(
        self, follow_up: StaticMemberStored, error: ErrorCode | None
    ) -> Result:
        result: Result = CoordinatorResult(follow_up.group_id)
        if error is None:
            result.completions.append((follow_up.token, follow_up.response))
            return result
        group = self.groups.get(follow_up.group_id)
        if group is not None and group.has_member(follow_up.new_member_id):
            group.replace_static_member(
                follow_up.instance_id, follow_up.new_member_id, follow_up.old_member_id
            )
        response = join_error(follow_up.new_member_id, append_error(error))
        result.completions.append((follow_up.token, response))
        return result

    def _add_member_and_rebalance(
        self,
        group: ClassicGroup,
        request: JoinRequest,
        member_id: str,
        token: int,
        now_ms: int,
        result: Result,
    ) -> None:
        member = Member(
            member_id=member_id,
            group_instance_id=request.group_instance_id,
            client_id=request.client_id,
            client_host=request.client_host,
            rebalance_timeout_ms=request.rebalance_timeout_ms,
            session_timeout_ms=request.session_timeout_ms,
            protocol_type=request.protocol_type,
            protocols=request.protocols,
            join_token=token,
            join_version=request.version,
            # held JoinGroups keep new members alive this long (KIP-394)
            heartbeat_deadline_ms=now_ms + NEW_MEMBER_JOIN_TIMEOUT_MS,
            is_new=True,
        )
        if group.state is S.PREPARING_REBALANCE and group.generation_id == 0:
            group.new_member_added = True
        group.add_member(member)
        self._maybe_prepare_rebalance(group, now_ms, result, f"member {member_id} joined")

    def _update_member(self, member: Member, request: JoinRequest, token: int | None) -> None:
        member.protocols = request.protocols
        member.rebalance_timeout_ms = request.rebalance_timeout_ms
        member.session_timeout_ms = request.session_timeout_ms
        member.client_id = request.client_id
        member.client_host = request.client_host
        if token is not None:
            member.join_token = token
            member.join_version = request.version

    def _update_member_and_rebalance(
        self,
        group: ClassicGroup,
        member: Member,
        request: JoinRequest,
        token: int,
        now_ms: int,
        result: Result,
    ) -> None:
        if member.join_token is not None and member.join_token != token:
            # the client gave up on its earlier JoinGroup and sent another
            response = join_error(member.member_id, E.rebalance_in_progress)
            result.completions.append((member.join_token, response))
        self._update_member(member, request, token)
        self._maybe_prepare_rebalance(
            group, now_ms, result, f"member {member.member_id} rejoined ({request.reason})"
        )

    # -- SyncGroup --------------------------------------------------------------------
    def sync(self, request: SyncRequest, token: int, now_ms: int) -> Result:
        result: Result = CoordinatorResult(request.group_id)

        def reply(error: ErrorCode, assignment: bytes = b"") -> Result:
            response = SyncResponse(error, assignment)
            if group is not None and error == E.none:
                response = SyncResponse(error, assignment, group.protocol_type, group.protocol_name)
            result.completions.append((token, response))
            return result

        group = self.groups.get(request.group_id)
        if not request.group_id:
            return reply(E.invalid_group_id)
        if group is None:
            return reply(E.unknown_member_id)
        error = self._validate_member(
            group, request.member_id, request.group_instance_id, request.generation_id
        )
        if error is not None:
            return reply(error)
        if (request.protocol_type is not None and request.protocol_type != group.protocol_type) or (
            request.protocol_name is not None and request.protocol_name != group.protocol_name
        ):
            return reply(E.inconsistent_group_protocol)
        member = group.members[request.member_id]
        if group.state is S.EMPTY:
            return reply(E.unknown_member_id)
        if group.state is S.PREPARING_REBALANCE:
            return reply(E.rebalance_in_progress)
        self._member_synced(group, member.member_id)
        if group.state is S.STABLE:
            member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
            return reply(E.none, member.assignment)
        # CompletingRebalance: hold the request until the leader's assignment is stored
        if member.sync_token is not None and member.sync_token != token:
            result.completions.append((member.sync_token, SyncResponse(E.rebalance_in_progress)))
        member.sync_token = token
        if group.is_leader(member.member_id):
            log.info(
                "group %s: assignment from leader for generation %d",
                group.group_id,
                group.generation_id,
            )
            assignments = {m: request.assignments.get(m, b"") for m in group.members}
            result.records.append(group_metadata_record(group, assignments))
            result.follow_up = GroupStored(group.group_id, group.generation_id, assignments)
        return result

    def _member_synced(self, group: ClassicGroup, member_id: str) -> None:
        group.pending_sync.discard(member_id)
        if not group.pending_sync:
            group.sync_deadline_ms = None

    def on_group_stored(
        self, follow_up: GroupStored, error: ErrorCode | None, now_ms: int
    ) -> Result:
        """The leader's GroupMetadata record was appended (``error`` None) or not."""
        result: Result = CoordinatorResult(follow_up.group_id)
        group = self.groups.get(follow_up.group_id)
        if (
            group is None
            or group.state is not S.COMPLETING_REBALANCE
            or group.generation_id != follow_up.generation_id
        ):
            return result  # the group moved on meanwhile
        if error is not None:
            for member in group.members.values():
                member.assignment = b""
            self._propagate_assignment(group, append_error(error), result, now_ms)
            self._maybe_prepare_rebalance(group, now_ms, result, "storing the assignment failed")
            return result
        for member in group.members.values():
            member.assignment = follow_up.assignments.get(member.member_id, b"")
        self._propagate_assignment(group, E.none, result, now_ms)
        group.transition_to(S.STABLE, now_ms)
        return result

    def _validate_member(
        self, group: ClassicGroup, member_id: str, instance_id: str | None, generation_id: int
    ) -> ErrorCode | None:
        """The checks SyncGroup, Heartbeat and OffsetCommit share, in Kafka's order."""
        if group.state is S.DEAD:
            return E.coordinator_not_available
        if group.is_static_member_fenced(member_id, instance_id):
            return E.fenced_instance_id
        if not group.has_member(member_id):
            return E.unknown_member_id
        if generation_id != group.generation_id:
            return E.illegal_generation
        return None

    # -- Heartbeat --------------------------------------------------------------------
    def heartbeat(
        self,
        group_id: str,
        member_id: str,
        instance_id: str | None,
        generation_id: int,
        now_ms: int,
    ) -> ErrorCode:
        if not group_id:
            return E.invalid_group_id
        group = self.groups.get(group_id)
        if group is None:
            return E.unknown_member_id
        error = self._validate_member(group, member_id, instance_id, generation_id)
        if error is not None:
            return error
        if group.state is S.EMPTY:
            return E.unknown_member_id
        member = group.members[member_id]
        member.heartbeat_deadline_ms = now_ms + member.session_timeout_ms
        if group.state is S.PREPARING_REBALANCE:
            return E.rebalance_in_progress
        return E.none

    # -- LeaveGroup -------------------------------------------------------------------
    def leave(self, group_id: str, members: list[tuple[str, str | None]], now_ms: int) -> Result:
        result: Result = CoordinatorResult(group_id)
        if not group_id:
            result.response = LeaveResponse(E.invalid_group_id)
            return result
        group = self.groups.get(group_id)
        if group is None:
            result.response = LeaveResponse(
                E.none,
                tuple(LeaveMemberResponse(m, i, E.unknown_member_id) for m, i in members),
            )
            return result
        if group.state is S.DEAD:
            result.response = LeaveResponse(E.coordinator_not_available)
            return result
        responses = []
        for member_id, instance_id in members:
            error = self._leave_one(group, member_id, instance_id, now_ms, result)
            responses.append(LeaveMemberResponse(member_id, instance_id, error))
        result.response = LeaveResponse(E.none, tuple(responses))
        return result

    def _leave_one(
        self,
        group: ClassicGroup,
        member_id: str,
        instance_id: str | None,
        now_ms: int,
        result: Result,
    ) -> ErrorCode:
        if member_id and group.is_static_member_fenced(member_id, instance_id):
            return E.fenced_instance_id
        if member_id in group.pending_members:
            del group.pending_members[member_id]
            self._maybe_complete_join(group, now_ms, result)
            return E.none
        static_id = group.static_member_id(instance_id)
        leaving = static_id if static_id is not None else member_id
        if not group.has_member(leaving):
            return E.unknown_member_id
        log.info("group %s: member %s left", group.group_id, leaving)
        self._remove_member_and_update(group, group.members[leaving], now_ms, result)
        return E.none
