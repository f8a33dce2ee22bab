"""The classic group state machine, driven through the sans-IO coordinator.

Each test names the transition or rule of Kafka's classic protocol it checks; the
harness plays the service (appends, follow-ups, held requests) with a fake clock.
"""

from __future__ import annotations

import itertools

import pytest

from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.group import (
    VALID_PREVIOUS_STATES,
    ClassicGroup,
    GroupState,
    IllegalStateTransition,
)
from broker.coordinator.records import GroupMetadataKey, decode_group_metadata_value, decode_key
from broker.errors import ErrorCode as E
from tests.broker.coordinator.harness import CONSUMER, RANGE, Harness

S = GroupState


# --- the transition table ------------------------------------------------------------


@pytest.mark.parametrize(("source", "target"), list(itertools.product(GroupState, GroupState)))
def test_transition_table_allows_exactly_the_documented_transitions(
    source: GroupState, target: GroupState
) -> None:
    group = ClassicGroup("g", state=source)
    if source in VALID_PREVIOUS_STATES[target]:
        group.transition_to(target, 5)
        assert (group.state, group.state_timestamp_ms) == (target, 5)
    else:
        with pytest.raises(IllegalStateTransition):
            group.transition_to(target, 5)
        assert group.state is source


def test_transition_table_matches_kafkas_classic_group_state() -> None:
    assert {
        S.EMPTY: {S.PREPARING_REBALANCE},
        S.PREPARING_REBALANCE: {S.EMPTY, S.STABLE, S.COMPLETING_REBALANCE},
        S.COMPLETING_REBALANCE: {S.PREPARING_REBALANCE},
        S.STABLE: {S.COMPLETING_REBALANCE},
        S.DEAD: set(GroupState),
    } == VALID_PREVIOUS_STATES


# --- JoinGroup -----------------------------------------------------------------------


def test_join_v4_requires_a_member_id_first_then_completes_the_first_generation() -> None:
    h = Harness()
    first = h.join(version=4)
    assert first.error == E.member_id_required
    assert first.member_id.startswith("client-")
    assert h.group().pending_members
    response = h.join(member_id=first.member_id, version=4)
    assert response.error == E.none
    assert (response.generation_id, response.leader) == (1, first.member_id)
    assert response.protocol_name == "range"
    assert [m.member_id for m in response.members] == [first.member_id]
    assert h.group().state is S.COMPLETING_REBALANCE
    assert not h.group().pending_members


def test_join_v3_adds_an_unknown_member_directly() -> None:
    h = Harness()
    response = h.join(version=3)
    assert response.error == E.none
    assert response.generation_id == 1


@pytest.mark.parametrize("timeout", [5_999, 1_800_001])
def test_join_with_a_session_timeout_out_of_bounds_is_invalid(timeout: int) -> None:
    h = Harness(GroupCoordinatorConfig(initial_rebalance_delay_ms=0))
    assert h.join(session_timeout_ms=timeout).error == E.invalid_session_timeout
    assert "g" not in h.coordinator.groups


def test_join_with_an_empty_group_id_is_invalid() -> None:
    assert Harness().join(group="").error == E.invalid_group_id


def test_join_with_an_unknown_member_id_of_an_unknown_group_is_refused() -> None:
    assert Harness().join(member_id="ghost").error == E.unknown_member_id


@pytest.mark.parametrize(
    ("protocol_type", "protocols"), [("", (RANGE,)), (CONSUMER, ())], ids=["no-type", "none"]
)
def test_join_without_protocol_type_or_protocols_is_inconsistent(
    protocol_type: str, protocols: tuple[tuple[str, bytes], ...]
) -> None:
    h = Harness()
    response = h.join(protocol_type=protocol_type, protocols=protocols, version=3)
    assert response.error == E.inconsistent_group_protocol
    assert "g" not in h.coordinator.groups


def test_join_with_no_protocol_in_common_is_inconsistent() -> None:
    h = Harness()
    h.stable_group(1)
    response = h.join(protocols=(("roundrobin", b""),), version=3)
    assert response.error == E.inconsistent_group_protocol
    other_type = h.join(protocol_type="connect", version=3)
    assert other_type.error == E.inconsistent_group_protocol


def test_protocol_selection_takes_the_most_voted_common_protocol() -> None:
    h = Harness()
    a = h.send_join(protocols=(("sticky", b"a"), ("range", b"a")), version=3)
    b_member = h.answer(a).member_id
    # two more members prefer range; sticky and range are the common ones
    tokens = [
        h.send_join(protocols=(("range", b"x"), ("sticky", b"x"), ("rr", b"")), version=3)
        for _ in range(2)
    ]
    h.send_join(member_id=b_member, protocols=(("sticky", b"a"), ("range", b"a")), version=3)
    responses = [h.answer(t) for t in tokens]
    assert {r.protocol_name for r in responses} == {"range"}
    assert {r.leader for r in responses} == {b_member}  # the first member still leads


def test_second_member_triggers_a_rebalance_that_waits_for_the_first() -> None:
    h = Harness()
    (leader,) = h.stable_group(1)
    token = h.join_new_member()
    assert h.held(token)
    group = h.group()
    assert group.state is S.PREPARING_REBALANCE
    assert h.heartbeat("g", leader, 1) == E.rebalance_in_progress
    rejoin = h.send_join(member_id=leader)
    joined, follower = h.answer(rejoin), h.answer(token)
    assert joined.generation_id == follower.generation_id == 2
    assert joined.leader == follower.leader == leader
    assert {m.member_id for m in joined.members} == {leader, follower.member_id}
    assert follower.members == ()
    assert group.state is S.COMPLETING_REBALANCE


def test_known_follower_rejoining_a_stable_group_unchanged_gets_the_current_generation() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    response = h.join(member_id=follower)
    assert (response.error, response.generation_id, response.leader) == (E.none, 2, leader)
    assert h.group().state is S.STABLE


def test_leader_rejoining_a_stable_group_triggers_a_rebalance() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    token = h.send_join(member_id=leader)
    assert h.held(token)
    assert h.group().state is S.PREPARING_REBALANCE
    h.send_join(member_id=follower)
    assert h.answer(token).generation_id == 3


def test_member_with_changed_metadata_triggers_a_rebalance() -> None:
    h = Harness()
    _leader, follower = h.stable_group(2)
    token = h.send_join(member_id=follower, protocols=(("range", b"new-subscription"),))
    assert h.held(token)
    assert h.group().state is S.PREPARING_REBALANCE


def test_rejoin_in_completing_rebalance_with_same_metadata_resends_the_join_response() -> None:
    h = Harness()
    response = h.join(version=3)
    again = h.join(member_id=response.member_id, version=3)
    assert (again.generation_id, again.leader) == (1, response.member_id)
    assert [m.member_id for m in again.members] == [response.member_id]
    assert h.group().state is S.COMPLETING_REBALANCE


def test_a_resent_join_answers_the_abandoned_one() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    first = h.send_join(member_id=leader)
    assert h.held(first)  # waiting for the follower
    second = h.send_join(member_id=leader)
    assert h.answer(first).error == E.rebalance_in_progress
    assert h.held(second)
    h.send_join(member_id=follower)
    assert h.answer(second).error == E.none
    assert h.answered_twice == []


def test_group_max_size_refuses_more_members() -> None:
    h = Harness(GroupCoordinatorConfig(initial_rebalance_delay_ms=0, max_size=2))
    h.stable_group(2)
    assert h.join().error == E.group_max_size_reached


# --- the join phase's end -------------------------------------------------------------


def test_members_that_do_not_rejoin_within_the_rebalance_timeout_are_removed() -> None:
    h = Harness()
    leader, follower = h.stable_group(2, rebalance_timeout_ms=20_000, session_timeout_ms=60_000)
    token = h.send_join(member_id=leader, rebalance_timeout_ms=20_000, session_timeout_ms=60_000)
    h.advance(19_999)
    assert h.held(token)
    h.advance(1)
    response = h.answer(token)
    assert (response.error, response.generation_id) == (E.none, 3)
    assert list(h.group().members) == [leader]
    assert h.heartbeat("g", follower, 2) == E.unknown_member_id


def test_initial_rebalance_delay_waits_and_extends_while_members_arrive() -> None:
    h = Harness(GroupCoordinatorConfig(initial_rebalance_delay_ms=3_000))
    first = h.send_join(version=3, rebalance_timeout_ms=10_000)
    h.advance(2_000)
    second = h.send_join(version=3, rebalance_timeout_ms=10_000)
    h.advance(1_000)  # the first delay is over, but a member arrived: wait again
    assert h.held(first) and h.held(second)
    h.advance(2_999)
    assert h.held(first)
    h.advance(1)
    assert h.answer(first).generation_id == h.answer(second).generation_id == 1
    assert h.group().size == 2


def test_initial_rebalance_delay_is_bounded_by_the_rebalance_timeout() -> None:
    h = Harness(GroupCoordinatorConfig(initial_rebalance_delay_ms=3_000))
    first = h.send_join(version=3, rebalance_timeout_ms=5_000)
    for _ in range(4):
        h.advance(2_500)
        h.send_join(version=3, rebalance_timeout_ms=5_000)
    assert not h.held(first)
    assert h.answer(first).generation_id == 1


def test_pending_member_that_never_rejoins_expires_and_stops_blocking_the_join() -> None:
    h = Harness()
    (leader,) = h.stable_group(1)
    pending = h.join(version=4)
    assert pending.error == E.member_id_required
    token = h.send_join(member_id=leader)
    assert h.held(token)  # a pending member holds the join phase
    h.advance(10_000)
    assert h.answer(token).generation_id == 2
    assert not h.group().pending_members


# --- SyncGroup -----------------------------------------------------------------------


def test_followers_wait_for_the_leader_whose_assignment_is_stored_first() -> None:
    h = Harness()
    tokens = [h.join_new_member() for _ in range(1)]
    leader = h.answer(tokens[0]).member_id
    second = h.join_new_member()
    h.send_join(member_id=leader)
    follower = h.answer(second).member_id
    waiting = h.send_sync("g", follower, 2)
    assert h.held(waiting)
    answer = h.sync("g", leader, 2, {leader: b"L", follower: b"F"})
    assert (answer.error, answer.assignment, answer.protocol_name) == (E.none, b"L", "range")
    assert h.answer(waiting).assignment == b"F"
    assert h.group().state is S.STABLE
    (record,) = h.records()
    assert decode_key(record.key) == GroupMetadataKey("g")
    value = decode_group_metadata_value(record.value)
    assert (value.generation, value.protocol, value.leader) == (2, "range", leader)
    assert {m.member_id: m.assignment for m in value.members} == {leader: b"L", follower: b"F"}


def test_members_missing_from_the_leaders_assignment_get_an_empty_one() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    h.send_join(member_id=leader)
    token = h.send_join(member_id=follower)
    generation = h.answer(token).generation_id
    h.sync("g", leader, generation, {leader: b"all"})
    assert h.sync("g", follower, generation).assignment == b""


def test_sync_in_a_stable_group_returns_the_current_assignment() -> None:
    h = Harness()
    _leader, follower = h.stable_group(2)
    assert h.sync("g", follower, 2).assignment == f"assigned-{follower}".encode()


@pytest.mark.parametrize(
    ("member", "generation", "kwargs", "error"),
    [
        ("ghost", 2, {}, E.unknown_member_id),
        ("follower", 1, {}, E.illegal_generation),
        ("follower", 2, {"protocol_type": "connect"}, E.inconsistent_group_protocol),
        ("follower", 2, {"protocol_name": "roundrobin"}, E.inconsistent_group_protocol),
    ],
)
def test_sync_rejects_strangers_and_stale_generations(
    member: str, generation: int, kwargs: dict[str, str], error: E
) -> None:
    h = Harness()
    _leader, follower = h.stable_group(2)
    member_id = follower if member == "follower" else member
    assert h.sync("g", member_id, generation, **kwargs).error == error


def test_sync_during_preparing_rebalance_asks_to_rejoin() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    h.send_join(member_id=leader)
    assert h.sync("g", follower, 2).error == E.rebalance_in_progress
    assert h.sync("g", "nobody", 2).error == E.unknown_member_id
    assert h.sync("unknown-group", "m", 1).error == E.unknown_member_id


def test_a_rebalance_during_completing_rebalance_answers_held_syncs() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    h.send_join(member_id=leader)
    token = h.send_join(member_id=follower)
    waiting = h.send_sync("g", follower, h.answer(token).generation_id)
    h.join_new_member()
    assert h.answer(waiting).error == E.rebalance_in_progress
    assert h.group().state is S.PREPARING_REBALANCE


def test_a_failed_assignment_append_answers_syncs_with_an_error_and_rebalances() -> None:
    h = Harness()
    response = h.join(version=3)
    h.fail_appends = E.kafka_storage_error
    answer = h.sync("g", response.member_id, 1, {response.member_id: b"x"})
    assert answer.error == E.not_coordinator
    assert h.group().state is S.PREPARING_REBALANCE


def test_members_that_never_sync_are_removed_after_the_rebalance_timeout() -> None:
    h = Harness()
    leader, follower = h.stable_group(2, rebalance_timeout_ms=15_000, session_timeout_ms=60_000)
    h.send_join(member_id=leader, rebalance_timeout_ms=15_000, session_timeout_ms=60_000)
    token = h.send_join(member_id=follower, rebalance_timeout_ms=15_000, session_timeout_ms=60_000)
    generation = h.answer(token).generation_id
    h.sync("g", leader, generation, {})
    h.advance(15_000)
    assert list(h.group().members) == [leader]
    assert h.group().state is S.PREPARING_REBALANCE


# --- Heartbeat -------------------------------------------------------------------------


def test_heartbeat_errors_follow_kafka() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    assert h.heartbeat("g", follower, 2) == E.none
    assert h.heartbeat("g", follower, 1) == E.illegal_generation
    assert h.heartbeat("g", "ghost", 2) == E.unknown_member_id
    assert h.heartbeat("nope", follower, 2) == E.unknown_member_id
    assert h.heartbeat("", follower, 2) == E.invalid_group_id
    h.send_join(member_id=leader)
    assert h.heartbeat("g", follower, 2) == E.rebalance_in_progress
    token = h.send_join(member_id=follower)
    assert h.heartbeat("g", follower, h.answer(token).generation_id) == E.none  # completing


def test_a_silent_member_expires_after_its_session_timeout_and_the_group_rebalances() -> None:
    h = Harness()
    leader, follower = h.stable_group(2, session_timeout_ms=10_000)
    h.advance(9_000)
    assert h.heartbeat("g", leader, 2) == E.none
    h.advance(1_000)  # the follower's session ends
    assert follower not in h.group().members
    assert h.group().state is S.PREPARING_REBALANCE
    assert h.heartbeat("g", leader, 2) == E.rebalance_in_progress


def test_heartbeats_keep_a_member_alive_indefinitely() -> None:
    h = Harness()
    (member,) = h.stable_group(1, session_timeout_ms=10_000)
    for _ in range(10):
        h.advance(9_000)
        assert h.heartbeat("g", member, 1) == E.none
    assert h.group().state is S.STABLE


def test_last_member_expiring_leaves_the_group_empty_with_a_new_generation() -> None:
    h = Harness()
    h.stable_group(1, session_timeout_ms=10_000)
    h.advance(10_000)
    group = h.group()
    assert (group.state, group.generation_id, group.protocol_name) == (S.EMPTY, 2, None)
    empty = decode_group_metadata_value(h.records()[-1].value)
    assert (empty.generation, empty.members) == (2, ())


# --- LeaveGroup ------------------------------------------------------------------------


def test_leave_removes_members_in_a_batch_and_reports_each() -> None:
    h = Harness()
    leader, a, b = h.stable_group(3)
    response = h.leave("g", (a, None), (b, None), ("ghost", None))
    assert response.error == E.none
    assert [(m.member_id, m.error) for m in response.members] == [
        (a, E.none),
        (b, E.none),
        ("ghost", E.unknown_member_id),
    ]
    assert list(h.group().members) == [leader]
    assert h.group().state is S.PREPARING_REBALANCE


def test_leave_of_an_unknown_group_reports_unknown_members() -> None:
    response = Harness().leave("nope", ("m", None))
    assert response.error == E.none
    assert response.members[0].error == E.unknown_member_id


def test_leave_of_a_pending_member_lets_the_join_complete() -> None:
    h = Harness()
    (leader,) = h.stable_group(1)
    pending = h.join(version=4).member_id
    token = h.send_join(member_id=leader)
    assert h.held(token)
    assert h.leave("g", (pending, None)).members[0].error == E.none
    assert h.answer(token).generation_id == 2


def test_leader_leaving_hands_leadership_to_a_remaining_member() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    h.leave("g", (leader, None))
    response = h.join(member_id=follower)
    assert response.leader == follower
    assert response.generation_id == 3


def test_a_member_leaving_while_its_join_is_held_gets_its_join_answered() -> None:
    h = Harness()
    leader, _follower = h.stable_group(2)
    token = h.send_join(member_id=leader)
    h.leave("g", (leader, None))
    assert h.answer(token).error == E.unknown_member_id
