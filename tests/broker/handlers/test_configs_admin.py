"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs as real admin clients use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
    ResourceType,
)
from kafka.admin import AlterConfigOp, KafkaAdminClient
from kafka.admin import ConfigResource as KafkaPythonResource
from kafka.admin import ConfigResourceType as KafkaPythonType

from broker.cluster.config_catalog import TOPIC_CONFIGS
from tests.support.broker import BrokerProcess

TIMEOUT = 15
pytestmark = pytest.mark.filterwarnings(
    "ignore:alter_configs has been deprecated:DeprecationWarning"
)


@pytest.fixture
def admin(shared_broker: BrokerProcess) -> AdminClient:
    return AdminClient({"bootstrap.servers": shared_broker.bootstrap})


@pytest.fixture
def kafka_python(shared_broker: BrokerProcess) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=shared_broker.bootstrap)
    yield client
    client.close()


def create(admin: AdminClient, name: str, **configs: str) -> None:
    new = NewTopic(name, num_partitions=1, replication_factor=1, config=configs)
    admin.create_topics([new], request_timeout=TIMEOUT)[name].result(TIMEOUT)


def describe(admin: AdminClient, kind: ResourceType, name: str) -> dict[str, ConfigEntry]:
    resource = ConfigResource(kind, name)
    return admin.describe_configs([resource], request_timeout=TIMEOUT)[resource].result(TIMEOUT)


def alter(admin: AdminClient, kind: ResourceType, name: str, **configs: str) -> None:
    resource = ConfigResource(kind, name, set_config=configs)
    admin.alter_configs([resource], request_timeout=TIMEOUT)[resource].result(TIMEOUT)


def incremental(
    admin: AdminClient, name: str, *ops: tuple[str, str | None, AlterConfigOpType], **kw: bool
) -> None:
    entries = [ConfigEntry(key, value, incremental_operation=op) for key, value, op in ops]
    resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=entries)
    futures = admin.incremental_alter_configs([resource], request_timeout=TIMEOUT, **kw)
    futures[resource].result(TIMEOUT)


def kafka_error(call) -> KafkaError:  # type: ignore[no-untyped-def]
    with pytest.raises(KafkaException) as info:
        call()
    return info.value.args[0]


def source(entry: ConfigEntry) -> ConfigSource:
    return ConfigSource(entry.source)


def test_describe_configs_lists_every_topic_config_with_its_source(
    admin: AdminClient, topic_name: str
) -> None:
    create(admin, topic_name, **{"retention.ms": "60000", "cleanup.policy": "compact"})
    configs = describe(admin, ResourceType.TOPIC, topic_name)
    assert set(configs) == set(TOPIC_CONFIGS)
    retention = configs["retention.ms"]
    assert (retention.value, source(retention), retention.is_read_only) == (
        "60000",
        ConfigSource.DYNAMIC_TOPIC_CONFIG,
        False,
    )
    assert "log.retention.hours" in retention.synonyms
    assert configs["cleanup.policy"].value == "compact"
    segment = configs["segment.bytes"]
    assert (segment.value, source(segment)) == ("1073741824", ConfigSource.DEFAULT_CONFIG)
    assert configs["min.cleanable.dirty.ratio"].value == "0.5"
    assert configs["flush.mode"].value == "async"


def test_alter_configs_replaces_every_topic_override(admin: AdminClient, topic_name: str) -> None:
    create(admin, topic_name, **{"retention.ms": "60000"})
    alter(admin, ResourceType.TOPIC, topic_name, **{"segment.ms": "3600000"})
    configs = describe(admin, ResourceType.TOPIC, topic_name)
    assert (configs["segment.ms"].value, source(configs["segment.ms"])) == (
        "3600000",
        ConfigSource.DYNAMIC_TOPIC_CONFIG,
    )
    assert (configs["retention.ms"].value, source(configs["retention.ms"])) == (
        "604800000",
        ConfigSource.DEFAULT_CONFIG,
    )


def test_incremental_alter_configs_sets_deletes_appends_and_subtracts(
    admin: AdminClient, topic_name: str
) -> None:
    create(admin, topic_name, **{"retention.ms": "60000"})
    incremental(
        admin,
        topic_name,
        ("cleanup.policy", "compact", AlterConfigOpType.APPEND),
        ("max.message.bytes", "2000000", AlterConfigOpType.SET),
        ("retention.ms", None, AlterConfigOpType.DELETE),
    )
    configs = describe(admin, ResourceType.TOPIC, topic_name)
    assert configs["cleanup.policy"].value == "delete,compact"
    assert configs["max.message.bytes"].value == "2000000"
    assert source(configs["retention.ms"]) == ConfigSource.DEFAULT_CONFIG
    incremental(admin, topic_name, ("cleanup.policy", "delete", AlterConfigOpType.SUBTRACT))
    assert describe(admin, ResourceType.TOPIC, topic_name)["cleanup.policy"].value == "compact"


def test_invalid_topic_configs_are_invalid_config_with_kafkas_message(
    admin: AdminClient, topic_name: str
) -> None:
    error = kafka_error(lambda: create(admin, topic_name, **{"retention.ms": "abc"}))
    assert error.code() == KafkaError.INVALID_CONFIG
    assert (
        error.str() == "Invalid value abc for configuration retention.ms: Not a number of type LONG"
    )

    create(admin, topic_name)
    error = kafka_error(lambda: alter(admin, ResourceType.TOPIC, topic_name, **{"colour": "blue"}))
    assert (error.code(), error.str()) == (
        KafkaError.INVALID_CONFIG,
        "Unknown topic config name: colour",
    )
    error = kafka_error(
        lambda: incremental(admin, topic_name, ("segment.bytes", "1", AlterConfigOpType.SET))
    )
    assert (
        error.str() == "Invalid value 1 for configuration segment.bytes: Value must be at least 14"
    )
    error = kafka_error(
        lambda: incremental(admin, topic_name, ("retention.ms", "1", AlterConfigOpType.APPEND))
    )
    assert error.str() == "Can't APPEND to key retention.ms because its type is not LIST."
    assert source(describe(admin, ResourceType.TOPIC, topic_name)["segment.bytes"]) == (
        ConfigSource.DEFAULT_CONFIG
    )


def test_validate_only_checks_without_changing(admin: AdminClient, topic_name: str) -> None:
    create(admin, topic_name)
    incremental(
        admin, topic_name, ("retention.ms", "1000", AlterConfigOpType.SET), validate_only=True
    )
    assert describe(admin, ResourceType.TOPIC, topic_name)["retention.ms"].value == "604800000"


def test_configs_of_a_missing_topic_are_unknown_topic(admin: AdminClient, topic_name: str) -> None:
    error = kafka_error(lambda: describe(admin, ResourceType.TOPIC, topic_name))
    assert error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    error = kafka_error(
        lambda: alter(admin, ResourceType.TOPIC, topic_name, **{"retention.ms": "1"})
    )
    assert error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_describe_broker_configs_shows_static_settings_and_what_is_writable(
    admin: AdminClient,
) -> None:
    configs = describe(admin, ResourceType.BROKER, "1")
    node_id = configs["node.id"]
    assert (node_id.value, source(node_id), node_id.is_read_only) == (
        "1",
        ConfigSource.DEFAULT_CONFIG,
        True,
    )
    listeners = configs["listeners"]
    assert (source(listeners), listeners.is_read_only) == (ConfigSource.STATIC_BROKER_CONFIG, True)
    assert not configs["log.retention.hours"].is_read_only


def test_kafka_python_describes_and_alters_topic_configs(
    admin: AdminClient, kafka_python: KafkaAdminClient, topic_name: str
) -> None:
    create(admin, topic_name, **{"retention.ms": "60000"})
    described = kafka_python.describe_configs(
        [KafkaPythonResource(KafkaPythonType.TOPIC, topic_name)]
    )
    modified = described["topic"][topic_name]
    assert set(modified) == {"retention.ms"}
    assert modified["retention.ms"]["value"] == "60000"
    assert modified["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"

    changes = {"segment.ms": "7200000", "cleanup.policy": (AlterConfigOp.APPEND, "compact")}
    result = kafka_python.alter_configs([KafkaPythonResource("TOPIC", topic_name, changes)])
    assert result == {"topic": {topic_name: "OK"}}
    result = kafka_python.alter_configs(
        [KafkaPythonResource("TOPIC", topic_name, {"segment.ms": "-5"})]
    )
    assert (
        "Invalid value -5 for configuration segment.ms: Value must be at least 1"
        in (result["topic"][topic_name])
    )
    configs = describe(admin, ResourceType.TOPIC, topic_name)
    assert (configs["segment.ms"].value, configs["cleanup.policy"].value) == (
        "7200000",
        "delete,compact",
    )
    assert configs["retention.ms"].value == "60000"  # incremental: other overrides stay

    legacy = kafka_python.alter_configs(
        [KafkaPythonResource("TOPIC", topic_name, {"segment.ms": "3600000"})], incremental=False
    )
    assert legacy == {"topic": {topic_name: "OK"}}
    assert describe(admin, ResourceType.TOPIC, topic_name)["retention.ms"].value == "60000"
