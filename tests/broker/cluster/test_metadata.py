"""The metadata store's config and partition changes, and CreatePartitions' rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.cluster.metadata import FileMetadataStore, plan_new_partitions
from broker.errors import BrokerError, ErrorCode


def test_config_and_partition_changes_survive_reopening_the_store(tmp_path: Path) -> None:
    store = FileMetadataStore(tmp_path, node_id=1)
    store.create_topic("orders", 2, [1], {"retention.ms": "1000"})
    store.alter_topic_configs("orders", {"cleanup.policy": "compact"})
    store.add_partitions("orders", [[1], [1]])
    store.alter_broker_configs("", {"log.retention.hours": "12"})
    store.alter_broker_configs("1", {"log.segment.bytes": "2000000"})

    reopened = FileMetadataStore(tmp_path, node_id=1)
    topic = reopened.topic("orders")
    assert topic is not None
    assert topic.configs == {"cleanup.policy": "compact"}
    assert [(p.partition_index, p.leader_id, p.replicas) for p in topic.partitions] == [
        (0, 1, [1]),
        (1, 1, [1]),
        (2, 1, [1]),
        (3, 1, [1]),
    ]
    assert reopened.broker_configs("") == {"log.retention.hours": "12"}
    assert reopened.broker_configs("1") == {"log.segment.bytes": "2000000"}
    assert reopened.broker_configs("7") == {}


def test_changing_a_missing_topic_is_unknown_topic(tmp_path: Path) -> None:
    store = FileMetadataStore(tmp_path, node_id=1)
    for change in (
        lambda: store.alter_topic_configs("nope", {}),
        lambda: store.add_partitions("nope", [[1]]),
    ):
        with pytest.raises(BrokerError) as info:
            change()
        assert info.value.code == ErrorCode.unknown_topic_or_partition
        assert info.value.message == "The topic 'nope' does not exist."


@pytest.fixture
def three_partitions(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = FileMetadataStore(tmp_path, node_id=1)
    return store.create_topic("events", 3, [1], {})


@pytest.mark.parametrize(
    ("count", "assignments", "code", "message"),
    [
        (3, None, ErrorCode.invalid_partitions, "Topic already has 3 partition(s)."),
        (2, None, ErrorCode.invalid_partitions,
            "The topic events currently has 3 partition(s); 2 would not be an increase."),
        (5, [[1]], ErrorCode.invalid_replica_assignment,
            "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified."),
        (4, [[]], ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes an empty replica list."),
        (4, [[2]], ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes broker 2, but no such broker is registered."),
        (4, [[1, 1]], ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes the broker 1 more than once."),
    ],
)  # fmt: skip
def test_create_partitions_refuses_what_kafka_refuses(
    three_partitions, count: int, assignments, code: ErrorCode, message: str
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BrokerError) as info:
        plan_new_partitions(three_partitions, count, assignments, [1])
    assert (info.value.code, info.value.message) == (code, message)


def test_manual_assignments_must_match_the_existing_replication_factor(three_partitions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BrokerError) as info:
        plan_new_partitions(three_partitions, 4, [[1, 2]], [1, 2])
    assert info.value.message == (
        "The manual partition assignment includes a partition with 2 replica(s), but this is "
        "not consistent with previous partitions, which have 1 replica(s)."
    )


def test_new_partitions_get_as_many_replicas_as_the_existing_ones(three_partitions) -> None:  # type: ignore[no-untyped-def]
    assert plan_new_partitions(three_partitions, 5, None, [1]) == [[1], [1]]
    assert plan_new_partitions(three_partitions, 4, [[1]], [1]) == [[1]]


def test_acls_survive_reopening_and_a_failed_write_leaves_memory_as_the_disk(
    tmp_path: Path,
) -> None:
    from broker.common.acls import (
        AclBinding,
        AclOperation,
        PatternType,
        PermissionType,
        ResourceType,
    )

    def binding(name: str, pattern: PatternType = PatternType.LITERAL) -> AclBinding:
        return AclBinding(
            ResourceType.TOPIC, name, pattern, "User:a", "*", AclOperation.READ,
            PermissionType.ALLOW,
        )  # fmt: skip

    store = FileMetadataStore(tmp_path, node_id=1)
    store.create_acls([binding("a."), binding("orders"), binding("orders")])
    store.create_acls([binding("orders"), binding("acme.", PatternType.PREFIXED)])
    store.delete_acls([binding("a.")])
    expected = (binding("orders"), binding("acme.", PatternType.PREFIXED))
    assert store.acls() == expected
    assert FileMetadataStore(tmp_path, node_id=1).acls() == expected

    blocker = tmp_path / "__cluster_metadata" / "topics.json.tmp"
    blocker.mkdir()  # the snapshot's temp file cannot be written (works as root too)
    try:
        with pytest.raises(OSError):
            store.create_acls([binding("never")])
        with pytest.raises(OSError):
            store.delete_acls([binding("orders")])
    finally:
        blocker.rmdir()
    assert store.acls() == expected
