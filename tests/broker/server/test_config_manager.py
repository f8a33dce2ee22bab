"""Topic settings as the running broker holds them: resolved, cached, changed live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.cluster.config_def import InvalidConfigError
from broker.config import load_config
from broker.errors import BrokerError, ErrorCode
from broker.server.config_manager import to_log_config
from broker.server.state import BrokerState
from broker.storage.log_config import FlushMode, LogConfig, TimestampType


@pytest.fixture
def state(tmp_path: Path) -> Iterator[BrokerState]:
    config = load_config(None, [f"log.dirs={tmp_path}", "log.retention.hours=24"])
    broker = BrokerState(config)
    yield broker
    broker.close()


def _partition_configs(state: BrokerState, topic: str) -> list[LogConfig]:
    record = state.metadata.topic(topic)
    assert record is not None
    return [state.partition_log(topic, p.partition_index).config for p in record.partitions]


def test_log_config_resolves_overrides_over_static_broker_defaults(state: BrokerState) -> None:
    state.create_topic(
        "a", num_partitions=2, configs={"segment.ms": "5000", "flush.mode": "durable"}
    )
    config = state.log_config("a")
    assert (config.segment_ms, config.retention_ms, config.flush_mode) == (
        5000,
        24 * 3_600_000,
        FlushMode.DURABLE,
    )
    assert state.log_config("a") is config  # cached: Produce asks on every append
    assert _partition_configs(state, "a") == [config, config]


def test_altering_topic_configs_reaches_open_logs_and_replaces_all_overrides(
    state: BrokerState,
) -> None:
    state.create_topic("a", num_partitions=2, configs={"segment.ms": "5000"})
    state.configs.alter_topic("a", {"retention.ms": "1000"}, validate_only=False)
    config = state.log_config("a")
    assert (config.retention_ms, config.segment_ms) == (1000, LogConfig().segment_ms)
    assert _partition_configs(state, "a") == [config, config]
    assert state.configs.topic_overrides("a") == {"retention.ms": "1000"}


def test_validate_only_and_invalid_alterations_change_nothing(state: BrokerState) -> None:
    state.create_topic("a", configs={"retention.ms": "1000"})
    state.configs.alter_topic("a", {"retention.ms": "2000"}, validate_only=True)
    with pytest.raises(InvalidConfigError):
        state.configs.alter_topic("a", {"retention.ms": "later"}, validate_only=False)
    assert state.configs.topic_overrides("a") == {"retention.ms": "1000"}
    assert state.log_config("a").retention_ms == 1000


def test_dynamic_broker_defaults_reach_topics_without_an_override(state: BrokerState) -> None:
    state.create_topic("plain")
    state.create_topic("own", configs={"segment.bytes": "3000000"})
    state.configs.alter_broker("", {"log.segment.bytes": "2000000"}, validate_only=False)
    assert state.log_config("plain").segment_bytes == 2_000_000
    assert _partition_configs(state, "plain")[0].segment_bytes == 2_000_000
    assert state.log_config("own").segment_bytes == 3_000_000
    state.configs.alter_broker("1", {"log.segment.bytes": "4000000"}, validate_only=False)
    assert state.log_config("plain").segment_bytes == 4_000_000  # per-broker beats default


def test_created_partitions_open_with_the_topics_settings(state: BrokerState) -> None:
    state.create_topic("a", num_partitions=1, configs={"retention.ms": "1000"})
    state.create_partitions("a", 3, validate_only=True)
    assert len(_partition_configs(state, "a")) == 1
    state.create_partitions("a", 3)
    assert [c.retention_ms for c in _partition_configs(state, "a")] == [1000, 1000, 1000]
    with pytest.raises(BrokerError) as info:
        state.create_partitions("missing", 3)
    assert info.value.code == ErrorCode.unknown_topic_or_partition


def test_create_topic_checks_name_and_existence_before_configs(state: BrokerState) -> None:
    state.create_topic("a")
    with pytest.raises(BrokerError) as exists:
        state.create_topic("a", configs={"retention.ms": "x"})
    assert exists.value.code == ErrorCode.topic_already_exists
    with pytest.raises(BrokerError) as invalid:
        state.create_topic("b", configs={"retention.ms": "x"}, validate_only=True)
    assert invalid.value.code == ErrorCode.invalid_config
    assert state.metadata.topic("b") is None


def test_to_log_config_converts_enum_values_and_skips_unknown_fields() -> None:
    config = to_log_config(
        {"message_timestamp_type": "LogAppendTime", "flush_mode": "durable", "not_a_field": 1}
    )
    assert config.message_timestamp_type is TimestampType.LOG_APPEND_TIME
    assert config.flush_mode is FlushMode.DURABLE
