"""Cluster metadata with a single writer, persisted as an atomic JSON snapshot.

On-disk format
    ``<log.dirs>/meta.properties``: Kafka's ``version``/``cluster.id``/``node.id``, written
    once on first start. ``<log.dirs>/__cluster_metadata/topics.json``: every topic with
    its ID, configs and partitions (leader, leader epoch, replicas). Rewritten whole on
    every change: write to a temp file, fsync, rename, fsync the directory; so after a
    crash the file is either the old or the new version, never a mix.

Every partition has a leader, replica list and leader epoch even on one broker, so the
Metadata API and later replication work from the same records. A store backed by
PostgreSQL can implement :class:`MetadataStore` when several brokers share a cluster.
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from broker.errors import BrokerError, ErrorCode

MAX_TOPIC_NAME_LENGTH = 249
PRODUCER_ID_BLOCK_SIZE = 1000
_LEGAL_TOPIC = re.compile(r"^[a-zA-Z0-9._-]+$")


def validate_topic_name(name: str) -> None:
    """Kafka's topic name rules; raises INVALID_TOPIC_EXCEPTION with the reason."""
    if not name:
        raise BrokerError(
            ErrorCode.invalid_topic_exception, "Topic name is illegal, it can't be empty"
        )
    if name in (".", ".."):
        raise BrokerError(ErrorCode.invalid_topic_exception, 'Topic name cannot be "." or ".."')
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        raise BrokerError(
            ErrorCode.invalid_topic_exception,
            f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters",
        )
    if not _LEGAL_TOPIC.match(name):
        raise BrokerError(
            ErrorCode.invalid_topic_exception,
            f'Topic name "{name}" is illegal, it contains a character other than '
            "ASCII alphanumerics, '.', '_' and '-'",
        )


@dataclass(slots=True)
class PartitionRecord:
    partition_index: int
    leader_id: int
    leader_epoch: int
    replicas: list[int]


@dataclass(slots=True)
class TopicRecord:
    name: str
    topic_id: uuid.UUID
    partitions: list[PartitionRecord]
    configs: dict[str, str] = field(default_factory=dict)
    is_internal: bool = False


class MetadataStore(Protocol):
    cluster_id: str
    node_id: int

    def topics(self) -> list[TopicRecord]: ...
    def topic(self, name: str) -> TopicRecord | None: ...
    def topic_by_id(self, topic_id: uuid.UUID) -> TopicRecord | None: ...
    def create_topic(
        self, name: str, num_partitions: int, replicas: list[int], configs: dict[str, str]
    ) -> TopicRecord: ...
    def delete_topic(self, name: str) -> TopicRecord: ...
    def allocate_producer_id(self) -> int: ...


def _new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class FileMetadataStore:
    """The single-broker :class:`MetadataStore`. Not thread-safe (event loop owned)."""

    def __init__(self, log_dir: Path, *, node_id: int) -> None:
        self.node_id = node_id
        log_dir.mkdir(parents=True, exist_ok=True)
        self.cluster_id = self._load_meta_properties(log_dir / "meta.properties")
        self._dir = log_dir / "__cluster_metadata"
        self._dir.mkdir(exist_ok=True)
        self._path = self._dir / "topics.json"
        self._producer_id_block_end = 0
        self._next_producer_id = 0
        self._topics: dict[str, TopicRecord] = self._load()
        self._next_producer_id = self._producer_id_block_end

    def _load_meta_properties(self, path: Path) -> str:
        if path.exists():
            props = dict(
                line.split("=", 1) for line in path.read_text().splitlines() if "=" in line
            )
            stored_node = int(props.get("node.id", self.node_id))
            if stored_node != self.node_id:
                raise RuntimeError(
                    f"{path}: log directory belongs to node.id {stored_node}, "
                    f"this broker is node.id {self.node_id}"
                )
            return props["cluster.id"]
        cluster_id = _new_cluster_id()
        _write_atomically(path, f"version=1\ncluster.id={cluster_id}\nnode.id={self.node_id}\n")
        return cluster_id

    def _load(self) -> dict[str, TopicRecord]:
        if not self._path.exists():
            return {}
        raw = json.loads(self._path.read_text(encoding="utf-8"))
        self._producer_id_block_end = int(raw.get("producer_id_block_end", 0))
        topics = {}
        for item in raw["topics"]:
            topics[item["name"]] = TopicRecord(
                name=item["name"],
                topic_id=uuid.UUID(item["topic_id"]),
                partitions=[PartitionRecord(**p) for p in item["partitions"]],
                configs=dict(item.get("configs", {})),
                is_internal=bool(item.get("is_internal", False)),
            )
        return topics

    def _save(self) -> None:
        payload = {
            "version": 1,
            "producer_id_block_end": self._producer_id_block_end,
            "topics": [
                {
                    "name": t.name,
                    "topic_id": str(t.topic_id),
                    "is_internal": t.is_internal,
                    "configs": t.configs,
                    "partitions": [
                        {
                            "partition_index": p.partition_index,
                            "leader_id": p.leader_id,
                            "leader_epoch": p.leader_epoch,
                            "replicas": p.replicas,
                        }
                        for p in t.partitions
                    ],
                }
                for t in self._topics.values()
            ],
        }
        _write_atomically(self._path, json.dumps(payload, indent=1, sort_keys=True))

    def topics(self) -> list[TopicRecord]:
        return list(self._topics.values())

    def topic(self, name: str) -> TopicRecord | None:
        return self._topics.get(name)

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicRecord | None:
        return next((t for t in self._topics.values() if t.topic_id == topic_id), None)

    def create_topic(
        self, name: str, num_partitions: int, replicas: list[int], configs: dict[str, str]
    ) -> TopicRecord:
        validate_topic_name(name)
        if name in self._topics:
            raise BrokerError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        record = TopicRecord(
            name=name,
            topic_id=uuid.uuid4(),
            partitions=[
                PartitionRecord(i, leader_id=replicas[0], leader_epoch=0, replicas=list(replicas))
                for i in range(num_partitions)
            ],
            configs=dict(configs),
            is_internal=name.startswith("__"),
        )
        self._topics[name] = record
        self._save()
        return record

    def allocate_producer_id(self) -> int:
        """A producer ID never handed out before, also across restarts: IDs are reserved
        in persisted blocks (like Kafka's AllocateProducerIds), so a crash skips at most
        the rest of a block."""
        if self._next_producer_id >= self._producer_id_block_end:
            self._producer_id_block_end = self._next_producer_id + PRODUCER_ID_BLOCK_SIZE
            self._save()
        producer_id = self._next_producer_id
        self._next_producer_id += 1
        return producer_id

    def delete_topic(self, name: str) -> TopicRecord:
        record = self._topics.pop(name, None)
        if record is None:
            raise BrokerError(
                ErrorCode.unknown_topic_or_partition, "This server does not host this topic."
            )
        self._save()
        return record
