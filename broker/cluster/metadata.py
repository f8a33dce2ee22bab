"""Cluster metadata with a single writer, persisted as an atomic JSON snapshot.

On-disk format
    ``<log.dirs>/meta.properties``: Kafka's ``version``/``cluster.id``/``node.id``, written
    once on first start. ``<log.dirs>/__cluster_metadata/topics.json``: every topic with
    its ID, config overrides and partitions (leader, leader epoch, replicas), the
    dynamic broker configs by resource name (``""``: cluster default, ``"<node.id>"``:
    one broker), the producer-ID block reservation and the SCRAM credentials (per user
    and mechanism: base64 salt, stored key and server key, and the iteration count;
    never a password or salted password), the client quotas (``client_quotas``: a
    list of ``{"entity": {"user": "alice", "client-id": null}, "quotas":
    {"producer_byte_rate": 1048576.0}}``, or ``{"entity": {"ip": "10.0.0.1"},
    "quotas": {"connection_creation_rate": 10.0}}``; an entity holds only the types it
    names, a null name is the default entity) and, under ``acls``, the ACL bindings, each an
    object of Kafka's enum names: ``{"resource_type": "TOPIC", "resource_name":
    "acme.", "pattern_type": "PREFIXED", "principal": "User:acme-app", "host": "*",
    "operation": "ALL", "permission_type": "ALLOW"}``. Rewritten whole on every change:
    write to a temp file, fsync, rename, fsync the directory; so after a crash the file
    is either the old or the new version, never a mix.

Every partition has a leader, replica list and leader epoch even on one broker, so the
Metadata API and later replication work from the same records. A store backed by
PostgreSQL can implement :class:`MetadataStore` when several brokers share a cluster.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from broker.cluster.quotas import QuotaEntity, entity
from broker.common.acls import AclBinding
from broker.common.topic_names import is_internal as is_internal_topic
from broker.common.topic_names import validate_topic_name
from broker.errors import BrokerError, ErrorCode

PRODUCER_ID_BLOCK_SIZE = 1000


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


@dataclass(frozen=True, slots=True)
class ScramCredentialRecord:
    """One user's credential for one SCRAM mechanism (Kafka's UserScramCredentialRecord)."""

    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int

    def __repr__(self) -> str:  # key material stays out of logs and tracebacks
        return f"ScramCredentialRecord(iterations={self.iterations})"

    def to_json(self) -> dict[str, object]:
        return {
            "salt": base64.b64encode(self.salt).decode(),
            "stored_key": base64.b64encode(self.stored_key).decode(),
            "server_key": base64.b64encode(self.server_key).decode(),
            "iterations": self.iterations,
        }

    @classmethod
    def from_json(cls, item: dict[str, object]) -> ScramCredentialRecord:
        return cls(
            salt=base64.b64decode(str(item["salt"])),
            stored_key=base64.b64decode(str(item["stored_key"])),
            server_key=base64.b64decode(str(item["server_key"])),
            iterations=int(item["iterations"]),  # type: ignore[call-overload]
        )


def plan_new_partitions(
    topic: TopicRecord,
    count: int,
    assignments: list[list[int]] | None,
    brokers: list[int],
) -> list[list[int]]:
    """Replica lists of the partitions CreatePartitions adds to grow ``topic`` to ``count``.

    Kafka's rules and messages: the count must grow (INVALID_PARTITIONS); manual
    assignments need one non-empty list per new partition, of registered brokers, each
    once, as many as the existing partitions have (INVALID_REPLICA_ASSIGNMENT).
    Without assignments every new partition gets the replicas of the first brokers.
    """
    current = len(topic.partitions)
    if count == current:
        raise BrokerError(
            ErrorCode.invalid_partitions, f"Topic already has {current} partition(s)."
        )
    if count < current:
        raise BrokerError(
            ErrorCode.invalid_partitions,
            f"The topic {topic.name} currently has {current} partition(s); "
            f"{count} would not be an increase.",
        )
    additional = count - current
    factor = len(topic.partitions[0].replicas) if topic.partitions else 1
    if assignments is None:
        if factor > len(brokers):
            raise BrokerError(
                ErrorCode.invalid_replication_factor,
                f"Unable to replicate the partition {factor} time(s): only "
                f"{len(brokers)} broker(s) are registered.",
            )
        return [list(brokers[:factor]) for _ in range(additional)]
    if len(assignments) != additional:
        raise BrokerError(
            ErrorCode.invalid_replica_assignment,
            f"Attempted to add {additional} additional partition(s), but only "
            f"{len(assignments)} assignment(s) were specified.",
        )
    for replicas in assignments:
        _check_manual_assignment(replicas, factor, brokers)
    return [list(replicas) for replicas in assignments]


def _check_manual_assignment(replicas: list[int], factor: int, brokers: list[int]) -> None:
    if not replicas:
        raise BrokerError(
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes an empty replica list.",
        )
    previous = None
    for broker_id in sorted(replicas):
        if broker_id not in brokers:
            raise BrokerError(
                ErrorCode.invalid_replica_assignment,
                f"The manual partition assignment includes broker {broker_id}, but no such "
                "broker is registered.",
            )
        if broker_id == previous:
            raise BrokerError(
                ErrorCode.invalid_replica_assignment,
                f"The manual partition assignment includes the broker {broker_id} more than once.",
            )
        previous = broker_id
    if len(replicas) != factor:
        raise BrokerError(
            ErrorCode.invalid_replica_assignment,
            f"The manual partition assignment includes a partition with {len(replicas)} "
            "replica(s), but this is not consistent with previous partitions, which have "
            f"{factor} replica(s).",
        )


class MetadataStore(Protocol):
    cluster_id: str
    node_id: int

    def topics(self) -> list[TopicRecord]: ...
    def topic(self, name: str) -> TopicRecord | None: ...
    def topic_by_id(self, topic_id: uuid.UUID) -> TopicRecord | None: ...
    def create_topic(
        self,
        name: str,
        num_partitions: int,
        replicas: list[int],
        configs: dict[str, str],
        *,
        topic_id: uuid.UUID | None = None,
    ) -> TopicRecord: ...
    def delete_topic(self, name: str) -> TopicRecord: ...
    def alter_topic_configs(self, name: str, configs: dict[str, str]) -> TopicRecord: ...
    def add_partitions(self, name: str, assignments: list[list[int]]) -> TopicRecord: ...
    def broker_configs(self, resource_name: str) -> dict[str, str]: ...
    def alter_broker_configs(self, resource_name: str, configs: dict[str, str]) -> None: ...
    def allocate_producer_id(self) -> int: ...
    def scram_credentials(self, user: str) -> dict[str, ScramCredentialRecord]: ...
    def scram_users(self) -> dict[str, dict[str, ScramCredentialRecord]]: ...
    def alter_scram_credentials(
        self,
        deletions: Iterable[tuple[str, str]],
        upsertions: Iterable[tuple[str, str, ScramCredentialRecord]],
    ) -> None: ...
    def client_quotas(self) -> dict[QuotaEntity, dict[str, float]]: ...
    def alter_client_quotas(
        self, alterations: Iterable[tuple[QuotaEntity, dict[str, float]]]
    ) -> None: ...
    def acls(self) -> tuple[AclBinding, ...]: ...
    def create_acls(self, bindings: Iterable[AclBinding]) -> None: ...
    def delete_acls(self, bindings: Iterable[AclBinding]) -> None: ...


_QUOTA_ENTITY_FIELDS = {"user": "user", "client-id": "client_id", "ip": "ip"}


def _quota_entity_json(quota_entity: QuotaEntity) -> dict[str, str | None]:
    names: dict[str, str | None] = {}
    if quota_entity.has_user:
        names["user"] = quota_entity.user
    if quota_entity.has_client_id:
        names["client-id"] = quota_entity.client_id
    if quota_entity.has_ip:
        names["ip"] = quota_entity.ip
    return names


def _quota_entity_from_json(names: dict[str, str | None]) -> QuotaEntity:
    kwargs = {_QUOTA_ENTITY_FIELDS[key]: name for key, name in names.items()}
    return entity(**kwargs)  # type: ignore[arg-type]


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
        self._broker_configs: dict[str, dict[str, str]] = {}
        self._scram: dict[str, dict[str, ScramCredentialRecord]] = {}
        self._client_quotas: dict[QuotaEntity, dict[str, float]] = {}
        self._acls: tuple[AclBinding, ...] = ()
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
        self._broker_configs = {
            str(resource): dict(configs)
            for resource, configs in raw.get("broker_configs", {}).items()
        }
        self._scram = {
            str(user): {str(m): ScramCredentialRecord.from_json(c) for m, c in creds.items()}
            for user, creds in raw.get("scram_credentials", {}).items()
        }
        self._client_quotas = {
            _quota_entity_from_json(item["entity"]): {
                str(k): float(v) for k, v in item["quotas"].items()
            }
            for item in raw.get("client_quotas", [])
        }
        self._acls = tuple(AclBinding.from_json(item) for item in raw.get("acls", []))
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
            "broker_configs": {r: c for r, c in self._broker_configs.items() if c},
            "scram_credentials": {
                user: {m: c.to_json() for m, c in creds.items()}
                for user, creds in self._scram.items()
            },
            "client_quotas": [
                {"entity": _quota_entity_json(e), "quotas": q}
                for e, q in self._client_quotas.items()
            ],
            "acls": [binding.to_json() for binding in self._acls],
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
        self,
        name: str,
        num_partitions: int,
        replicas: list[int],
        configs: dict[str, str],
        *,
        topic_id: uuid.UUID | None = None,
    ) -> TopicRecord:
        """Record a new topic (``topic_id``: one chosen by the caller, who created its
        partition directories first). Nothing is kept if the snapshot cannot be written."""
        validate_topic_name(name)
        if name in self._topics:
            raise BrokerError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        record = TopicRecord(
            name=name,
            topic_id=topic_id or uuid.uuid4(),
            partitions=[
                PartitionRecord(i, leader_id=replicas[0], leader_epoch=0, replicas=list(replicas))
                for i in range(num_partitions)
            ],
            configs=dict(configs),
            is_internal=is_internal_topic(name),
        )
        self._topics[name] = record
        try:
            self._save()
        except BaseException:
            del self._topics[name]
            raise
        return record

    def _existing(self, name: str) -> TopicRecord:
        record = self._topics.get(name)
        if record is None:
            raise BrokerError(
                ErrorCode.unknown_topic_or_partition, f"The topic '{name}' does not exist."
            )
        return record

    def alter_topic_configs(self, name: str, configs: dict[str, str]) -> TopicRecord:
        """Replace a topic's config overrides (validated by the caller)."""
        record = self._existing(name)
        record.configs = dict(configs)
        self._save()
        return record

    def add_partitions(self, name: str, assignments: list[list[int]]) -> TopicRecord:
        """Append one partition per replica list; its leader is the first replica."""
        record = self._existing(name)
        start = len(record.partitions)
        record.partitions.extend(
            PartitionRecord(start + i, leader_id=replicas[0], leader_epoch=0, replicas=replicas)
            for i, replicas in enumerate(assignments)
        )
        try:
            self._save()
        except BaseException:
            del record.partitions[start:]
            raise
        return record

    def broker_configs(self, resource_name: str) -> dict[str, str]:
        """Dynamic broker configs of ``""`` (cluster default) or ``"<node.id>"``."""
        return dict(self._broker_configs.get(resource_name, {}))

    def alter_broker_configs(self, resource_name: str, configs: dict[str, str]) -> None:
        """Replace the dynamic configs of a broker resource (validated by the caller)."""
        self._broker_configs[resource_name] = dict(configs)
        self._save()

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

    def scram_credentials(self, user: str) -> dict[str, ScramCredentialRecord]:
        """A user's SCRAM credentials by mechanism name (empty for an unknown user)."""
        return dict(self._scram.get(user, {}))

    def scram_users(self) -> dict[str, dict[str, ScramCredentialRecord]]:
        return {user: dict(creds) for user, creds in self._scram.items()}

    def alter_scram_credentials(
        self,
        deletions: Iterable[tuple[str, str]],
        upsertions: Iterable[tuple[str, str, ScramCredentialRecord]],
    ) -> None:
        """Delete (user, mechanism) and upsert (user, mechanism, credential) pairs in one
        snapshot write (validated by the caller). Each user's map is replaced, not
        mutated, so a reader holding the old one sees a consistent view."""
        changed = {user: dict(creds) for user, creds in self._scram.items()}
        for user, mechanism in deletions:
            changed.get(user, {}).pop(mechanism, None)
        for user, mechanism, credential in upsertions:
            changed.setdefault(user, {})[mechanism] = credential
        previous, self._scram = self._scram, {u: c for u, c in changed.items() if c}
        try:
            self._save()
        except BaseException:
            self._scram = previous  # memory never claims what the disk does not hold
            raise

    def client_quotas(self) -> dict[QuotaEntity, dict[str, float]]:
        """Every entity's quota configs (a copy: callers may keep it as a snapshot)."""
        return {e: dict(q) for e, q in self._client_quotas.items()}

    def alter_client_quotas(
        self, alterations: Iterable[tuple[QuotaEntity, dict[str, float]]]
    ) -> None:
        """Replace the quotas of each entity (an empty dict removes the entity), in one
        snapshot write (validated by the caller)."""
        changed = dict(self._client_quotas)
        for quota_entity, quotas in alterations:
            if quotas:
                changed[quota_entity] = dict(quotas)
            else:
                changed.pop(quota_entity, None)
        previous, self._client_quotas = self._client_quotas, changed
        try:
            self._save()
        except BaseException:
            self._client_quotas = previous  # memory never claims what the disk does not hold
            raise

    def acls(self) -> tuple[AclBinding, ...]:
        """Every ACL binding, in creation order."""
        return self._acls

    def create_acls(self, bindings: Iterable[AclBinding]) -> None:
        """Add bindings (validated by the caller); one already present stays once."""
        added = tuple(dict.fromkeys(b for b in bindings if b not in self._acls))
        self._replace_acls(self._acls + added)

    def delete_acls(self, bindings: Iterable[AclBinding]) -> None:
        """Remove these exact bindings (the caller matched them against filters)."""
        doomed = set(bindings)
        self._replace_acls(tuple(b for b in self._acls if b not in doomed))

    def _replace_acls(self, acls: tuple[AclBinding, ...]) -> None:
        """One snapshot write; memory never claims what the disk does not hold."""
        previous, self._acls = self._acls, acls
        try:
            self._save()
        except BaseException:
            self._acls = previous
            raise

    def delete_topic(self, name: str) -> TopicRecord:
        record = self._topics.pop(name, None)
        if record is None:
            raise BrokerError(
                ErrorCode.unknown_topic_or_partition, "This server does not host this topic."
            )
        self._save()
        return record
