"""Committed offsets: validation, storage as records, fetch, delete, expiry, loading."""

from __future__ import annotations

from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.coordinator import GroupCoordinator
from broker.coordinator.group import GroupState
from broker.coordinator.records import OffsetCommitKey, decode_key, decode_offset_commit_value
from broker.errors import ErrorCode as E
from tests.broker.coordinator.harness import RANGE, Harness, subscription

S = GroupState
DAY_MS = 24 * 3600 * 1000


def test_simple_commit_creates_an_empty_group_and_is_stored_as_a_record() -> None:
    h = Harness()
    assert h.commit("simple", {("t", 0): 42}, metadata="hello") == {("t", 0): E.none}
    group = h.group("simple")
    assert (group.state, group.protocol_type) == (S.EMPTY, None)
    (record,) = h.records()
    assert decode_key(record.key) == OffsetCommitKey("simple", "t", 0)
    value = decode_offset_commit_value(record.value)
    assert (value.offset, value.leader_epoch, value.metadata) == (42, 3, "hello")
    assert value.commit_timestamp_ms == h.now
    assert h.fetch("simple", [("t", [0, 1])]) == {("t", 0): 42, ("t", 1): -1}
    [(_topic, [row, _missing])] = h.coordinator.offsets.fetch("simple", [("t", [0, 1])])
    assert (row.metadata, row.leader_epoch) == ("hello", 3)


def test_null_metadata_is_stored_as_empty() -> None:
    h = Harness()
    h.commit("g", {("t", 0): 1}, metadata=None)
    [(_topic, [row])] = h.coordinator.offsets.fetch("g", None)
    assert row.metadata == ""


def test_fetch_of_an_unknown_group_answers_minus_one_and_all_of_nothing() -> None:
    h = Harness()
    assert h.fetch("nobody", [("t", [0])]) == {("t", 0): -1}
    assert h.fetch("nobody") == {}


def test_fetch_all_lists_every_committed_partition() -> None:
    h = Harness()
    h.commit("g", {("b", 1): 5, ("a", 0): 7, ("b", 0): 6})
    assert h.coordinator.offsets.fetch("g", None)[0][0] == "a"
    assert h.fetch("g") == {("a", 0): 7, ("b", 0): 6, ("b", 1): 5}


def test_commit_by_a_member_checks_member_and_generation() -> None:
    h = Harness()
    _leader, follower = h.stable_group(2)
    assert h.commit("g", {("t", 0): 1}, member_id=follower, generation=2) == {("t", 0): E.none}
    assert h.commit("g", {("t", 0): 1}, member_id=follower, generation=1) == {
        ("t", 0): E.illegal_generation
    }
    assert h.commit("g", {("t", 0): 1}, member_id="ghost", generation=2) == {
        ("t", 0): E.unknown_member_id
    }
    # a simple commit to an active group is not allowed
    assert h.commit("g", {("t", 0): 1}) == {("t", 0): E.unknown_member_id}
    assert h.fetch("g", [("t", [0])]) == {("t", 0): 1}


def test_commit_while_completing_rebalance_asks_to_wait() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    h.send_join(member_id=leader)
    token = h.send_join(member_id=follower)
    generation = h.answer(token).generation_id
    errors = h.commit("g", {("t", 0): 1}, member_id=follower, generation=generation)
    assert errors == {("t", 0): E.rebalance_in_progress}


def test_commit_while_preparing_rebalance_is_accepted() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    h.send_join(member_id=leader)
    assert h.commit("g", {("t", 0): 9}, member_id=follower, generation=2) == {("t", 0): E.none}


def test_commit_to_a_vanished_group_with_a_generation_is_illegal() -> None:
    assert Harness().commit("gone", {("t", 0): 1}, member_id="m", generation=3) == {
        ("t", 0): E.illegal_generation
    }


def test_commit_metadata_larger_than_the_limit_is_refused_per_partition() -> None:
    h = Harness(GroupCoordinatorConfig(offset_metadata_max_bytes=4))
    errors = h.commit("g", {("t", 0): 1}, metadata="12345")
    assert errors == {("t", 0): E.offset_metadata_too_large}
    assert h.records() == []


def test_delete_group_refuses_active_groups_and_tombstones_empty_ones() -> None:
    h = Harness()
    h.stable_group(1)
    assert h.coordinator.delete_group("g", h.now).response == E.non_empty_group
    h.commit("simple", {("t", 0): 1, ("t", 1): 2})
    result = h.coordinator.delete_group("simple", h.now)
    h.apply(result)
    assert result.response == E.none
    assert "simple" not in h.coordinator.groups
    tombstones = [r for r in h.records() if r.value is None]
    assert len(tombstones) == 3  # two offsets and the group
    assert h.coordinator.delete_group("simple", h.now).response == E.group_id_not_found
    assert h.fetch("simple") == {}


def test_offset_delete_respects_subscriptions() -> None:
    h = Harness()
    protocols = (("range", subscription("orders")),)
    (member,) = h.stable_group(1, protocols=protocols)
    h.commit("g", {("orders", 0): 1, ("old", 0): 2}, member_id=member, generation=1)
    result = h.coordinator.offsets.delete("g", [("orders", 0), ("old", 0)])
    h.apply(result)
    assert result.response == (
        E.none,
        {("orders", 0): E.group_subscribed_to_topic, ("old", 0): E.none},
    )
    assert h.fetch("g") == {("orders", 0): 1}


def test_offset_delete_of_an_unknown_or_non_consumer_group() -> None:
    h = Harness()
    assert h.coordinator.offsets.delete("nobody", [("t", 0)]).response == (
        E.group_id_not_found,
        {},
    )
    h.stable_group(1, group="connect", protocol_type="connect", protocols=(RANGE,))
    assert h.coordinator.offsets.delete("connect", [("t", 0)]).response == (
        E.non_empty_group,
        {},
    )


def test_simple_group_offsets_expire_by_commit_time_and_the_group_goes() -> None:
    h = Harness(GroupCoordinatorConfig(offsets_retention_ms=DAY_MS))
    h.commit("simple", {("t", 0): 1})
    h.now += DAY_MS // 2
    h.commit("simple", {("t", 1): 1})
    h.now += DAY_MS // 2
    for result in h.coordinator.expire_offsets(h.now):
        h.apply(result)
    assert h.fetch("simple") == {("t", 1): 1}
    h.now += DAY_MS // 2
    for result in h.coordinator.expire_offsets(h.now):
        h.apply(result)
    assert "simple" not in h.coordinator.groups
    assert h.records()[-1].value is None  # the group's tombstone


def test_offsets_of_an_empty_group_expire_once_it_has_been_empty_that_long() -> None:
    h = Harness(GroupCoordinatorConfig(initial_rebalance_delay_ms=0, offsets_retention_ms=DAY_MS))
    (member,) = h.stable_group(1, session_timeout_ms=600_000)
    h.commit("g", {("t", 0): 5}, member_id=member, generation=1)
    for _ in range(2 * 24 * 8):  # two days of heartbeats: old commits of an active group
        h.advance(450_000)
        assert h.heartbeat("g", member, 1) == E.none
    assert h.coordinator.expire_offsets(h.now) == []
    h.leave("g", (member, None))
    assert h.group().state is S.EMPTY
    h.now += DAY_MS - 1
    assert h.coordinator.expire_offsets(h.now) == []
    h.now += 1
    for result in h.coordinator.expire_offsets(h.now):
        h.apply(result)
    assert "g" not in h.coordinator.groups


def test_a_stable_consumer_group_loses_offsets_of_topics_it_no_longer_reads() -> None:
    h = Harness(GroupCoordinatorConfig(initial_rebalance_delay_ms=0, offsets_retention_ms=DAY_MS))
    (member,) = h.stable_group(1, protocols=(("range", subscription("orders")),))
    h.commit("g", {("orders", 0): 1, ("old", 0): 2}, member_id=member, generation=1)
    h.now += DAY_MS
    for result in h.coordinator.expire_offsets(h.now):
        h.apply(result)
    assert h.fetch("g") == {("orders", 0): 1}


def test_a_commit_retention_time_sets_its_own_expiry() -> None:
    h = Harness(GroupCoordinatorConfig(offsets_retention_ms=DAY_MS))
    h.commit("g", {("t", 0): 1}, retention_ms=1000)
    h.now += 1000
    for result in h.coordinator.expire_offsets(h.now):
        h.apply(result)
    assert h.fetch("g") == {}


def test_loading_the_records_rebuilds_groups_offsets_and_members() -> None:
    h = Harness()
    leader, follower = h.stable_group(2, protocols=(("range", subscription("t")),))
    h.commit("g", {("t", 0): 10, ("t", 1): 11}, member_id=leader, generation=2, metadata="m")
    h.commit("g", {("t", 0): 12}, member_id=leader, generation=2)
    h.commit("simple", {("u", 0): 3})
    h.commit("gone", {("u", 0): 3})
    h.apply(h.coordinator.delete_group("gone", h.now))

    loaded = GroupCoordinator(h.config)
    loaded.load(h.records(), h.now)
    assert set(loaded.groups) == {"g", "simple"}
    group = loaded.groups["g"]
    assert (group.state, group.generation_id, group.leader_id) == (S.STABLE, 2, leader)
    assert (group.protocol_type, group.protocol_name) == ("consumer", "range")
    assert list(group.members) == [leader, follower]
    assert group.members[follower].assignment == f"assigned-{follower}".encode()
    assert {tp: o.offset for tp, o in group.offsets.items()} == {("t", 0): 12, ("t", 1): 11}
    assert group.offsets[("t", 1)].metadata == "m"
    assert loaded.groups["simple"].state is S.EMPTY
    # the members carry on: heartbeats with their generation work after the reload
    assert loaded.classic.heartbeat("g", follower, None, 2, h.now) == E.none


def test_list_and_describe_groups() -> None:
    h = Harness()
    leader, follower = h.stable_group(2)
    h.commit("simple", {("t", 0): 1})
    listed = {g.group_id: (g.state, g.protocol_type) for g in h.coordinator.list_groups()}
    assert listed == {"g": ("Stable", "consumer"), "simple": ("Empty", "")}
    assert [g.group_id for g in h.coordinator.list_groups(["stable"])] == ["g"]
    assert [g.group_id for g in h.coordinator.list_groups(["Empty"], ["Classic"])] == ["simple"]
    assert h.coordinator.list_groups(types=["consumer"]) == []
    described = h.coordinator.describe_group("g")
    assert described is not None
    assert (described.state, described.protocol_data) == ("Stable", "range")
    assert [m.member_id for m in described.members] == [leader, follower]
    assert described.members[1].assignment == f"assigned-{follower}".encode()
    assert h.coordinator.describe_group("nobody") is None
    h.send_join(member_id=leader)
    preparing = h.coordinator.describe_group("g")
    assert preparing is not None
    assert (preparing.state, preparing.protocol_data) == ("PreparingRebalance", "")
    assert {m.assignment for m in preparing.members} == {b""}


def test_deleting_a_topic_drops_its_committed_offsets() -> None:
    h = Harness()
    h.commit("a", {("gone", 0): 1, ("kept", 0): 2})
    h.commit("b", {("gone", 1): 3})
    for result in h.coordinator.delete_topic_offsets("gone"):
        h.apply(result)
    assert h.fetch("a") == {("kept", 0): 2}
    assert h.fetch("b") == {}
    assert sum(1 for r in h.records() if r.value is None) == 2
