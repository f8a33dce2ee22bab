"""``headwater configs`` (kafka-configs.sh): DescribeConfigs / IncrementalAlterConfigs."""

from __future__ import annotations

from tests.broker.tools.conftest import Headwater


def _dynamic(out: str) -> list[str]:
    """The ``name=value`` of each listed config (synonyms and flags dropped)."""
    return [line.split()[0] for line in out.splitlines()[1:]]


def test_topic_describe_alter_delete(headwater: Headwater, topic: str) -> None:
    headwater.ok("topics", "--create", "--topic", topic, "--config", "retention.ms=3600000")
    out = headwater.ok("configs", "--describe", "--entity-type", "topics", "--entity-name", topic)
    assert out.splitlines() == [
        f"Dynamic configs for topic {topic} are:",
        "  retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms="
        "3600000, DEFAULT_CONFIG:log.retention.hours=168}",
    ]

    out = headwater.ok(
        "configs",
        "--alter",
        "--entity-type",
        "topics",
        "--entity-name",
        topic,
        "--add-config",
        "cleanup.policy=[compact,delete],segment.ms=60000",
        "--delete-config",
        "retention.ms",
    )
    assert out == f"Completed updating config for topic {topic}.\n"
    out = headwater.ok("configs", "--describe", "--topic", topic)
    assert _dynamic(out) == ["cleanup.policy=compact,delete", "segment.ms=60000"]

    every = headwater.ok("configs", "--describe", "--topic", topic, "--all")
    assert every.startswith(f"All configs for topic {topic} are:\n")
    assert "  retention.ms=604800000 sensitive=false" in every
    assert "  max.message.bytes=" in every
    assert "Configs: cleanup.policy=compact,delete,segment.ms=60000" in headwater.ok(
        "topics", "--describe", "--topic", topic
    )


def test_broker_describe_and_alter(headwater: Headwater) -> None:
    every = headwater.ok(
        "configs", "--describe", "--entity-type", "brokers", "--all", "--entity-name", "1"
    )
    assert every.startswith("All configs for broker 1 are:\n")
    assert "  log.retention.hours=168 sensitive=false" in every
    # A dynamic broker config, then back to its static value (a shared broker).
    headwater.ok("configs", "--alter", "--broker", "1", "--add-config", "log.retention.ms=86400000")
    try:
        out = headwater.ok("configs", "--describe", "--entity-type", "brokers")
        assert out.startswith("Dynamic configs for broker 1 are:\n")
        assert "log.retention.ms=86400000" in _dynamic(out)
    finally:
        headwater.ok("configs", "--alter", "--broker", "1", "--delete-config", "log.retention.ms")
    out = headwater.ok("configs", "--describe", "--broker", "1")
    assert "log.retention.ms=86400000" not in _dynamic(out)


def test_user_errors(headwater: Headwater, topic: str) -> None:
    headwater.ok("topics", "--create", "--topic", topic)
    assert "Unknown topic config name: no.such.config" in headwater.fails(
        "configs", "--alter", "--topic", topic, "--add-config", "no.such.config=1"
    )
    assert "retention.ms" in headwater.fails(
        "configs", "--alter", "--topic", topic, "--add-config", "retention.ms=soon"
    )
    assert "does not exist" in headwater.fails(
        "configs", "--describe", "--topic", f"{topic}-missing"
    )
    assert "--alter needs --add-config" in headwater.fails("configs", "--alter", "--topic", topic)
    assert "both added and deleted: segment.ms" in headwater.fails(
        "configs",
        "--alter",
        "--topic",
        topic,
        "--add-config",
        "segment.ms=1",
        "--delete-config",
        "segment.ms",
    )
    assert "name exactly one entity" in headwater.fails("configs", "--describe")
    assert "cannot be addressed through confluent-kafka" in headwater.fails(
        "configs", "--describe", "--entity-type", "brokers", "--entity-default"
    )
