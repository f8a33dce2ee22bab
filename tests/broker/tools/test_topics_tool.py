"""``headwater topics`` (kafka-topics.sh) against a real broker, as a user runs it."""

from __future__ import annotations

import re
from pathlib import Path

from tests.broker.tools.conftest import Headwater, headwater_command
from tests.support.net import free_port


def test_create_list_describe_alter_delete(headwater: Headwater, topic: str) -> None:
    out = headwater.ok(
        "topics",
        "--create",
        "--topic",
        topic,
        "--partitions",
        "3",
        "--replication-factor",
        "1",
        "--config",
        "retention.ms=3600000",
        "--config",
        "cleanup.policy=compact",
    )
    assert out == f"Created topic {topic}.\n"
    assert topic in headwater.ok("topics", "--list").splitlines()

    summary, *partitions = headwater.ok("topics", "--describe", "--topic", topic).splitlines()
    assert re.fullmatch(
        rf"Topic: {topic}\tTopicId: [\w-]{{22}}\tPartitionCount: 3\tReplicationFactor: 1\t"
        r"Configs: cleanup.policy=compact,retention.ms=3600000",
        summary,
    ), summary
    assert partitions == [
        f"\tTopic: {topic}\tPartition: {p}\tLeader: 1\tReplicas: 1\tIsr: 1" for p in range(3)
    ]

    out = headwater.ok("topics", "--alter", "--topic", topic, "--partitions", "5")
    assert out == f"Topic {topic} now has 5 partitions.\n"
    described = headwater.ok("topics", "--describe", "--topic", topic)
    assert "PartitionCount: 5" in described
    assert "Partition: 4\tLeader: 1" in described

    assert headwater.ok("topics", "--delete", "--topic", topic) == f"Deleted topic {topic}.\n"
    assert topic not in headwater.ok("topics", "--list").splitlines()


def test_list_and_describe_take_a_regex(headwater: Headwater, topic: str) -> None:
    for suffix in ("a", "b"):
        headwater.ok("topics", "--create", "--topic", f"{topic}-{suffix}", "--partitions", "1")
    assert headwater.ok("topics", "--list", "--topic", f"{topic}-.*").split() == [
        f"{topic}-a",
        f"{topic}-b",
    ]
    described = headwater.ok("topics", "--describe", "--topic", f"{topic}-[b]")
    assert f"Topic: {topic}-b\t" in described
    assert f"{topic}-a" not in described


def test_user_errors_are_one_line_and_exit_1(headwater: Headwater, topic: str) -> None:
    headwater.ok("topics", "--create", "--topic", topic, "--partitions", "2")
    assert f"Topic '{topic}' already exists" in headwater.fails(
        "topics", "--create", "--topic", topic
    )
    headwater.ok("topics", "--create", "--topic", topic, "--if-not-exists")
    assert "would not be an increase" in headwater.fails(
        "topics", "--alter", "--topic", topic, "--partitions", "1"
    )
    missing = f"{topic}-missing"
    assert "does not exist" in headwater.fails("topics", "--describe", "--topic", missing)
    assert "does not exist" in headwater.fails("topics", "--delete", "--topic", missing)
    headwater.ok("topics", "--delete", "--topic", missing, "--if-exists")
    assert "--create needs --topic" in headwater.fails("topics", "--create")
    assert "--partitions must be at least 1" in headwater.fails(
        "topics", "--create", "--topic", missing, "--partitions", "0"
    )
    assert "KEY=VALUE" in headwater.fails(
        "topics", "--create", "--topic", missing, "--config", "retention.ms"
    )


def test_unreachable_cluster_is_an_error_not_a_hang() -> None:
    nowhere = Headwater(f"127.0.0.1:{free_port()}")
    stderr = nowhere.fails("topics", "--list", "--timeout-ms", "1500", timeout=20)
    assert "cannot list topics" in stderr


def test_missing_action_is_a_usage_error() -> None:
    import subprocess

    proc = subprocess.run([*headwater_command(), "topics"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "one of the arguments --create --list --describe --alter --delete" in proc.stderr


def test_client_settings_from_a_properties_file(
    headwater: Headwater, topic: str, tmp_path: Path
) -> None:
    good = tmp_path / "client.properties"
    good.write_text("# Kafka-style file\nclient.id = headwater-test\nsocket.timeout.ms: 10000\n")
    headwater.ok("topics", "--create", "--topic", topic, "--command-config", str(good))
    bad = tmp_path / "bad.properties"
    bad.write_text("no.such.setting=1\n")
    assert "No such configuration property" in headwater.fails(
        "topics", "--list", "--command-config", str(bad)
    )
    assert "cannot read" in headwater.fails(
        "topics", "--list", "--command-config", str(tmp_path / "missing")
    )
    assert "No such configuration property" in headwater.fails(
        "topics", "--list", "--command-property", "bogus=1"
    )
