"""Reads for the consumer-group pages: ``/groups/``, ``/groups/<id>/`` and the topic
page's "consumer groups reading this topic".

A tenant owns the groups whose id starts with its prefix (``acme.``), like its topics;
another tenant's group is NotFound, exactly as a group that does not exist; operators see
every group. Admin calls are batched (console.group_admin): ListGroups, then one
DescribeGroups and the OffsetFetch requests for the page's groups together, then one
ListOffsets for all their partitions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator

from console import broker_admin, group_admin
from console.group_admin import GroupDescription, Member, TopicPartitionKey
from console.selectors.topics import topic_visible
from console.services._common import field_error
from console.tenancy import Actor, NotFound, is_operator, visible_tenants

PAGE_SIZE = 25
TOPIC_GROUPS_LIMIT = 200  # groups examined for a topic page (OffsetFetch each)


def lag(committed: int | None, end: int | None) -> int | None:
    """Records behind: the high watermark minus the committed offset (never negative)."""
    if committed is None or end is None:
        return None
    return max(end - committed, 0)


@dataclass(frozen=True, slots=True)
class GroupSummary:
    group_id: str
    state: str
    protocol: str
    members: int
    topics: tuple[str, ...]
    lag: int | None  # None: some partition's end offset is unknown

    @property
    def protocol_label(self) -> str:
        return "consumer (KIP-848)" if self.protocol == "consumer" else "classic"


@dataclass(frozen=True)
class GroupListPage:
    page: Page[Any]
    groups: list[GroupSummary]
    query: str
    state: str
    tenant: str
    tenants: list[str]
    operator: bool

    def as_query(self) -> dict[str, str]:
        values = {"q": self.query, "state": self.state, "tenant": self.tenant}
        return {k: v for k, v in values.items() if v}


def _prefixes(actor: Actor) -> tuple[str, ...] | None:
    """None for operators (every group), else the prefixes of the actor's tenants."""
    if is_operator(actor):
        return None
    return tuple(t.prefix for t in visible_tenants(actor=actor))


def group_visible(*, actor: Actor, group_id: str) -> bool:
    prefixes = _prefixes(actor)
    return prefixes is None or (bool(prefixes) and group_id.startswith(prefixes))


def _summaries(group_ids: list[str]) -> list[GroupSummary]:
    described = group_admin.describe_groups(group_ids)
    offsets = group_admin.committed_offsets(group_ids)
    ends = group_admin.end_offsets(key for group in offsets.values() for key in group)
    summaries = []
    for group_id in group_ids:
        description = described[group_id]
        committed = offsets.get(group_id, {})
        lags = [lag(offset, ends.get(key)) for key, offset in committed.items()]
        assigned = {tp[0] for m in description.members for tp in m.assignment}
        summaries.append(
            GroupSummary(
                group_id=group_id,
                state=description.state,
                protocol=description.protocol,
                members=len(description.members),
                topics=tuple(sorted(assigned | {t for t, _ in committed})),
                lag=None if any(x is None for x in lags) else sum(x or 0 for x in lags),
            )
        )
    return summaries


def group_list(
    *, actor: Actor, query: str = "", state: str = "", tenant: str = "", page: int | str = 1
) -> GroupListPage:
    """``/groups/``: the actor's groups filtered by id (contains), state and tenant,
    sorted by id, PAGE_SIZE at a time; lag and members only for the page shown.

    Raises ValidationError (by filter field) for a tenant the actor cannot see."""
    tenants = list(visible_tenants(actor=actor).order_by("slug").values_list("slug", flat=True))
    if tenant and tenant not in tenants:
        raise field_error("tenant", f"No tenant {tenant!r}.", "unknown_tenant")
    prefixes = _prefixes(actor)
    listed = [
        g for g in group_admin.list_groups()
        if (prefixes is None or (prefixes and g.group_id.startswith(prefixes)))
        and (not query or query.lower() in g.group_id.lower())
        and (not state or g.state == state)
        and (not tenant or g.group_id.startswith(f"{tenant}."))
    ]  # fmt: skip
    paged = Paginator(listed, PAGE_SIZE).get_page(page)
    groups = _summaries([g.group_id for g in paged.object_list])
    return GroupListPage(
        page=paged, groups=groups, query=query, state=state, tenant=tenant, tenants=tenants,
        operator=prefixes is None,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end: int | None
    lag: int | None
    lag_seconds: float | None  # None: unknown (no committed offset, or no record came)
    member: str = ""  # client id of the member assigned to it

    @property
    def lag_seconds_label(self) -> str:
        if self.lag_seconds is None:
            return "unknown"
        return f"{self.lag_seconds:.1f}"


@dataclass(frozen=True)
class GroupDetail:
    group: GroupDescription
    partitions: list[PartitionLag]
    topics: list[str] = field(default_factory=list)

    @property
    def protocol_label(self) -> str:
        return "consumer (KIP-848)" if self.group.protocol == "consumer" else "classic"

    @property
    def members(self) -> tuple[Member, ...]:
        return self.group.members

    @property
    def lag(self) -> int | None:
        lags = [p.lag for p in self.partitions]
        return None if any(x is None for x in lags) else sum(x or 0 for x in lags)

    @property
    def empty(self) -> bool:
        """Kafka's rule for resetting offsets: no members (state Empty or Dead)."""
        return not self.group.members and self.group.state in ("Empty", "Dead")


def group_get(*, actor: Actor, group_id: str, with_lag_seconds: bool = True) -> GroupDetail:
    """``/groups/<id>/``: members, and per partition committed and end offsets, lag in
    records and in seconds (now minus the timestamp of the next record to consume: one
    fetch per lagging partition, within the admin timeout). NotFound for a group the
    actor may not see or the cluster does not have (the same answer)."""
    if not group_visible(actor=actor, group_id=group_id):
        raise NotFound("no such group")
    description = group_admin.describe_groups([group_id])[group_id]
    committed = group_admin.committed_offsets([group_id])[group_id]
    if description.state == "Dead" and not description.members and not committed:
        raise NotFound("no such group")
    owners = {tp: m.client_id for m in description.members for tp in m.assignment}
    keys = sorted(set(committed) | set(owners))
    ends = group_admin.end_offsets(keys)
    lagging = {k: committed[k] for k in keys if (lag(committed.get(k), ends.get(k)) or 0) > 0}
    timestamps = group_admin.next_record_timestamps(lagging) if with_lag_seconds else {}
    now_ms = time.time() * 1000
    partitions = []
    for key in keys:
        behind = lag(committed.get(key), ends.get(key))
        seconds: float | None = None
        if behind == 0:
            seconds = 0.0
        elif key in timestamps:
            seconds = max(now_ms - timestamps[key], 0) / 1000
        partitions.append(
            PartitionLag(
                topic=key[0],
                partition=key[1],
                committed=committed.get(key),
                end=ends.get(key),
                lag=behind,
                lag_seconds=seconds,
                member=owners.get(key, ""),
            )
        )
    return GroupDetail(
        group=description, partitions=partitions, topics=sorted({k[0] for k in keys})
    )


@dataclass(frozen=True, slots=True)
class TopicGroupLag:
    group_id: str
    state: str
    lag: int | None


def topic_groups(*, actor: Actor, topic: str) -> list[TopicGroupLag]:
    """The actor's groups with committed offsets on ``topic``, with their lag on it (at
    most TOPIC_GROUPS_LIMIT groups examined, OffsetFetch requests sent together)."""
    if not topic_visible(actor=actor, name=topic):
        raise NotFound("no such topic")
    prefixes = _prefixes(actor)
    listed = [
        g for g in group_admin.list_groups()
        if prefixes is None or (prefixes and g.group_id.startswith(prefixes))
    ][:TOPIC_GROUPS_LIMIT]  # fmt: skip
    offsets = group_admin.committed_offsets(g.group_id for g in listed)
    on_topic = {
        g.group_id: {k: o for k, o in offsets[g.group_id].items() if k[0] == topic} for g in listed
    }
    keys: set[TopicPartitionKey] = {k for group in on_topic.values() for k in group}
    ends = group_admin.end_offsets(sorted(keys))
    rows = []
    for g in listed:
        committed = on_topic[g.group_id]
        if not committed:
            continue
        lags = [lag(o, ends.get(k)) for k, o in committed.items()]
        total = None if any(x is None for x in lags) else sum(x or 0 for x in lags)
        rows.append(TopicGroupLag(group_id=g.group_id, state=g.state, lag=total))
    return rows


def topic_partitions(*, topic: str) -> list[TopicPartitionKey]:
    """The partitions of ``topic`` per Metadata (empty if the cluster has no such topic)."""
    meta = broker_admin.describe_topics().get(topic)
    return [(topic, p.partition) for p in meta.partitions] if meta else []
