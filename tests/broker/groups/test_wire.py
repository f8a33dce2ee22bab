"""Group APIs at exact versions, below what client libraries let a test choose: the
oldest and newest request shapes each handler serves, answered the way Kafka does."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator

import pytest
from kio.schema.delete_groups.v2 import request as delete_v2
from kio.schema.describe_groups.v0 import request as describe_v0
from kio.schema.describe_groups.v5 import request as describe_v5
from kio.schema.heartbeat.v0 import request as heartbeat_v0
from kio.schema.join_group.v0 import request as join_v0
from kio.schema.join_group.v9 import request as join_v9
from kio.schema.leave_group.v0 import request as leave_v0
from kio.schema.leave_group.v5 import request as leave_v5
from kio.schema.list_groups.v5 import request as list_v5
from kio.schema.offset_commit.v2 import request as commit_v2
from kio.schema.offset_commit.v9 import request as commit_v9
from kio.schema.offset_delete.v0 import request as offset_delete_v0
from kio.schema.offset_fetch.v1 import request as fetch_v1
from kio.schema.offset_fetch.v9 import request as fetch_v9
from kio.schema.sync_group.v0 import request as sync_v0
from kio.schema.sync_group.v5 import request as sync_v5

from broker.errors import ErrorCode as E
from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_create_topic
from tests.support.wire import KafkaWire

MS = datetime.timedelta(milliseconds=1)


@pytest.fixture
def wire(group_broker: BrokerProcess) -> Iterator[KafkaWire]:
    with KafkaWire("127.0.0.1", group_broker.port) as connection:
        yield connection


@pytest.fixture
def group() -> str:
    return f"wire-{uuid.uuid4().hex[:10]}"


def test_join_v0_sync_v0_heartbeat_v0_leave_v0(wire: KafkaWire, group: str) -> None:
    joined = wire.request(
        join_v0.JoinGroupRequest(
            group_id=group, session_timeout=6000 * MS, member_id="", protocol_type="consumer",
            protocols=(join_v0.JoinGroupRequestProtocol(name="range", metadata=b"m"),),
        )
    )  # fmt: skip
    assert joined.error_code == E.none  # v0 has no MEMBER_ID_REQUIRED
    assert (joined.generation_id, joined.protocol_name) == (1, "range")
    assert [m.member_id for m in joined.members] == [joined.member_id]
    member = joined.member_id
    synced = wire.request(
        sync_v0.SyncGroupRequest(
            group_id=group, generation_id=1, member_id=member,
            assignments=(sync_v0.SyncGroupRequestAssignment(member_id=member, assignment=b"a"),),
        )
    )  # fmt: skip
    assert (synced.error_code, synced.assignment) == (E.none, b"a")
    beat = heartbeat_v0.HeartbeatRequest(group_id=group, generation_id=1, member_id=member)
    assert wire.request(beat).error_code == E.none
    left = wire.request(leave_v0.LeaveGroupRequest(group_id=group, member_id=member))
    assert left.error_code == E.none
    assert wire.request(beat).error_code == E.unknown_member_id
    gone = wire.request(leave_v0.LeaveGroupRequest(group_id=group, member_id=member))
    assert gone.error_code == E.unknown_member_id  # v0-2: the member's error is top-level


def test_join_v9_static_member_and_sync_v5_protocol_checks(wire: KafkaWire, group: str) -> None:
    def join(member_id: str = "") -> object:
        return wire.request(
            join_v9.JoinGroupRequest(
                group_id=group, session_timeout=6000 * MS, rebalance_timeout=10_000 * MS,
                member_id=member_id, group_instance_id="instance-1", protocol_type="consumer",
                protocols=(join_v9.JoinGroupRequestProtocol(name="range", metadata=b"m"),),
                reason="test",
            )
        )  # fmt: skip

    first = join()
    assert (first.error_code, first.protocol_type, first.protocol_name) == (
        E.none,
        "consumer",
        "range",
    )

    def sync(member: str, **protocol: str) -> object:
        return wire.request(
            sync_v5.SyncGroupRequest(
                group_id=group, generation_id=1, member_id=member, group_instance_id="instance-1",
                protocol_type=protocol.get("type", "consumer"),
                protocol_name=protocol.get("name", "range"),
                assignments=(
                    sync_v5.SyncGroupRequestAssignment(member_id=member, assignment=b"x"),
                ),
            )
        )  # fmt: skip

    assert sync(first.member_id, name="roundrobin").error_code == E.inconsistent_group_protocol
    done = sync(first.member_id)
    assert (done.error_code, done.protocol_name, done.assignment) == (E.none, "range", b"x")
    again = join()  # a restarted static leader, v9: skip the assignment, see the members
    assert again.error_code == E.none and again.skip_assignment
    assert (again.generation_id, again.leader) == (1, again.member_id)
    assert sync(first.member_id).error_code == E.fenced_instance_id


def test_leave_v5_batch_list_describe_and_delete(wire: KafkaWire, group: str) -> None:
    joined = wire.request(
        join_v9.JoinGroupRequest(
            group_id=group, session_timeout=6000 * MS, rebalance_timeout=6000 * MS,
            member_id="", group_instance_id=None, protocol_type="consumer",
            protocols=(join_v9.JoinGroupRequestProtocol(name="range", metadata=b"m"),), reason=None,
        )
    )  # fmt: skip
    assert joined.error_code == E.member_id_required
    listed = wire.request(list_v5.ListGroupsRequest(states_filter=(), types_filter=()))
    assert group in {g.group_id for g in listed.groups}  # a pending member made the group
    v0 = wire.request(describe_v0.DescribeGroupsRequest(groups=(group, "no-such-group")))
    assert [(g.group_id, g.group_state) for g in v0.groups] == [
        (group, "Empty"),
        ("no-such-group", "Dead"),
    ]
    described = wire.request(
        describe_v5.DescribeGroupsRequest(groups=(group,), include_authorized_operations=True)
    )
    assert described.groups[0].authorized_operations == (1 << 3) | (1 << 6) | (1 << 8)
    left = wire.request(
        leave_v5.LeaveGroupRequest(
            group_id=group,
            members=tuple(
                leave_v5.MemberIdentity(member_id=m, group_instance_id=None, reason=None)
                for m in (joined.member_id, "ghost")
            ),
        )
    )  # fmt: skip
    assert [m.error_code for m in left.members] == [E.none, E.unknown_member_id]
    deleted = wire.request(delete_v2.DeleteGroupsRequest(groups_names=(group, "no-such-group")))
    assert [(r.group_id, r.error_code) for r in deleted.results] == [
        (group, E.none),
        ("no-such-group", E.group_id_not_found),
    ]
    stable = wire.request(list_v5.ListGroupsRequest(states_filter=("Stable",), types_filter=()))
    assert group not in {g.group_id for g in stable.groups}


def test_commit_v2_and_v9_fetch_v1_and_v9_and_offset_delete(
    wire: KafkaWire, group: str, group_broker: BrokerProcess
) -> None:
    topic = f"wire-topic-{uuid.uuid4().hex[:8]}"
    confluent_create_topic(group_broker.bootstrap, topic, 2)
    committed = wire.request(
        commit_v2.OffsetCommitRequest(
            group_id=group, generation_id_or_member_epoch=-1, member_id="",
            retention_time=-1 * MS,
            topics=(
                commit_v2.OffsetCommitRequestTopic(name=topic, partitions=(
                    commit_v2.OffsetCommitRequestPartition(
                        partition_index=0, committed_offset=17, committed_metadata="meta"),
                    commit_v2.OffsetCommitRequestPartition(
                        partition_index=9, committed_offset=1, committed_metadata=None),
                )),
                commit_v2.OffsetCommitRequestTopic(name="no-such-topic", partitions=(
                    commit_v2.OffsetCommitRequestPartition(
                        partition_index=0, committed_offset=1, committed_metadata=None),
                )),
            ),
        )
    )  # fmt: skip
    errors = [
        (t.name, p.partition_index, p.error_code) for t in committed.topics for p in t.partitions
    ]
    assert errors == [
        (topic, 0, E.none),
        (topic, 9, E.unknown_topic_or_partition),
        ("no-such-topic", 0, E.unknown_topic_or_partition),
    ]
    v9 = wire.request(
        commit_v9.OffsetCommitRequest(
            group_id=group, generation_id_or_member_epoch=-1, member_id="", group_instance_id=None,
            topics=(commit_v9.OffsetCommitRequestTopic(name=topic, partitions=(
                commit_v9.OffsetCommitRequestPartition(
                    partition_index=1, committed_offset=5, committed_leader_epoch=0,
                    committed_metadata=""),
            )),),
        )
    )  # fmt: skip
    assert v9.topics[0].partitions[0].error_code == E.none

    old = wire.request(
        fetch_v1.OffsetFetchRequest(
            group_id=group,
            topics=(fetch_v1.OffsetFetchRequestTopic(name=topic, partition_indexes=(0, 1)),),
        )
    )
    assert [(p.committed_offset, p.metadata) for p in old.topics[0].partitions] == [
        (17, "meta"),
        (5, ""),
    ]
    batched = wire.request(
        fetch_v9.OffsetFetchRequest(
            groups=(
                fetch_v9.OffsetFetchRequestGroup(
                    group_id=group, member_id=None, member_epoch=-1, topics=None
                ),
                fetch_v9.OffsetFetchRequestGroup(
                    group_id="no-such-group", member_id=None, member_epoch=-1, topics=None
                ),
            ),
            require_stable=True,
        )
    )
    mine, other = batched.groups
    assert [(p.partition_index, p.committed_offset) for p in mine.topics[0].partitions] == [
        (0, 17),
        (1, 5),
    ]
    assert (other.error_code, other.topics) == (E.none, ())

    deleted = wire.request(
        offset_delete_v0.OffsetDeleteRequest(
            group_id=group,
            topics=(
                offset_delete_v0.OffsetDeleteRequestTopic(
                    name=topic,
                    partitions=(offset_delete_v0.OffsetDeleteRequestPartition(partition_index=0),),
                ),
            ),
        )
    )
    assert deleted.error_code == E.none
    assert deleted.topics[0].partitions[0].error_code == E.none
    after = wire.request(
        fetch_v1.OffsetFetchRequest(
            group_id=group,
            topics=(fetch_v1.OffsetFetchRequestTopic(name=topic, partition_indexes=(0,)),),
        )
    )
    assert after.topics[0].partitions[0].committed_offset == -1
