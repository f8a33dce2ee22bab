"""Consumer groups: those the caller may see (its tenants' prefixes; operators every
group), searched, filtered by state and tenant and paged as on ``/groups/``; one with
its members and per-partition offsets and lag; reset its offsets (dry run or execute,
the page's spec), delete it, delete its offsets on one topic.

Group ids are path segments: one holding ``/`` cannot be named here (as on the pages).
Kafka's refusals (NON_EMPTY_GROUP, GROUP_SUBSCRIBED_TO_TOPIC) are 422 with the name in
``kafka_error``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from console.api.errors import _service_errors, error_body
from console.api.schemas import INT32_MAX, INT64_MAX, Moment, PageMeta, Text, page_of, responses
from console.group_admin import STATES
from console.selectors import groups as selectors
from console.selectors.groups import GroupDetail, GroupSummary
from console.services import groups as services
from console.services._common import field_error
from console.services.groups import OffsetChange, ResetSpec, ResetStrategy

router = Router(tags=["consumer groups"])

GroupId = Path(..., min_length=1, max_length=32767, description="the group.id")
GroupState = Literal[("", *STATES)]  # type: ignore[valid-type]
T = TypeVar("T")


class GroupOut(Schema):
    group_id: str
    state: str = Field(description="Kafka's: Stable, Empty, Dead, PreparingRebalance...")
    protocol: str = Field(description="classic, or consumer (KIP-848)")
    members: int
    topics: list[str]
    lag: int | None = Field(description="records behind, summed; null: an end offset unknown")


class GroupPageOut(PageMeta):
    items: list[GroupOut]


class TopicPartitionOut(Schema):
    topic: str
    partition: int


class MemberOut(Schema):
    member_id: str
    client_id: str
    host: str
    group_instance_id: str | None
    assignment: list[TopicPartitionOut]


class PartitionLagOut(Schema):
    topic: str
    partition: int
    committed: int | None
    end: int | None = Field(description="the high watermark")
    lag: int | None
    lag_seconds: float | None = Field(description="now minus the next record's timestamp")
    member: str = Field(description="client id of the member assigned to it, or empty")


class GroupDetailOut(Schema):
    group_id: str
    state: str
    protocol: str
    assignor: str
    coordinator: int | None
    empty: bool = Field(description="no members: its offsets may be reset")
    lag: int | None
    topics: list[str]
    members: list[MemberOut]
    partitions: list[PartitionLagOut]


class ResetIn(Schema):
    """``kafka-consumer-groups --reset-offsets``: the page's form as JSON."""

    strategy: ResetStrategy
    value: int | None = Field(
        None, ge=-INT64_MAX, le=INT64_MAX,
        description="to-offset: the offset; shift-by: records (negative: back)",
    )  # fmt: skip
    when: Moment | None = Field(None, description="to-datetime: the moment (UTC unless given)")
    scope: Literal["all", "topic", "partition"] = Field(
        "all", description="all: every topic the group has offsets on"
    )
    topic: Text(249) | None = None
    partition: int | None = Field(None, ge=0, le=INT32_MAX)
    dry_run: bool = Field(True, description="true: only compute the new offsets")


class OffsetChangeOut(Schema):
    topic: str
    partition: int
    old: int | None = Field(description="null: no committed offset yet")
    new: int
    delta: int | None


class ResetOut(Schema):
    dry_run: bool
    changes: list[OffsetChangeOut]


class OffsetsDeleteOut(Schema):
    topic: str
    partitions: list[int]


def group_out(group: GroupSummary) -> dict[str, Any]:
    return {
        "group_id": group.group_id, "state": group.state, "protocol": group.protocol,
        "members": group.members, "topics": list(group.topics), "lag": group.lag,
    }  # fmt: skip


def detail_out(detail: GroupDetail) -> dict[str, Any]:
    group = detail.group
    return {
        "group_id": group.group_id, "state": group.state, "protocol": group.protocol,
        "assignor": group.assignor, "coordinator": group.coordinator, "empty": detail.empty,
        "lag": detail.lag, "topics": detail.topics,
        "members": [
            {"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
             "group_instance_id": m.group_instance_id,
             "assignment": [{"topic": t, "partition": p} for t, p in m.assignment]}
            for m in group.members
        ],
        "partitions": [
            {"topic": p.topic, "partition": p.partition, "committed": p.committed,
             "end": p.end, "lag": p.lag, "lag_seconds": p.lag_seconds, "member": p.member}
            for p in detail.partitions
        ],
    }  # fmt: skip


def change_out(change: OffsetChange) -> dict[str, Any]:
    return {"topic": change.topic, "partition": change.partition, "old": change.old,
            "new": change.new, "delta": change.delta}  # fmt: skip


def reset_spec(payload: ResetIn) -> ResetSpec:
    """The page's form rules (console.forms.groups.ResetOffsetsForm), by field."""
    strategy = payload.strategy
    value: int | None = None
    if strategy in (ResetStrategy.OFFSET, ResetStrategy.SHIFT):
        if payload.value is None:
            raise field_error("value", "Enter the offset or the shift.", "required")
        value = payload.value
    elif strategy is ResetStrategy.DATETIME:
        when: datetime | None = payload.when
        if when is None:
            raise field_error("when", "Enter the date and time to reset to.", "required")
        if when.timestamp() < 0:  # Kafka's ListOffsets reads -1 and -2 as latest/earliest
            raise field_error("when", "A date and time from 1970 on.", "before_epoch")
        value = int(when.timestamp() * 1000)
    if payload.scope in ("topic", "partition") and not payload.topic:
        raise field_error("topic", "Name the topic.", "required")
    if payload.scope == "partition" and payload.partition is None:
        raise field_error("partition", "Enter the partition.", "required")
    return ResetSpec(
        strategy=strategy, value=value,
        topic=payload.topic if payload.scope in ("topic", "partition") else None,
        partition=payload.partition if payload.scope == "partition" else None,
    )  # fmt: skip


def kafka_refusal(call: Callable[[], T]) -> T | Status[dict[str, Any]]:
    """``call()``; a service's ValidationError caused by Kafka's refusal is 422 with
    Kafka's error name (the service words it; the name is the cause's)."""
    try:
        return call()
    except ValidationError as exc:
        name = getattr(exc.__cause__, "error_name", "") or None
        if name is None:
            raise
        return Status(422, error_body(" ".join(exc.messages), _service_errors(exc), name))


@router.get("", response=responses(GroupPageOut), summary="List consumer groups")
def group_list(
    request: HttpRequest,
    q: str = Query("", max_length=32767, description="part of the group id, any case"),
    state: GroupState = Query("", description="only groups in this state"),
    tenant: str = Query("", max_length=32, description="one of the caller's tenants"),
    page: int = Query(1, ge=1, le=INT32_MAX),
) -> dict[str, Any]:
    listing = selectors.group_list(
        actor=request.auth, query=q, state=state, tenant=tenant, page=page
    )
    return page_of(listing.page, [group_out(group) for group in listing.groups])


@router.get("/{group_id}", response=responses(GroupDetailOut), summary="Get a consumer group")
def group_get(request: HttpRequest, group_id: str = GroupId) -> dict[str, Any]:
    """Members and their assignments; per partition the committed and end offsets, the
    lag in records and in seconds."""
    return detail_out(selectors.group_get(actor=request.auth, group_id=group_id))


@router.post("/{group_id}/offsets/reset", response=responses(ResetOut),
             summary="Reset a consumer group's offsets")  # fmt: skip
def group_offsets_reset(request: HttpRequest, payload: ResetIn, group_id: str = GroupId) -> Any:
    """Old and new offset per partition; committed only with ``dry_run`` false. Refused
    (422) while the group has members, as Kafka's tool refuses."""
    spec = reset_spec(payload)
    changes = services.group_offsets_reset(
        actor=request.auth, group_id=group_id, spec=spec, dry_run=payload.dry_run
    )
    return {"dry_run": payload.dry_run, "changes": [change_out(c) for c in changes]}


@router.delete("/{group_id}", response=responses(None, 204), summary="Delete a consumer group")
def group_delete(request: HttpRequest, group_id: str = GroupId) -> Any:
    """DeleteGroups; a group with members is 422 NON_EMPTY_GROUP."""
    refused = kafka_refusal(lambda: services.group_delete(actor=request.auth, group_id=group_id))
    return refused if refused is not None else Status(204, None)


@router.delete("/{group_id}/offsets/{topic}", response=responses(OffsetsDeleteOut),
               summary="Delete a consumer group's offsets on a topic")  # fmt: skip
def group_offsets_delete(
    request: HttpRequest, topic: str = Path(..., max_length=249), group_id: str = GroupId
) -> Any:
    """OffsetDelete; the partitions whose offsets went. A member reading the topic is
    422 GROUP_SUBSCRIBED_TO_TOPIC."""
    done = kafka_refusal(
        lambda: services.group_offsets_delete(actor=request.auth, group_id=group_id, topic=topic)
    )
    return done if isinstance(done, Status) else {"topic": topic, "partitions": done}
