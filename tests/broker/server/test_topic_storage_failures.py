"""Topic creation and CreatePartitions are all or nothing whatever the storage error
half-way (issue 9): EMFILE and EACCES besides tests/broker/storage/
test_create_all_or_nothing.py's real full tmpfs, a metadata snapshot that cannot be
written, and no descriptor left behind. The errors are injected as the OSError the
kernel gives (the suite runs as root, so permissions cannot make EACCES)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from broker.cluster import metadata as metadata_module
from broker.cluster.metadata import FileMetadataStore
from broker.config import load_config
from broker.errors import BrokerError, ErrorCode
from broker.server.state import BrokerState


def start(log_dir: Path) -> BrokerState:
    return BrokerState(load_config(None, [f"log.dirs={log_dir}"]))


@pytest.fixture
def state(tmp_path: Path) -> Iterator[BrokerState]:
    broker = start(tmp_path)
    yield broker
    broker.close()


def fail_opening(monkeypatch: pytest.MonkeyPatch, when: Callable[[str], bool], code: int) -> None:
    real_open = os.open

    def failing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if when(str(path)):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", failing_open)


def partition_dirs(log_dir: Path, topic: str) -> list[str]:
    return sorted(p.name for p in log_dir.iterdir() if p.name.startswith(f"{topic}-"))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EMFILE, errno.EACCES])
def test_create_topic_failing_half_way_leaves_no_topic_and_no_directories(
    state: BrokerState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    open_before = state.logs.files.open_count
    fail_opening(monkeypatch, lambda path: "/orders-37/" in path and path.endswith(".index"), code)
    with pytest.raises(BrokerError) as info:
        state.create_topic("orders", num_partitions=100)
    assert info.value.code == ErrorCode.kafka_storage_error
    assert "orders-37" in str(info.value) and os.strerror(code) in str(info.value)
    monkeypatch.undo()
    assert state.metadata.topic("orders") is None
    assert partition_dirs(tmp_path, "orders") == []
    assert FileMetadataStore(tmp_path, node_id=1).topic("orders") is None  # nor on disk
    assert state.logs.files.open_count == open_before  # no descriptor left behind
    state.create_topic("orders", num_partitions=100)  # and the name is free again
    assert len(partition_dirs(tmp_path, "orders")) == 100


def test_create_topic_whose_metadata_cannot_be_written_leaves_no_directories(
    state: BrokerState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(metadata_module, "_write_atomically", full_disk)
    with pytest.raises(BrokerError) as info:
        state.create_topic("orders", num_partitions=5)
    assert info.value.code == ErrorCode.kafka_storage_error
    assert "No space left" in str(info.value)
    assert state.metadata.topic("orders") is None
    assert partition_dirs(tmp_path, "orders") == []


def test_create_partitions_failing_half_way_keeps_the_topic_as_it_was(
    state: BrokerState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state.create_topic("orders", num_partitions=3)
    fail_opening(monkeypatch, lambda path: "/orders-8/" in path, errno.ENOSPC)
    with pytest.raises(BrokerError) as info:
        state.create_partitions("orders", 12)
    assert info.value.code == ErrorCode.kafka_storage_error
    monkeypatch.undo()
    record = state.metadata.topic("orders")
    assert record is not None and len(record.partitions) == 3
    assert partition_dirs(tmp_path, "orders") == ["orders-0", "orders-1", "orders-2"]
    assert len(FileMetadataStore(tmp_path, node_id=1).topic("orders").partitions) == 3  # type: ignore[union-attr]
