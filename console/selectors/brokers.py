"""Operators' reads of the brokers pages: the cluster, each broker's log dirs, its configs.

Operators only (``cluster.view``): anyone else gets "not found", as for every
cluster-wide page. Everything comes over the Kafka protocol (:mod:`console.cluster_admin`),
so the pages work the same on a multi-broker Apache Kafka cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from console import cluster_admin
from console.roles import Action
from console.tenancy import Actor, NotFound, authorize

BIGGEST_PARTITIONS = 5


@dataclass(frozen=True, slots=True)
class BrokerSummary:
    """One broker with its log dirs and its biggest partitions across them."""

    broker: cluster_admin.Broker
    is_controller: bool
    log_dirs: tuple[cluster_admin.LogDir, ...]
    biggest: tuple[cluster_admin.PartitionSize, ...]
    log_dir_error: str = ""


@dataclass(frozen=True, slots=True)
class ClusterOverview:
    cluster_id: str
    controller_id: int | None
    brokers: tuple[BrokerSummary, ...]


@dataclass(frozen=True, slots=True)
class BrokerDetail:
    broker: cluster_admin.Broker
    is_controller: bool
    configs: tuple[cluster_admin.BrokerConfig, ...]

    @property
    def dynamic(self) -> tuple[cluster_admin.BrokerConfig, ...]:
        """The configs that may change without a restart (not read-only)."""
        return tuple(c for c in self.configs if not c.read_only)


def _summary(
    cluster: cluster_admin.Cluster,
    broker: cluster_admin.Broker,
    log_dirs: list[cluster_admin.LogDir],
    error: str = "",
) -> BrokerSummary:
    partitions = sorted(
        (p for d in log_dirs for p in d.partitions), key=lambda p: (-p.size_bytes, p.topic)
    )
    return BrokerSummary(
        broker=broker,
        is_controller=broker.broker_id == cluster.controller_id,
        log_dirs=tuple(log_dirs),
        biggest=tuple(p for p in partitions[:BIGGEST_PARTITIONS] if p.size_bytes > 0),
        log_dir_error=error,
    )


def broker_list(*, actor: Actor) -> ClusterOverview:
    """Cluster id, controller, and each broker with its log dirs' usage (one
    DescribeLogDirs per broker). A broker refusing DescribeLogDirs, or not answering,
    is shown with its error rather than failing the page."""
    authorize(actor=actor, action=Action.CLUSTER_VIEW)
    cluster = cluster_admin.describe_cluster()
    answers = cluster_admin.describe_log_dirs([b.broker_id for b in cluster.brokers])
    summaries = []
    for b in cluster.brokers:
        answer = answers.get(b.broker_id, [])
        if isinstance(answer, cluster_admin.BrokerAdminError):
            summaries.append(_summary(cluster, b, [], str(answer)))
        else:
            summaries.append(_summary(cluster, b, answer))
    return ClusterOverview(
        cluster_id=cluster.cluster_id, controller_id=cluster.controller_id, brokers=tuple(summaries)
    )


def broker_get(*, actor: Actor, broker_id: int) -> BrokerDetail:
    """One broker with its configs (DescribeConfigs, BROKER resource); a broker id the
    cluster does not list is NotFound."""
    authorize(actor=actor, action=Action.CLUSTER_VIEW)
    cluster = cluster_admin.describe_cluster()
    broker = next((b for b in cluster.brokers if b.broker_id == broker_id), None)
    if broker is None:
        raise NotFound("no such broker")
    return BrokerDetail(
        broker=broker,
        is_controller=broker_id == cluster.controller_id,
        configs=tuple(cluster_admin.describe_broker_configs(broker_id=broker_id)),
    )
