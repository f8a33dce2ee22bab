"""Console reads: what the cluster says about topics, combined for pages.

Metadata gives the partitions; one ListOffsets round per spec gives each partition's
log start offset and high watermark.
"""

from __future__ import annotations

from dataclasses import dataclass

from console import broker_admin
from console.tenancy import Actor, is_operator, visible_tenants
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


def topic_visible(*, actor: Actor, name: str) -> bool:
    """Operators see every topic; anyone else only topics inside a prefix of one of
    their tenants (another tenant's topic is a topic that does not exist)."""
    if is_operator(actor):
        return True
    slug, dot, _ = name.partition(".")
    return bool(dot) and visible_tenants(actor=actor).filter(slug=slug).exists()


def topic_list(*, actor: Actor) -> list[TopicSummary]:
    """The topics ``actor`` may see, sorted by name, with their partitions' offsets."""
    described = broker_admin.describe_topics().values()
    if is_operator(actor):
        topics = list(described)
    else:
        prefixes = tuple(t.prefix for t in visible_tenants(actor=actor))
        topics = [t for t in described if prefixes and t.name.startswith(prefixes)]
    return _summaries(sorted(topics, key=lambda t: t.name))


def topic_get(*, actor: Actor, name: str) -> TopicSummary:
    """One topic; raises ``broker_admin.UnknownTopic`` if the cluster has no such topic
    or ``actor`` may not see it (the same answer)."""
    topic = (
        broker_admin.describe_topics().get(name) if topic_visible(actor=actor, name=name) else None
    )
    if topic is None:
        raise broker_admin.UnknownTopic(f"topic {name!r}: no such topic")
    return _summaries([topic])[0]
