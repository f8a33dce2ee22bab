"""A topic creation is all or nothing (issue 9).

A creation that failed half-way (out of descriptors, out of space) used to leave the
topic in the metadata with partitions whose directories were missing, and a broker that
would not start again. Now the partition directories are made first and the metadata
written last; an OSError on the way removes what was made and answers
KAFKA_STORAGE_ERROR with the reason.

The disk here is real: a tmpfs with few inodes, so the 60th partition directory of a
topic cannot be created (ENOSPC), exactly as on a full disk.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from broker.errors import ErrorCode
from tests.support.broker import BrokerProcess


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 400 inodes (mounting needs root, which the tests run as)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,nr_inodes=400", "tmpfs", str(mount_point)],
        check=True,
        capture_output=True,
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def partition_dirs(log_dir: Path, topic: str) -> list[str]:
    return sorted(p.name for p in log_dir.glob(f"{topic}-*"))


def test_a_creation_that_runs_out_of_disk_leaves_nothing_and_the_broker_restarts(
    tmp_path: Path, small_disk: Path
) -> None:
    broker = BrokerProcess(tmp_path / "broker", overrides={"log.dirs": str(small_disk / "logs")})
    broker.start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("small", 2, 1)])["small"].result(timeout=30)
        with pytest.raises(KafkaException) as refused:
            admin.create_topics([NewTopic("big", 200, 1)])["big"].result(timeout=60)
        error = refused.value.args[0]
        assert error.code() == ErrorCode.kafka_storage_error
        assert "No space left on device" in error.str()
        assert "nothing was created" in error.str()
        assert partition_dirs(small_disk / "logs", "big") == []
        assert "big" not in admin.list_topics(timeout=30).topics

        grows = admin.create_partitions([NewPartitions("small", 400)])["small"]
        with pytest.raises(KafkaException) as refused:
            grows.result(timeout=60)
        assert refused.value.args[0].code() == ErrorCode.kafka_storage_error
        assert partition_dirs(small_disk / "logs", "small") == ["small-0", "small-1"]
        assert len(admin.list_topics(timeout=30).topics["small"].partitions) == 2

        admin.create_topics([NewTopic("after", 3, 1)])["after"].result(timeout=30)
        broker.restart()
        topics = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=30)
        assert {"small", "after"} <= set(topics.topics)
        assert "big" not in topics.topics
    finally:
        broker.stop()
