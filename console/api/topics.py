"""Topics: those the caller may see (its tenants' prefixes; operators every topic),
searched and paged as on the topic list; one with its partitions' offsets and configs;
create (inside a tenant's prefix and plan), configure, add partitions, delete."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from broker.common.limits import INT16_MAX
from console import selectors, services
from console.api.schemas import INT32_MAX, PageMeta, Text, page_of, responses
from console.selectors import topics as topic_selectors
from console.selectors.topics import TopicDetail, TopicSummary
from console.services import topics as topic_services

router = Router(tags=["topics"])


class PartitionOut(Schema):
    partition: int
    leader: int
    replicas: list[int]
    isr: list[int]
    log_start_offset: int | None
    high_watermark: int | None
    record_count: int | None


class TopicOut(Schema):
    name: str
    internal: bool
    partition_count: int
    record_count: int | None
    partitions: list[PartitionOut]


class TopicPageOut(PageMeta):
    items: list[TopicOut]


class TopicConfigOut(Schema):
    name: str
    value: str | None
    source: str = Field(description="Kafka's: DYNAMIC_TOPIC_CONFIG for an override...")
    read_only: bool
    is_override: bool


class TopicDetailOut(TopicOut):
    tenant: str | None
    can_manage: bool = Field(description="the caller's role allows topic.manage on it")
    configs: list[TopicConfigOut]


class TopicConfigsIn(Schema):
    """IncrementalAlterConfigs: SET each of ``set``, DELETE each of ``delete``."""

    set: dict[Text(255), Text(4096)] = Field(default_factory=dict)
    delete: list[Text(255)] = Field(default_factory=list, max_length=1000)


class PartitionsIn(Schema):
    count: int = Field(..., ge=-INT32_MAX, le=INT32_MAX, description="partitions in total")


class TopicCreateIn(Schema):
    name: Text(249)
    partitions: int = Field(1, ge=-INT32_MAX, le=INT32_MAX)
    replication_factor: int = Field(
        services.DEFAULT_REPLICATION_FACTOR, ge=-INT16_MAX, le=INT16_MAX,
        description="-1: the cluster's default.replication.factor",
    )  # fmt: skip
    configs: dict[Text(255), Text(4096)] = Field(default_factory=dict)


def topic_out(topic: TopicSummary) -> dict[str, Any]:
    return {
        "name": topic.name, "internal": topic.internal,
        "partition_count": topic.partition_count, "record_count": topic.record_count,
        "partitions": [
            {"partition": p.partition, "leader": p.leader, "replicas": list(p.replicas),
             "isr": list(p.isr), "log_start_offset": p.log_start_offset,
             "high_watermark": p.high_watermark, "record_count": p.record_count}
            for p in topic.partitions
        ],
    }  # fmt: skip


def detail_out(detail: TopicDetail) -> dict[str, Any]:
    return topic_out(detail.topic) | {
        "tenant": detail.tenant.slug if detail.tenant is not None else None,
        "can_manage": detail.can_manage,
        "configs": [
            {"name": c.name, "value": c.value, "source": c.source, "read_only": c.read_only,
             "is_override": c.is_override}
            for c in detail.configs
        ],
    }  # fmt: skip


@router.get("", response=responses(TopicPageOut), summary="List topics")
def topic_list(
    request: HttpRequest,
    q: str = Query("", max_length=249, description="part of the name, any case"),
    tenant: str = Query("", max_length=32, description="one of the caller's tenants"),
    internal: bool = Query(False, description="include Kafka's internal topics"),
    page: int = Query(1, ge=1),
) -> dict[str, Any]:
    listing = selectors.topic_list(
        actor=request.auth, query=q, tenant=tenant, internal=internal, page=page
    )
    return page_of(listing.page, [topic_out(topic) for topic in listing.topics])


@router.post("", response=responses(TopicOut, 201), summary="Create a topic")
def topic_create(request: HttpRequest, payload: TopicCreateIn) -> Status[dict[str, Any]]:
    services.topic_create(actor=request.auth, **payload.dict())
    return Status(201, topic_out(selectors.topic_get(actor=request.auth, name=payload.name)))


@router.get("/{name}", response=responses(TopicDetailOut), summary="Get a topic")
def topic_get(request: HttpRequest, name: str) -> dict[str, Any]:
    return detail_out(topic_selectors.topic_detail(actor=request.auth, name=name))


@router.patch("/{name}/configs", response=responses(TopicDetailOut), summary="Configure a topic")
def topic_configs_alter(request: HttpRequest, name: str, payload: TopicConfigsIn) -> dict[str, Any]:
    """Within the tenant's plan (``retention.ms``, ``max.message.bytes``); a name or value
    the broker's config catalog refuses is 422 with Kafka's INVALID_CONFIG text."""
    topic_services.topic_configs_alter(
        actor=request.auth, name=name, set=payload.set, delete=payload.delete
    )
    return detail_out(topic_selectors.topic_detail(actor=request.auth, name=name))


@router.post("/{name}/partitions", response=responses(TopicDetailOut),
             summary="Add partitions to a topic")  # fmt: skip
def topic_partitions_create(request: HttpRequest, name: str, payload: PartitionsIn) -> Any:
    """``count`` is the new total (Kafka adds partitions, never removes them), within
    the tenant's plan."""
    topic_services.topic_partitions_create(actor=request.auth, name=name, count=payload.count)
    return detail_out(topic_selectors.topic_detail(actor=request.auth, name=name))


@router.delete("/{name}", response=responses(None, 204), summary="Delete a topic")
def topic_delete(request: HttpRequest, name: str) -> Status[None]:
    """Internal topics (``__consumer_offsets``...) are refused (422)."""
    services.topic_delete(actor=request.auth, name=name)
    return Status(204, None)
