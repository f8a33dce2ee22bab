"""Config and cluster admin APIs at exact versions, for what client libraries cannot send."""

from __future__ import annotations

import datetime

from kio.schema.alter_configs.v2 import request as alter_v2
from kio.schema.create_partitions.v3 import request as partitions_v3
from kio.schema.create_topics.v7 import request as create_v7
from kio.schema.describe_cluster.v0 import request as cluster_v0
from kio.schema.describe_cluster.v1 import request as cluster_v1
from kio.schema.describe_configs.v1 import request as describe_v1
from kio.schema.describe_configs.v4 import request as describe_v4
from kio.schema.errors import ErrorCode
from kio.schema.incremental_alter_configs.v1 import request as incremental_v1
from kio.schema.metadata.v12 import request as metadata_v12

from broker.handlers import REGISTRY
from tests.support.broker import BrokerProcess
from tests.support.wire import KafkaWire

TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8
SET = 0
TIMEOUT = datetime.timedelta(seconds=10)


def create_topic(wire: KafkaWire, name: str, **configs: str | None) -> object:
    topic = create_v7.CreatableTopic(
        name=name,
        num_partitions=1,
        replication_factor=1,
        assignments=(),
        configs=tuple(create_v7.CreatableTopicConfig(name=k, value=v) for k, v in configs.items()),
    )
    request = create_v7.CreateTopicsRequest(topics=(topic,), timeout=TIMEOUT, validate_only=False)
    return wire.request(request).topics[0]


def describe(wire: KafkaWire, kind: int, name: str, keys=None, **flags: bool):  # type: ignore[no-untyped-def]
    resource = describe_v4.DescribeConfigsResource(
        resource_type=kind, resource_name=name, configuration_keys=keys
    )
    return wire.request(describe_v4.DescribeConfigsRequest(resources=(resource,), **flags)).results


def incremental(wire: KafkaWire, kind: int, name: str, *ops: tuple[str, int, str | None]):  # type: ignore[no-untyped-def]
    resource = incremental_v1.AlterConfigsResource(
        resource_type=kind,
        resource_name=name,
        configs=tuple(
            incremental_v1.AlterableConfig(name=k, config_operation=op, value=v) for k, op, v in ops
        ),
    )
    request = incremental_v1.IncrementalAlterConfigsRequest(
        resources=(resource,), validate_only=False
    )
    return wire.request(request).responses


def test_the_config_apis_are_advertised_with_kafka_3_ranges() -> None:
    served = {h.api_key: (h.min_version, h.max_version) for h in REGISTRY}
    assert {key: served[key] for key in (32, 33, 37, 44, 60)} == {
        32: (1, 4),  # DescribeConfigs (v0 dropped by Kafka 4 too, KIP-896)
        33: (0, 2),  # AlterConfigs
        37: (0, 3),  # CreatePartitions
        44: (0, 1),  # IncrementalAlterConfigs
        60: (0, 1),  # DescribeCluster
    }


def test_describe_configs_filters_keys_and_documents_on_request(
    wire: KafkaWire, topic_name: str
) -> None:
    create_topic(wire, topic_name, **{"retention.ms": "60000"})
    (result,) = describe(
        wire, TOPIC, topic_name, ("retention.ms", "cleanup.policy", "nope"),
        include_documentation=True, include_synonyms=True,
    )  # fmt: skip
    assert result.error_code == ErrorCode.none
    entries = {c.name: c for c in result.configs}
    assert set(entries) == {"retention.ms", "cleanup.policy"}
    retention = entries["retention.ms"]
    assert (retention.value, retention.config_source, retention.config_type) == ("60000", 1, 5)
    assert retention.documentation
    assert (retention.synonyms[0].name, retention.synonyms[0].source) == ("retention.ms", 1)
    assert entries["cleanup.policy"].config_type == 7  # LIST

    (plain,) = describe(wire, TOPIC, topic_name, ("retention.ms",))
    assert (plain.configs[0].documentation, plain.configs[0].synonyms) == (None, ())

    v1 = wire.request(
        describe_v1.DescribeConfigsRequest(
            resources=(
                describe_v1.DescribeConfigsResource(
                    resource_type=TOPIC, resource_name=topic_name, configuration_keys=None
                ),
            ),
            include_synonyms=False,
        )
    )
    assert len(v1.results[0].configs) == 25


def test_describe_configs_reports_errors_per_resource(wire: KafkaWire, topic_name: str) -> None:
    cases = [
        (TOPIC, topic_name, ErrorCode.unknown_topic_or_partition,
            f"The topic '{topic_name}' does not exist."),
        (TOPIC, "bad/name", ErrorCode.invalid_topic_exception, None),
        (BROKER, "2", ErrorCode.invalid_request,
            "Unexpected broker id, expected 1 or empty string, but received 2"),
        (BROKER_LOGGER, "1", ErrorCode.invalid_request,
            "Unsupported resource type: BROKER_LOGGER"),
    ]  # fmt: skip
    for kind, name, code, message in cases:
        (result,) = describe(wire, kind, name)
        assert result.error_code == code, (kind, name)
        assert result.configs == ()
        if message is not None:
            assert result.error_message == message


def test_create_topics_refuses_null_config_values(wire: KafkaWire, topic_name: str) -> None:
    result = create_topic(wire, topic_name, **{"retention.ms": None})
    assert result.error_code == ErrorCode.invalid_config
    assert result.error_message == "Null value not supported for topic configs: retention.ms"


def test_a_resource_named_twice_is_refused_once_and_left_unchanged(
    wire: KafkaWire, topic_name: str
) -> None:
    create_topic(wire, topic_name)
    resource = alter_v2.AlterConfigsResource(
        resource_type=TOPIC,
        resource_name=topic_name,
        configs=(alter_v2.AlterableConfig(name="retention.ms", value="1000"),),
    )
    response = wire.request(
        alter_v2.AlterConfigsRequest(resources=(resource, resource), validate_only=False)
    )
    assert [(r.error_code, r.error_message) for r in response.responses] == [
        (ErrorCode.invalid_request, "Duplicate resource.")
    ]
    (result,) = incremental(
        wire, TOPIC, topic_name, ("retention.ms", SET, "1"), ("retention.ms", SET, "2")
    )
    assert (result.error_code, result.error_message) == (
        ErrorCode.invalid_request,
        "Error due to duplicate config keys",
    )
    (described,) = describe(wire, TOPIC, topic_name, ("retention.ms",))
    assert described.configs[0].value == "604800000"


def test_create_partitions_refuses_a_topic_named_twice(wire: KafkaWire, topic_name: str) -> None:
    create_topic(wire, topic_name)
    topic = partitions_v3.CreatePartitionsTopic(name=topic_name, count=2, assignments=None)
    response = wire.request(
        partitions_v3.CreatePartitionsRequest(
            topics=(topic, topic), timeout=TIMEOUT, validate_only=False
        )
    )
    assert [(r.error_code, r.error_message) for r in response.results] == [
        (ErrorCode.invalid_request, "Duplicate topic in request."),
        (ErrorCode.invalid_request, "Duplicate topic in request."),
    ]


def test_describe_cluster_answers_only_for_broker_endpoints(wire: KafkaWire) -> None:
    ok = wire.request(
        cluster_v0.DescribeClusterRequest(include_cluster_authorized_operations=False)
    )
    assert (ok.error_code, ok.controller_id, [b.broker_id for b in ok.brokers]) == (
        ErrorCode.none,
        1,
        [1],
    )
    assert ok.cluster_authorized_operations == -(2**31)
    for endpoint_type, code in [
        (2, ErrorCode.mismatched_endpoint_type),
        (9, ErrorCode.unsupported_endpoint_type),
    ]:
        response = wire.request(
            cluster_v1.DescribeClusterRequest(
                include_cluster_authorized_operations=True, endpoint_type=endpoint_type
            )
        )
        assert response.error_code == code
        assert response.brokers == ()


def test_metadata_names_an_illegal_topic_invalid_without_auto_create(wire: KafkaWire) -> None:
    response = wire.request(
        metadata_v12.MetadataRequest(
            topics=(metadata_v12.MetadataRequestTopic(topic_id=None, name="bad/name"),),
            allow_auto_topic_creation=False,
            include_topic_authorized_operations=False,
        )
    )
    assert response.topics[0].error_code == ErrorCode.invalid_topic_exception


def test_cluster_default_broker_configs_reach_every_topic(broker: BrokerProcess) -> None:
    with KafkaWire("127.0.0.1", broker.port) as wire:
        create_topic(wire, "plain")
        (result,) = incremental(wire, BROKER, "", ("log.retention.ms", SET, "3600000"))
        assert result.error_code == ErrorCode.none
        (defaults,) = describe(wire, BROKER, "")
        assert [(c.name, c.value, c.config_source) for c in defaults.configs] == [
            ("log.retention.ms", "3600000", 3)  # DYNAMIC_DEFAULT_BROKER_CONFIG
        ]
        (topic,) = describe(wire, TOPIC, "plain", ("retention.ms",))
        assert (topic.configs[0].value, topic.configs[0].config_source) == ("3600000", 3)
