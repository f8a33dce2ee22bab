"""Console reads: what the cluster says about topics, combined for pages.

Metadata gives the partitions; one ListOffsets round per spec gives each partition's
log start offset and high watermark, for the topics of one page only. DescribeConfigs
gives one topic's configs for its detail page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator

from console import broker_admin
from console.models import Membership, Plan, Tenant, TenantState
from console.roles import Action, allows
from console.tenancy import Actor, is_operator, role_of, visible_tenants
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


PAGE_SIZE = 50
"""Topics per page of ``/topics/``."""


@dataclass(frozen=True, slots=True)
class TenantChoice:
    """A tenant the actor may create topics in, with its usage against its plan (from
    Metadata now, not the reconciler's last look)."""

    tenant: Tenant
    topics: int
    partitions: int

    @property
    def plan(self) -> Plan:
        return self.tenant.plan

    @property
    def topics_full(self) -> bool:
        limit = self.plan.max_topics
        return limit is not None and self.topics >= limit

    @property
    def partitions_full(self) -> bool:
        limit = self.plan.max_partitions
        return limit is not None and self.partitions >= limit


@dataclass(frozen=True)
class TopicListPage:
    """``/topics/``: one page of the topics the actor may see, with the filters that
    chose it, and what the create form offers."""

    topics: list[TopicSummary]
    page: Page[Any]
    query: str
    tenant: str
    internal: bool
    tenants: list[str]  # the tenant filter's choices
    manageable: frozenset[str]  # names on this page the actor may delete/configure
    choices: list[TenantChoice]  # where the actor may create topics
    cluster_topics: bool  # operators may create topics outside every tenant
    selected: str  # the create form's tenant, by default

    @property
    def can_create(self) -> bool:
        return self.cluster_topics or bool(self.choices)

    @property
    def params(self) -> str:
        """The filters as a query string, for the pager's links (``q`` is its own)."""
        wanted = {"tenant": self.tenant, "internal": "1" if self.internal else ""}
        return urlencode({k: v for k, v in wanted.items() if v})

    @property
    def usage(self) -> list[TenantChoice]:
        """The tenants whose plan usage the create form shows: a member's own tenants;
        for an operator the tenant the list is filtered by."""
        if not self.cluster_topics:
            return self.choices
        return [c for c in self.choices if c.tenant.slug == self.tenant]


def _manageable_tenants(actor: Actor, tenants: list[Tenant]) -> list[Tenant]:
    if is_operator(actor):
        return [t for t in tenants if t.state == TenantState.ACTIVE]
    roles = dict(
        Membership.objects.filter(user=actor, tenant__in=tenants).values_list("tenant_id", "role")
    )
    return [
        t
        for t in tenants
        if t.state == TenantState.ACTIVE and allows(roles.get(t.pk), Action.TOPIC_MANAGE)
    ]


def _usage(topics: list[broker_admin.TopicMetadata]) -> dict[str, tuple[int, int]]:
    """slug -> (topics, partitions) over the topics inside ``<slug>.``."""
    usage: dict[str, tuple[int, int]] = {}
    for topic in topics:
        slug, dot, _ = topic.name.partition(".")
        if dot:
            count, partitions = usage.get(slug, (0, 0))
            usage[slug] = (count + 1, partitions + len(topic.partitions))
    return usage


def topic_list(
    *,
    actor: Actor,
    query: str = "",
    tenant: str = "",
    internal: bool = False,
    page: int | str = 1,
) -> TopicListPage:
    """The topics ``actor`` may see, sorted by name, a page of :data:`PAGE_SIZE` with
    their partitions' offsets (ListOffsets for that page only): searched by ``query``
    (part of the name, any case), narrowed to one ``tenant`` (a slug among the actor's),
    Kafka's internal topics hidden unless ``internal``."""
    described = list(broker_admin.describe_topics().values())
    tenants = list(visible_tenants(actor=actor).select_related("plan").order_by("slug"))
    operator = is_operator(actor)
    if operator:
        topics = described
    else:
        prefixes = tuple(t.prefix for t in tenants)
        topics = [t for t in described if prefixes and t.name.startswith(prefixes)]
    tenant = tenant.strip()
    if tenant:
        chosen = next((t for t in tenants if t.slug == tenant), None)
        topics = [t for t in topics if chosen and t.name.startswith(chosen.prefix)]
    if not internal:
        topics = [t for t in topics if not is_internal(t.name)]
    query = query.strip()
    if query:
        folded = query.casefold()
        topics = [t for t in topics if folded in t.name.casefold()]
    paged = Paginator(sorted(topics, key=lambda t: t.name), PAGE_SIZE).get_page(page)
    manageable_tenants = _manageable_tenants(actor, tenants)
    usage = _usage(described)
    choices = [TenantChoice(t, *usage.get(t.slug, (0, 0))) for t in manageable_tenants]
    managed_prefixes = tuple(t.prefix for t in manageable_tenants)
    on_page = list(paged.object_list)
    manageable = frozenset(
        t.name
        for t in on_page
        if operator or (managed_prefixes and t.name.startswith(managed_prefixes))
    )
    slugs = [c.tenant.slug for c in choices]
    selected = tenant if tenant in slugs else ("" if operator or not slugs else slugs[0])
    return TopicListPage(
        topics=_summaries(on_page),
        page=paged,
        query=query,
        tenant=tenant,
        internal=internal,
        tenants=[t.slug for t in tenants],
        manageable=manageable,
        choices=choices,
        cluster_topics=operator,
        selected=selected,
    )


def topic_create_choices(*, actor: Actor) -> tuple[list[Tenant], bool]:
    """The tenants ``actor`` may create topics in (role allows ``topic.manage``), and
    whether it may create topics outside every tenant (operators)."""
    tenants = list(visible_tenants(actor=actor).select_related("plan").order_by("slug"))
    return _manageable_tenants(actor, tenants), is_operator(actor)


def topic_get(*, actor: Actor, name: str) -> TopicSummary:
    """One topic; raises ``broker_admin.UnknownTopic`` if the cluster has no such topic
    or ``actor`` may not see it (the same answer)."""
    topic = (
        broker_admin.describe_topics().get(name) if topic_visible(actor=actor, name=name) else None
    )
    if topic is None:
        raise broker_admin.UnknownTopic(f"topic {name!r}: no such topic")
    return _summaries([topic])[0]


@dataclass(frozen=True)
class TopicDetail:
    """``/topics/<name>/``: the topic, its configs, and what the actor may change."""

    topic: TopicSummary
    configs: list[broker_admin.TopicConfig]
    tenant: Tenant | None
    can_manage: bool

    @property
    def overrides(self) -> list[broker_admin.TopicConfig]:
        return [c for c in self.configs if c.is_override]


def topic_detail(*, actor: Actor, name: str) -> TopicDetail:
    """One topic with its configs (DescribeConfigs) and whether ``actor``'s role allows
    ``topic.manage`` on it; ``broker_admin.UnknownTopic`` as :func:`topic_get`."""
    topic = topic_get(actor=actor, name=name)
    configs = broker_admin.describe_topic_configs(name=name)
    slug, dot, _ = name.partition(".")
    tenant = Tenant.objects.select_related("plan").filter(slug=slug).first() if dot else None
    if is_operator(actor):
        can_manage = True
    else:
        role = role_of(actor=actor, tenant=tenant) if tenant is not None else None
        can_manage = allows(role, Action.TOPIC_MANAGE) and tenant.state == TenantState.ACTIVE
    return TopicDetail(
        topic=topic,
        configs=[c for c in configs.values() if not c.sensitive],
        tenant=tenant,
        can_manage=can_manage,
    )


def topic_overrides(*, actor: Actor, name: str) -> list[str]:
    """The configs set on topic ``name`` (the choices of "delete overrides"); none for a
    topic ``actor`` may not see."""
    if not topic_visible(actor=actor, name=name):
        return []
    configs = broker_admin.describe_topic_configs(name=name).values()
    return [c.name for c in configs if c.is_override]
