"""Static membership (KIP-345, KIP-814): ``group.instance.id`` survives restarts."""

from __future__ import annotations

from broker.coordinator.group import GroupState
from broker.coordinator.records import decode_group_metadata_value
from broker.errors import ErrorCode as E
from tests.broker.coordinator.harness import Harness

S = GroupState


def static_group(h: Harness, *instances: str, version: int = 5) -> dict[str, str]:
    """A Stable group of static members; instance id -> member id."""
    tokens = {i: h.send_join(instance_id=i, version=version) for i in instances}
    if len(instances) > 1:
        # the first completed a generation alone (no initial delay): it rejoins
        first = instances[0]
        tokens[first] = h.send_join(
            member_id=h.answer(tokens[first]).member_id, instance_id=first, version=version
        )
    responses = {i: h.answer(t) for i, t in tokens.items()}
    generation = responses[instances[0]].generation_id
    ids = {i: r.member_id for i, r in responses.items()}
    leader = responses[instances[0]].leader
    for instance, member in ids.items():
        if member != leader:
            h.send_sync("g", member, generation, instance_id=instance)
    leader_instance = next(i for i, m in ids.items() if m == leader)
    h.sync(
        "g", leader, generation, {m: m.encode() for m in ids.values()}, instance_id=leader_instance
    )
    assert h.group().state is S.STABLE
    return ids


def test_static_members_join_without_member_id_required() -> None:
    h = Harness()
    response = h.join(instance_id="consumer-1", version=5)
    assert response.error == E.none
    assert response.member_id.startswith("consumer-1-")
    assert h.group().static_members == {"consumer-1": response.member_id}


def test_static_follower_rejoining_with_a_new_id_keeps_generation_and_assignment() -> None:
    h = Harness()
    ids = static_group(h, "a", "b")
    generation = h.group().generation_id
    records_before = len(h.records())
    rejoin = h.join(instance_id="b")
    assert rejoin.error == E.none
    assert rejoin.member_id != ids["b"]
    assert (rejoin.generation_id, rejoin.leader, rejoin.members) == (generation, ids["a"], ())
    assert h.group().state is S.STABLE
    answer = h.sync("g", rejoin.member_id, generation, instance_id="b")
    assert answer.assignment == ids["b"].encode()  # the old member's partitions
    stored = decode_group_metadata_value(h.records()[records_before].value)
    assert rejoin.member_id in {m.member_id for m in stored.members}


def test_the_replaced_member_is_fenced() -> None:
    h = Harness()
    ids = static_group(h, "a", "b")
    h.join(instance_id="b")
    generation = h.group().generation_id
    assert h.heartbeat("g", ids["b"], generation, instance_id="b") == E.fenced_instance_id
    assert h.sync("g", ids["b"], generation, instance_id="b").error == E.fenced_instance_id
    assert h.join(member_id=ids["b"], instance_id="b").error == E.fenced_instance_id
    assert h.leave("g", (ids["b"], "b")).members[0].error == E.fenced_instance_id
    commit = h.commit(
        "g", {("t", 0): 1}, member_id=ids["b"], generation=generation, instance_id="b"
    )
    assert commit == {("t", 0): E.fenced_instance_id}


def test_static_leader_rejoining_before_v9_is_told_the_old_leader() -> None:
    h = Harness()
    ids = static_group(h, "a", "b")
    rejoin = h.join(instance_id="a", version=5)
    assert (rejoin.leader, rejoin.members, rejoin.skip_assignment) == (ids["a"], (), False)
    assert h.group().leader_id == rejoin.member_id
    assert h.group().state is S.STABLE


def test_static_leader_rejoining_at_v9_skips_assignment_but_sees_the_members() -> None:
    h = Harness()
    static_group(h, "a", "b", version=9)
    rejoin = h.join(instance_id="a", version=9)
    assert rejoin.skip_assignment
    assert rejoin.leader == rejoin.member_id
    assert {m.group_instance_id for m in rejoin.members} == {"a", "b"}
    assert h.group().state is S.STABLE


def test_static_rejoin_with_a_different_protocol_choice_rebalances() -> None:
    h = Harness()
    static_group(h, "a")
    token = h.send_join(instance_id="a", protocols=(("sticky", b""), ("range", b"")))
    assert not h.held(token)  # a lone member: the rebalance completes at once
    assert h.answer(token).generation_id == 2


def test_static_rejoin_during_completing_rebalance_rebalances() -> None:
    h = Harness()
    ids = static_group(h, "a", "b")
    h.send_join(member_id=ids["a"], instance_id="a")
    h.send_join(member_id=ids["b"], instance_id="b")
    assert h.group().state is S.COMPLETING_REBALANCE
    token = h.send_join(instance_id="b")
    assert h.held(token)
    assert h.group().state is S.PREPARING_REBALANCE


def test_a_failed_static_rejoin_append_restores_the_old_member() -> None:
    h = Harness()
    ids = static_group(h, "a", "b")
    h.fail_appends = E.not_enough_replicas
    rejoin = h.join(instance_id="b")
    assert rejoin.error == E.coordinator_not_available
    assert h.group().static_members["b"] == ids["b"]
    assert ids["b"] in h.group().members


def test_leave_by_instance_id_alone_removes_the_static_member() -> None:
    h = Harness()
    ids = static_group(h, "a", "b")
    response = h.leave("g", ("", "b"))
    assert response.members[0].error == E.none
    assert list(h.group().members) == [ids["a"]]
    assert h.group().static_members == {"a": ids["a"]}


def test_static_member_still_expires_after_its_session_timeout() -> None:
    h = Harness()
    static_group(h, "a", "b")
    h.advance(10_000)
    assert h.group().state is S.EMPTY
