"""Topics: those the caller may see (its tenants' prefixes; operators every topic), one
with its partitions' offsets, create (inside a tenant's prefix and plan) and delete."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from broker.common.limits import INT16_MAX
from console import selectors, services
from console.api.schemas import INT32_MAX, Text, responses
from console.selectors.topics import TopicSummary

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


@router.get("", response=responses(list[TopicOut]), summary="List topics")
def topic_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [topic_out(topic) for topic in selectors.topic_list(actor=request.auth)]


@router.post("", response=responses(TopicOut, 201), summary="Create a topic")
def topic_create(request: HttpRequest, payload: TopicCreateIn) -> Status[dict[str, Any]]:
    services.topic_create(actor=request.auth, **payload.dict())
    return Status(201, topic_out(selectors.topic_get(actor=request.auth, name=payload.name)))


@router.get("/{name}", response=responses(TopicOut), summary="Get a topic")
def topic_get(request: HttpRequest, name: str) -> dict[str, Any]:
    return topic_out(selectors.topic_get(actor=request.auth, name=name))


@router.delete("/{name}", response=responses(None, 204), summary="Delete a topic")
def topic_delete(request: HttpRequest, name: str) -> Status[None]:
    """Internal topics (``__consumer_offsets``...) are refused (422)."""
    services.topic_delete(actor=request.auth, name=name)
    return Status(204, None)
