"""Dynamic broker configs and config persistence, each on a broker of its own."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from tests.support.broker import BrokerProcess
from tests.support.clients import confluent_partition_count

TIMEOUT = 15


def describe(admin: AdminClient, kind: ResourceType, name: str) -> dict[str, ConfigEntry]:
    resource = ConfigResource(kind, name)
    return admin.describe_configs([resource], request_timeout=TIMEOUT)[resource].result(TIMEOUT)


def set_configs(admin: AdminClient, kind: ResourceType, name: str, **configs: str) -> None:
    entries = [
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
        for key, value in configs.items()
    ]
    resource = ConfigResource(kind, name, incremental_configs=entries)
    admin.incremental_alter_configs([resource], request_timeout=TIMEOUT)[resource].result(TIMEOUT)


def create(admin: AdminClient, name: str, **configs: str) -> None:
    new = NewTopic(name, num_partitions=1, replication_factor=1, config=configs)
    admin.create_topics([new], request_timeout=TIMEOUT)[name].result(TIMEOUT)


def test_dynamic_broker_defaults_apply_to_topics_without_an_override(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    create(admin, "plain")
    create(admin, "own", **{"retention.ms": "60000"})

    set_configs(admin, ResourceType.BROKER, "1", **{"log.retention.minutes": "90"})
    plain = describe(admin, ResourceType.TOPIC, "plain")["retention.ms"]
    assert (plain.value, ConfigSource(plain.source)) == (
        "5400000",
        ConfigSource.DYNAMIC_BROKER_CONFIG,
    )
    assert describe(admin, ResourceType.TOPIC, "own")["retention.ms"].value == "60000"
    configs = describe(admin, ResourceType.BROKER, "1")
    minutes = configs["log.retention.minutes"]
    assert (minutes.value, ConfigSource(minutes.source)) == (
        "90",
        ConfigSource.DYNAMIC_BROKER_CONFIG,
    )


def test_broker_configs_without_a_runtime_effect_cannot_change(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    with pytest.raises(KafkaException) as info:
        set_configs(admin, ResourceType.BROKER, "1", **{"log.dirs": "/elsewhere"})
    error = info.value.args[0]
    assert (error.code(), error.str()) == (
        KafkaError.INVALID_REQUEST,
        "Cannot update these configs dynamically: Set(log.dirs)",
    )
    with pytest.raises(KafkaException) as invalid:
        set_configs(admin, ResourceType.BROKER, "1", **{"log.segment.bytes": "huge"})
    assert invalid.value.args[0].code() == KafkaError.INVALID_CONFIG


def test_configs_and_added_partitions_survive_a_restart(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    create(admin, "kept", **{"cleanup.policy": "compact"})
    set_configs(admin, ResourceType.TOPIC, "kept", **{"segment.ms": "3600000"})
    set_configs(admin, ResourceType.BROKER, "1", **{"log.segment.bytes": "2000000"})
    admin.create_partitions([NewPartitions("kept", 3)])["kept"].result(TIMEOUT)

    broker.restart()

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    configs = describe(admin, ResourceType.TOPIC, "kept")
    assert configs["cleanup.policy"].value == "compact"
    assert configs["segment.ms"].value == "3600000"
    assert (configs["segment.bytes"].value, ConfigSource(configs["segment.bytes"].source)) == (
        "2000000",
        ConfigSource.DYNAMIC_BROKER_CONFIG,
    )
    assert confluent_partition_count(broker.bootstrap, "kept") == 3
