"""Console reads: what the cluster says about topics, combined for pages.

Metadata gives the partitions; one ListOffsets round per spec gives each partition's
log start offset and high watermark.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from broker.common import acls
from console import broker_admin
from console.topic_names import is_internal


def record_count(log_start_offset: int | None, high_watermark: int | None) -> int | None:
    """Records a partition retains: offsets in [log_start_offset, high_watermark)."""
    if log_start_offset is None or high_watermark is None:
        return None
    return high_watermark - log_start_offset


@dataclass(frozen=True, slots=True)
class PartitionSummary:
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    log_start_offset: int | None
    high_watermark: int | None

    @property
    def record_count(self) -> int | None:
        return record_count(self.log_start_offset, self.high_watermark)


@dataclass(frozen=True, slots=True)
class TopicSummary:
    name: str
    partitions: tuple[PartitionSummary, ...]

    @property
    def internal(self) -> bool:
        """Kafka's internal topics (``__consumer_offsets``, ``__transaction_state``), which
        clients may not delete; other names starting with ``__`` are ordinary topics."""
        return is_internal(self.name)

    @property
    def partition_count(self) -> int:
        return len(self.partitions)

    def _total(self, field: str) -> int | None:
        values = [getattr(p, field) for p in self.partitions]
        return None if any(v is None for v in values) else sum(values)

    @property
    def log_start_offset_total(self) -> int | None:
        return self._total("log_start_offset")

    @property
    def high_watermark_total(self) -> int | None:
        return self._total("high_watermark")

    @property
    def record_count(self) -> int | None:
        return self._total("record_count")


def _summaries(topics: list[broker_admin.TopicMetadata]) -> list[TopicSummary]:
    offsets = broker_admin.list_offsets(
        (topic.name, p.partition) for topic in topics for p in topic.partitions
    )
    unknown = broker_admin.PartitionOffsets(log_start_offset=None, high_watermark=None)
    summaries = []
    for topic in topics:
        partitions = []
        for p in topic.partitions:
            answer = offsets.get((topic.name, p.partition), unknown)
            partitions.append(
                PartitionSummary(
                    partition=p.partition,
                    leader=p.leader,
                    replicas=p.replicas,
                    isr=p.isr,
                    log_start_offset=answer.log_start_offset,
                    high_watermark=answer.high_watermark,
                )
            )
        summaries.append(TopicSummary(name=topic.name, partitions=tuple(partitions)))
    return summaries


def topic_list() -> list[TopicSummary]:
    """Every topic of the cluster, sorted by name, with its partitions' offsets."""
    topics = sorted(broker_admin.describe_topics().values(), key=lambda t: t.name)
    return _summaries(topics)


def topic_get(*, name: str) -> TopicSummary:
    """One topic; raises ``broker_admin.UnknownTopic`` if the cluster has no such topic."""
    topic = broker_admin.describe_topics().get(name)
    if topic is None:
        raise broker_admin.UnknownTopic(f"topic {name!r}: no such topic")
    return _summaries([topic])[0]


def _require_operator(actor: AbstractBaseUser | AnonymousUser) -> None:
    """Cluster-wide views are for operators (staff); anyone else gets "not found"."""
    if not getattr(actor, "is_staff", False):
        raise Http404("no such page")


def acl_list(*, actor: AbstractBaseUser | AnonymousUser) -> list[acls.AclBinding]:
    """Every ACL on the cluster, sorted as kafka-acls.sh groups them (by resource)."""
    _require_operator(actor)
    broker_admin.authorizer_configs()  # SecurityDisabled when the authorizer is off
    return sorted(
        broker_admin.describe_acls(),
        key=lambda b: (b.resource_type, b.resource_name, b.pattern_type, b.principal, b.operation),
    )


def permission_check(
    *,
    actor: AbstractBaseUser | AnonymousUser,
    principal: str,
    host: str,
    operation: acls.AclOperation,
    resource_type: acls.ResourceType,
    resource_name: str,
) -> acls.Decision:
    """May ``principal`` from ``host`` do ``operation`` on the resource? Answered by the
    broker's own authorizer rules over what the cluster reports (DescribeAcls, and
    ``super.users`` / ``allow.everyone.if.no.acl.found`` from DescribeConfigs), with
    the rule that decided."""
    _require_operator(actor)
    configs = broker_admin.authorizer_configs()
    authorizer = acls.Authorizer(
        tuple(broker_admin.describe_acls()),
        super_users=configs.super_users,
        allow_everyone_if_no_acl_found=configs.allow_everyone_if_no_acl_found,
    )
    return authorizer.explain(principal, host, operation, resource_type, resource_name)


def scram_user_list(*, actor: AbstractBaseUser | AnonymousUser) -> list[broker_admin.ScramUser]:
    """Operators: every SCRAM user on the cluster, by name."""
    _require_operator(actor)
    return broker_admin.describe_scram_users()
