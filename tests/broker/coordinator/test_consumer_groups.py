"""KIP-848 consumer groups: assignors, reconciliation, fencing, sessions, static members."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from broker.coordinator.assignors import range_assignor, uniform_assignor
from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.consumer_group import HeartbeatRequest, HeartbeatResponse
from broker.errors import ErrorCode as E
from tests.broker.coordinator.harness import Harness

TOPICS = {"orders": 6, "audit": 2}


def hb(
    h: Harness,
    member_id: str = "",
    epoch: int = 0,
    *,
    topics: tuple[str, ...] | None = ("orders",),
    owned: dict[str, set[int]] | None = None,
    instance_id: str | None = None,
    assignor: str | None = None,
    metadata: dict[str, int] = TOPICS,
) -> HeartbeatResponse:
    request = HeartbeatRequest(
        group_id="cg", member_id=member_id, member_epoch=epoch, instance_id=instance_id,
        rack_id=None, rebalance_timeout_ms=30_000, subscribed_topic_names=topics,
        subscribed_topic_regex=None, server_assignor=assignor, owned=owned,
    )  # fmt: skip
    return h.coordinator.consumer.heartbeat(request, metadata, h.now)


def count(assignment: dict[str, set[int]] | None) -> int:
    return sum(len(ps) for ps in (assignment or {}).values())


# --- assignors ------------------------------------------------------------------------


def test_range_gives_contiguous_ranges_per_topic() -> None:
    target = range_assignor({"a": {"orders"}, "b": {"orders"}, "c": {"orders"}}, {"orders": 7}, {})
    assert target == {"a": {"orders": {0, 1, 2}}, "b": {"orders": {3, 4}}, "c": {"orders": {5, 6}}}


def test_uniform_is_even_and_sticky_when_a_member_joins() -> None:
    subs = {"a": {"orders"}, "b": {"orders"}}
    first = uniform_assignor(subs, {"orders": 6}, {})
    assert sorted(count(a) for a in first.values()) == [3, 3]
    second = uniform_assignor({**subs, "c": {"orders"}}, {"orders": 6}, first)
    assert sorted(count(a) for a in second.values()) == [2, 2, 2]
    for member in ("a", "b"):  # each keeps two of its three
        assert second[member]["orders"] <= first[member]["orders"]


@given(
    st.dictionaries(
        st.sampled_from("abcdef"),
        st.sets(st.sampled_from(["x", "y", "z"]), min_size=1),
        min_size=1,
    ),
    st.dictionaries(st.sampled_from(["x", "y", "z"]), st.integers(1, 12), min_size=1),
)
def test_uniform_assigns_every_subscribed_partition_once(
    subs: dict[str, set[str]], partitions: dict[str, int]
) -> None:
    target = uniform_assignor(subs, partitions, {})
    owners: dict[tuple[str, int], str] = {}
    for member, assignment in target.items():
        for topic, ps in assignment.items():
            assert topic in subs[member]
            for p in ps:
                assert (topic, p) not in owners
                owners[(topic, p)] = member
    wanted = {
        (t, p)
        for t, n in partitions.items()
        for p in range(n)
        if any(t in s for s in subs.values())
    }
    assert owners.keys() == wanted
    if len({frozenset(s) for s in subs.values()}) == 1:  # same subscriptions: within one
        loads = [count(a) for a in target.values()]
        assert max(loads) - min(loads) <= 1


# --- the protocol -----------------------------------------------------------------------


def test_first_heartbeat_must_subscribe() -> None:
    assert hb(Harness(), topics=None).error == E.invalid_request


def test_a_lone_member_gets_every_partition_at_once() -> None:
    h = Harness()
    response = hb(h)
    assert response.error == E.none and response.member_id
    assert response.assignment == {"orders": set(range(6))}
    assert response.member_epoch >= 1
    again = hb(h, response.member_id, response.member_epoch, topics=None)
    assert again.assignment is None  # unchanged: not repeated
    assert h.coordinator.consumer.groups["cg"].state.value == "Stable"


def test_partitions_move_only_after_the_owner_revoked_them() -> None:
    h = Harness()
    a = hb(h)
    b = hb(h, "member-b")
    assert count(b.assignment) == 0  # a still owns everything
    # a is told to keep three; its epoch stays until it has let the others go
    a2 = hb(h, a.member_id, a.member_epoch, topics=None)
    assert count(a2.assignment) == 3 and a2.member_epoch == a.member_epoch
    assert hb(h, "member-b", b.member_epoch, topics=None).assignment is None
    # a reports it owns only its three now: it moves to the new epoch, b gets the rest
    a3 = hb(h, a.member_id, a.member_epoch, topics=None, owned=a2.assignment)
    assert a3.member_epoch > a.member_epoch
    b2 = hb(h, "member-b", b.member_epoch, topics=None)
    assert count(b2.assignment) == 3
    assert b2.assignment["orders"].isdisjoint(a2.assignment["orders"])


def test_unknown_members_and_stale_epochs_are_fenced() -> None:
    h = Harness()
    a = hb(h)
    assert hb(h, "nobody", 3, topics=None).error == E.unknown_member_id
    assert hb(h, a.member_id, a.member_epoch + 5, topics=None).error == E.fenced_member_epoch


def test_leaving_hands_partitions_to_the_others() -> None:
    h = Harness()
    a = hb(h)
    b = hb(h, "member-b")
    a2 = hb(h, a.member_id, a.member_epoch, topics=None)
    hb(h, a.member_id, a.member_epoch, topics=None, owned=a2.assignment)
    assert hb(h, a.member_id, -1).member_epoch == -1
    b2 = hb(h, "member-b", b.member_epoch, topics=None)
    assert b2.assignment == {"orders": set(range(6))}


def test_a_member_that_stops_heartbeating_is_removed() -> None:
    h = Harness(GroupCoordinatorConfig(consumer_session_timeout_ms=6_000))
    a = hb(h)
    h.advance(6_000)
    assert hb(h, a.member_id, a.member_epoch, topics=None).error == E.unknown_member_id
    assert h.coordinator.consumer.groups["cg"].state.value == "Empty"


def test_a_member_that_never_revokes_is_removed_after_its_rebalance_timeout() -> None:
    h = Harness(GroupCoordinatorConfig(consumer_session_timeout_ms=60_000))
    a = hb(h)
    hb(h, "member-b")
    hb(h, a.member_id, a.member_epoch, topics=None)  # told to revoke three
    h.advance(30_000)
    assert "member-b" in h.coordinator.consumer.groups["cg"].members
    assert a.member_id not in h.coordinator.consumer.groups["cg"].members


def test_a_static_member_comes_back_to_its_assignment_without_a_new_epoch() -> None:
    h = Harness()
    a = hb(h, instance_id="app-1")
    group = h.coordinator.consumer.groups["cg"]
    epoch = group.group_epoch
    assert hb(h, a.member_id, -2, instance_id="app-1").error == E.none
    back = hb(h, "new-id", 0, instance_id="app-1")
    assert back.member_id == "new-id"
    assert back.assignment == {"orders": set(range(6))}
    assert back.member_epoch == a.member_epoch
    assert group.group_epoch == epoch


def test_a_static_instance_in_use_is_not_released() -> None:
    h = Harness()
    hb(h, instance_id="app-1")
    assert hb(h, "other", 0, instance_id="app-1").error == E.unreleased_instance_id


def test_subscription_and_topic_changes_reassign() -> None:
    h = Harness()
    a = hb(h)
    grown = hb(h, a.member_id, a.member_epoch, topics=("orders", "audit"))
    assert grown.assignment == {"orders": set(range(6)), "audit": {0, 1}}
    more = hb(h, a.member_id, grown.member_epoch, topics=None, metadata={**TOPICS, "audit": 3})
    assert more.assignment == {"orders": set(range(6)), "audit": {0, 1, 2}}


def test_range_assignor_can_be_chosen_and_unknown_ones_are_refused() -> None:
    h = Harness()
    assert hb(h, assignor="sticky").error == E.unsupported_assignor
    hb(h, assignor="range")
    assert h.coordinator.consumer.groups["cg"].assignor == "range"


# --- with the rest of the coordinator ----------------------------------------------------


def test_commits_carry_the_member_epoch() -> None:
    h = Harness()
    a = hb(h)

    def commit(**kwargs: Any) -> E:
        return h.commit("cg", {("orders", 0): 5}, **kwargs)[("orders", 0)]

    assert commit(member_id=a.member_id, generation=a.member_epoch) == E.none
    assert commit(member_id=a.member_id, generation=a.member_epoch - 1) == E.stale_member_epoch
    assert commit(member_id="nobody", generation=a.member_epoch) == E.unknown_member_id
    assert h.fetch("cg") == {("orders", 0): 5}


def test_offset_fetch_by_a_member_checks_its_epoch() -> None:
    h = Harness()
    a = hb(h)
    validate = h.coordinator.consumer.validate_offset_fetch
    assert validate("cg", a.member_id, a.member_epoch) is None
    assert validate("cg", None, -1) is None  # an admin
    assert validate("cg", a.member_id, a.member_epoch - 1) == E.stale_member_epoch
    assert validate("cg", "nobody", 1) == E.unknown_member_id


def test_the_two_protocols_exclude_each_other_for_one_group_id() -> None:
    h = Harness()
    hb(h)
    assert h.join("cg", version=5).error == E.inconsistent_group_protocol
    h.stable_group(1, group="classic")
    request = HeartbeatRequest("classic", "", 0, None, None, 30_000, ("orders",), None, None, None)
    response = h.coordinator.consumer.heartbeat(request, TOPICS, h.now)
    assert response.error == E.group_id_not_found


def test_listing_and_deleting_consumer_groups() -> None:
    h = Harness()
    a = hb(h)
    listed = h.coordinator.list_groups(types=["consumer"])
    assert [(g.group_id, g.protocol_type, g.state) for g in listed] == [
        ("cg", "consumer", "Stable")
    ]
    assert h.coordinator.delete_group("cg", h.now).response == E.non_empty_group
    described = h.coordinator.describe_group("cg")
    assert described is not None and described.error == E.group_id_not_found
    hb(h, a.member_id, -1)
    h.apply(h.coordinator.delete_group("cg", h.now))
    assert "cg" not in h.coordinator.consumer.groups
