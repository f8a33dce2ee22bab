"""Cluster and broker admin requests for the console's brokers pages (issue 11).

A sibling of :mod:`console.broker_admin`, whose client, timeouts and error translation
it uses (never copies): DescribeCluster (cluster id, controller, brokers with their
racks), DescribeConfigs and IncrementalAlterConfigs on a BROKER resource, and
DescribeLogDirs, which confluent-kafka lacks: it goes through kafka-python's admin, as
:func:`console.group_admin.delete_group_offsets` does, once per broker (each answers
for its own log dirs). Works the same on a multi-broker Apache Kafka cluster.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource

from broker.common.client_properties import kafka_python_settings
from console import broker_admin
from console.broker_admin import BrokerAdminError, BrokerUnavailable, RequestRejected

CLUSTER_AUTHORIZATION_FAILED = 31


@dataclass(frozen=True, slots=True)
class Broker:
    broker_id: int
    host: str
    port: int
    rack: str | None


@dataclass(frozen=True, slots=True)
class Cluster:
    """DescribeCluster's answer."""

    cluster_id: str
    controller_id: int | None
    brokers: tuple[Broker, ...]


@dataclass(frozen=True, slots=True)
class PartitionSize:
    topic: str
    partition: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class LogDir:
    """One log dir of one broker; ``error`` is Kafka's error name, empty when none.
    Total and usable bytes are None when the broker does not report them (below v4)."""

    path: str
    error: str
    total_bytes: int | None
    usable_bytes: int | None
    partitions: tuple[PartitionSize, ...]

    @property
    def used_bytes(self) -> int:
        """Bytes the partitions' segments take (the volume may hold other files)."""
        return sum(p.size_bytes for p in self.partitions)

    @property
    def volume_used_bytes(self) -> int | None:
        """What the volume holds in all (total less usable), when reported."""
        if self.total_bytes is None or self.usable_bytes is None:
            return None
        return self.total_bytes - self.usable_bytes


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """One entry of a broker's DescribeConfigs answer; ``source`` is Kafka's name
    (``DYNAMIC_BROKER_CONFIG``, ``DYNAMIC_DEFAULT_BROKER_CONFIG``,
    ``STATIC_BROKER_CONFIG``, ``DEFAULT_CONFIG``)."""

    name: str
    value: str | None
    source: str
    read_only: bool
    sensitive: bool

    @property
    def source_label(self) -> str:
        return _SOURCE_LABELS.get(self.source, self.source.lower())


_SOURCE_LABELS = {
    "DYNAMIC_BROKER_CONFIG": "dynamic, this broker",
    "DYNAMIC_DEFAULT_BROKER_CONFIG": "dynamic, cluster-wide default",
    "STATIC_BROKER_CONFIG": "static (server.properties)",
    "DEFAULT_CONFIG": "Kafka's default",
}


def describe_cluster() -> Cluster:
    """Cluster id, controller and every broker (DescribeCluster, Metadata below it)."""
    client = broker_admin._client()
    try:
        described = client.describe_cluster(request_timeout=broker_admin._timeout()).result()
    except KafkaException as exc:
        raise broker_admin._translate(exc) from exc
    controller = described.controller
    return Cluster(
        cluster_id=described.cluster_id or "",
        controller_id=controller.id if controller is not None else None,
        brokers=tuple(
            sorted(
                (Broker(n.id, n.host, n.port, n.rack or None) for n in described.nodes),
                key=lambda b: b.broker_id,
            )
        ),
    )


def describe_broker_configs(*, broker_id: int) -> list[BrokerConfig]:
    """DescribeConfigs for broker ``broker_id``, by config name."""
    resource = ConfigResource(ConfigResource.Type.BROKER, str(broker_id))
    futures = broker_admin._client().describe_configs(
        [resource], request_timeout=broker_admin._timeout()
    )
    try:
        entries = futures[resource].result()
    except KafkaException as exc:
        raise broker_admin._rejected(exc, f"DescribeConfigs broker {broker_id}") from exc
    return [
        BrokerConfig(
            name=name,
            value=entry.value,
            source=ConfigSource(entry.source).name,
            read_only=bool(entry.is_read_only),
            sensitive=bool(entry.is_sensitive),
        )
        for name, entry in sorted(entries.items())
    ]


def alter_broker_configs(*, broker_id: int, set: dict[str, str], delete: Iterable[str]) -> None:
    """IncrementalAlterConfigs on broker ``broker_id``: SET each of ``set``, DELETE each
    of ``delete``; a refusal is :class:`RequestRejected` with Kafka's message."""
    entries = [
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
        for key, value in set.items()
    ] + [ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE) for key in delete]
    resource = ConfigResource(
        ConfigResource.Type.BROKER, str(broker_id), incremental_configs=entries
    )
    futures = broker_admin._client().incremental_alter_configs(
        [resource], request_timeout=broker_admin._timeout()
    )
    try:
        futures[resource].result()
    except KafkaException as exc:
        raise broker_admin._rejected(exc, "IncrementalAlterConfigs") from exc


def _kafka_python_admin() -> Any:
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError as KafkaPythonError

    logging.getLogger("kafka").setLevel(logging.ERROR)  # it chats at INFO, retries at WARNING
    config: dict[str, Any] = {
        "bootstrap_servers": broker_admin.client_config()["bootstrap.servers"].split(","),
        "request_timeout_ms": int(broker_admin._timeout() * 1000),
        "client_id": "headwater-console",
    }
    config |= kafka_python_settings(broker_admin.client_config())
    try:
        return KafkaAdminClient(**config)
    except (KafkaPythonError, OSError, ValueError) as exc:
        raise BrokerUnavailable(f"cannot reach the Kafka cluster: {exc}") from exc


def _error_name(code: int) -> str:
    from kafka.errors import for_code

    return str(getattr(for_code(code), "message", code))


def _log_dir(result: Any) -> LogDir:
    total = getattr(result, "total_bytes", -1)
    usable = getattr(result, "usable_bytes", -1)
    return LogDir(
        path=result.log_dir,
        error=_error_name(result.error_code) if result.error_code else "",
        total_bytes=total if total >= 0 else None,
        usable_bytes=usable if usable >= 0 else None,
        partitions=tuple(
            PartitionSize(topic.name, p.partition_index, p.partition_size)
            for topic in result.topics
            for p in topic.partitions
            if not p.is_future_key
        ),
    )


def describe_log_dirs(
    broker_ids: Iterable[int], *, topics: Iterable[str] | None = None
) -> dict[int, list[LogDir] | BrokerAdminError]:
    """DescribeLogDirs to each of ``broker_ids`` (every partition, or those of
    ``topics``): broker id -> its log dirs, or why that broker did not say: a refusal
    (no DESCRIBE on the cluster) is :class:`RequestRejected`, a broker that did not
    answer :class:`BrokerUnavailable` (one broker down does not hide the others)."""
    from kafka.errors import KafkaError as KafkaPythonError
    from kafka.protocol.admin import DescribeLogDirsRequest

    wanted = None
    if topics is not None:
        wanted = [DescribeLogDirsRequest.DescribableLogDirTopic(topic=t, partitions=[])
                  for t in sorted(set(topics))]  # fmt: skip
    admin = _kafka_python_admin()
    try:
        manager = admin._manager  # kafka-python's admin drops the top-level error code

        async def ask(node_id: int) -> Any:
            request = DescribeLogDirsRequest(topics=wanted)
            return await manager.send(request, node_id=node_id)

        answers: dict[int, list[LogDir] | BrokerAdminError] = {}
        for broker_id in broker_ids:
            try:
                response = manager.run(ask, broker_id)
            except (KafkaPythonError, OSError) as exc:
                answers[broker_id] = BrokerUnavailable(f"broker {broker_id} did not answer: {exc}")
                continue
            if getattr(response, "error_code", 0):
                name = _error_name(response.error_code)
                answers[broker_id] = RequestRejected(f"DescribeLogDirs: {name}", error_name=name)
                continue
            answers[broker_id] = [_log_dir(result) for result in response.results]
        return answers
    finally:
        admin.close()


__all__ = [
    "Broker", "BrokerAdminError", "BrokerConfig", "BrokerUnavailable", "Cluster", "LogDir",
    "PartitionSize", "RequestRejected", "alter_broker_configs", "describe_broker_configs",
    "describe_cluster", "describe_log_dirs",
]  # fmt: skip
