from __future__ import annotations

from pathlib import Path

import pytest

from broker.config import ConfigError, Listener, load_config


def test_config_reads_kafka_properties_and_overrides_win(tmp_path: Path) -> None:
    props = tmp_path / "server.properties"
    props.write_text(
        "# a Kafka server.properties\n"
        "node.id=3\n"
        "listeners=PLAINTEXT://0.0.0.0:9093\n"
        "log.dirs=/var/lib/kafka\n"
        "num.partitions=2\n"
        "some.unknown.key=kept\n"
    )
    config = load_config(props, ["num.partitions=6", "auto.create.topics.enable=false"])
    assert config.node_id == 3
    assert config.listeners == (Listener("PLAINTEXT", "0.0.0.0", 9093),)
    assert config.effective_advertised_listeners == (Listener("PLAINTEXT", "127.0.0.1", 9093),)
    assert config.log_dir == Path("/var/lib/kafka")
    assert config.num_partitions == 6
    assert config.auto_create_topics_enable is False
    assert config.extra == {"some.unknown.key": "kept"}


@pytest.mark.parametrize(
    "override",
    [
        "num.partitions=zero",
        "num.partitions=0",
        "listeners=localhost9092",
        "auto.create.topics.enable=yes",
        "novalue",
    ],
)
def test_config_rejects_bad_values_naming_the_key(override: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, [override])
    assert override.split("=")[0] in str(info.value)


def test_config_validates_topic_defaults_with_kafkas_message_and_keeps_them_as_given() -> None:
    config = load_config(
        None, ["log.retention.hours=24", "log.cleanup.policy=compact", "socket.send.buffer.bytes=1"]
    )
    assert config.properties == {"log.retention.hours": "24", "log.cleanup.policy": "compact"}
    assert config.extra == {"socket.send.buffer.bytes": "1"}
    with pytest.raises(ConfigError) as info:
        load_config(None, ["log.retention.ms=forever"])
    assert str(info.value) == (
        "Invalid value forever for configuration log.retention.ms: Not a number of type LONG"
    )
    with pytest.raises(ConfigError, match=r"log\.segment\.bytes: Value must be at least 14"):
        load_config(None, ["log.segment.bytes=13"])
