"""CreateTopics, DeleteTopics and Metadata as Kafka's admin clients see them."""

from __future__ import annotations

import datetime

from kio.schema.delete_topics.v6 import request as delete_v6
from kio.schema.errors import ErrorCode
from kio.schema.metadata.v12 import request as metadata_v12

from tests.support.wire import KafkaWire, create_topics

TIMEOUT = datetime.timedelta(seconds=10)


def create(
    wire: KafkaWire,
    name: str,
    partitions: int = 3,
    replication: int = -1,
    validate_only: bool = False,
):
    return create_topics(
        wire,
        name,
        partitions,
        replication=replication,
        configs={"retention.ms": "60000"},
        validate_only=validate_only,
    ).topics[0]


def metadata(wire: KafkaWire, names: list[str] | None, allow_auto_create: bool = False):
    topics = (
        None
        if names is None
        else tuple(metadata_v12.MetadataRequestTopic(topic_id=None, name=n) for n in names)
    )
    return wire.request(
        metadata_v12.MetadataRequest(
            topics=topics,
            allow_auto_topic_creation=allow_auto_create,
            include_topic_authorized_operations=False,
        )
    )


def test_create_topics_creates_partitions_visible_in_metadata(
    wire: KafkaWire, topic_name: str
) -> None:
    result = create(wire, topic_name, partitions=4)
    assert result.error_code == ErrorCode.none
    assert result.num_partitions == 4 and result.replication_factor == 1
    configs = {c.name: (c.value, c.config_source) for c in result.configs}
    assert [c.name for c in result.configs] == sorted(configs)  # every topic config, by name
    assert configs["retention.ms"] == ("60000", 1)  # DYNAMIC_TOPIC_CONFIG
    assert configs["cleanup.policy"] == ("delete", 5)  # DEFAULT_CONFIG
    (topic,) = metadata(wire, [topic_name]).topics
    assert topic.error_code == ErrorCode.none
    assert topic.topic_id == result.topic_id
    assert sorted(p.partition_index for p in topic.partitions) == [0, 1, 2, 3]
    assert all(p.leader_id == 1 and p.replica_nodes == (1,) for p in topic.partitions)


def test_create_topics_reports_kafka_errors_per_topic(wire: KafkaWire, topic_name: str) -> None:
    assert create(wire, topic_name).error_code == ErrorCode.none
    assert create(wire, topic_name).error_code == ErrorCode.topic_already_exists
    bad = create(wire, "bad/name")
    assert bad.error_code == ErrorCode.invalid_topic_exception and "illegal" in bad.error_message
    assert (
        create(wire, topic_name + "-rf", replication=3).error_code
        == ErrorCode.invalid_replication_factor
    )
    assert (
        create(wire, topic_name + "-zero", partitions=0).error_code == ErrorCode.invalid_partitions
    )


def test_create_topics_validate_only_creates_nothing(wire: KafkaWire, topic_name: str) -> None:
    assert create(wire, topic_name, validate_only=True).error_code == ErrorCode.none
    (topic,) = metadata(wire, [topic_name]).topics
    assert topic.error_code == ErrorCode.unknown_topic_or_partition


def test_metadata_auto_creates_only_when_the_client_allows_it(
    wire: KafkaWire, topic_name: str
) -> None:
    assert metadata(wire, [topic_name]).topics[0].error_code == ErrorCode.unknown_topic_or_partition
    (created,) = metadata(wire, [topic_name], allow_auto_create=True).topics
    assert created.error_code == ErrorCode.none and len(created.partitions) == 1
    assert topic_name in {t.name for t in metadata(wire, None).topics}


def test_delete_topics_removes_the_topic_by_name_or_id(wire: KafkaWire, topic_name: str) -> None:
    first = create(wire, topic_name)
    second = create(wire, topic_name + "-b")
    response = wire.request(
        delete_v6.DeleteTopicsRequest(
            topics=(
                delete_v6.DeleteTopicState(name=topic_name, topic_id=None),
                delete_v6.DeleteTopicState(name=None, topic_id=second.topic_id),
                delete_v6.DeleteTopicState(name="never-existed-" + topic_name, topic_id=None),
            ),
            timeout=TIMEOUT,
        )
    )
    codes = [r.error_code for r in response.responses]
    assert codes == [ErrorCode.none, ErrorCode.none, ErrorCode.unknown_topic_or_partition]
    assert response.responses[0].topic_id == first.topic_id
    names = {t.name for t in metadata(wire, None).topics}
    assert topic_name not in names and topic_name + "-b" not in names
