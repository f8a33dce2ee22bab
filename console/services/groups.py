"""Consumer groups: reset offsets (dry-run, then execute), delete a group, delete its
committed offsets for one topic. Imperative like topics: the group belongs to its
clients, so the console acts on the cluster directly and audits what it did.

The reset rules are ``kafka-consumer-groups --reset-offsets``'s, as pure functions
(:func:`reset_partitions`, :func:`reset_plan`) over offsets the service reads first;
broker/ has no offset-reset spec of its own to import (checked), so this is the one copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError

from console import broker_admin, group_admin
from console.broker_admin import BrokerAdminError, BrokerUnavailable
from console.group_admin import GroupNotEmpty, TopicPartitionKey
from console.models import Tenant
from console.roles import Action
from console.selectors.groups import topic_partitions
from console.selectors.topics import topic_visible
from console.services._common import audit, field_error
from console.tenancy import Actor, NotFound, authorize, is_operator


class ResetStrategy(StrEnum):
    """The tool's options: --to-earliest, --to-latest, --to-datetime, --to-offset,
    --shift-by."""

    EARLIEST = "to-earliest"
    LATEST = "to-latest"
    DATETIME = "to-datetime"
    OFFSET = "to-offset"
    SHIFT = "shift-by"


@dataclass(frozen=True, slots=True)
class ResetSpec:
    """What to reset to (``value``: the offset, the shift, or the timestamp in ms) and
    where: every topic the group has offsets on (``topic`` None), one topic, or one
    partition of it."""

    strategy: ResetStrategy
    value: int | None = None
    topic: str | None = None
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class OffsetChange:
    topic: str
    partition: int
    old: int | None  # None: no committed offset yet
    new: int

    @property
    def delta(self) -> int | None:
        return None if self.old is None else self.new - self.old


def reset_partitions(
    spec: ResetSpec,
    *,
    committed: Mapping[TopicPartitionKey, int],
    topic_partitions: list[TopicPartitionKey],
) -> list[TopicPartitionKey]:
    """The partitions a reset covers (``--all-topics``: those with committed offsets;
    ``--topic t``: every partition of t; ``--topic t:p``: that one). ``topic_partitions``
    are the named topic's partitions per Metadata."""
    if spec.topic is None:
        if not committed:
            raise field_error(
                "topic", "The group has no committed offsets: name a topic to reset.", "empty"
            )
        return sorted(committed)
    if not topic_partitions:
        raise field_error("topic", f"No topic {spec.topic!r} on the cluster.", "unknown_topic")
    if spec.partition is None:
        return sorted(topic_partitions)
    key = (spec.topic, spec.partition)
    if key not in topic_partitions:
        raise field_error(
            "partition",
            f"Topic {spec.topic} has no partition {spec.partition} "
            f"(it has {len(topic_partitions)}).",
            "unknown_partition",
        )
    return [key]


def reset_plan(
    spec: ResetSpec,
    *,
    partitions: list[TopicPartitionKey],
    committed: Mapping[TopicPartitionKey, int],
    log_start: Mapping[TopicPartitionKey, int | None],
    log_end: Mapping[TopicPartitionKey, int | None],
    by_timestamp: Mapping[TopicPartitionKey, int | None] | None = None,
) -> list[OffsetChange]:
    """The new offset of each partition, by the tool's rules: --to-offset and --shift-by
    are clamped into [log start, log end]; --to-datetime takes the first offset at or
    after the time, the log end where no record is that recent; --shift-by needs a
    committed offset."""
    changes = []
    for key in partitions:
        start, end = log_start.get(key), log_end.get(key)
        if start is None or end is None:
            raise ValidationError(
                f"The offsets of {key[0]}-{key[1]} are unknown (ListOffsets failed).",
                code="offsets_unknown",
            )
        old = committed.get(key)
        strategy = spec.strategy
        if strategy is ResetStrategy.EARLIEST:
            new = start
        elif strategy is ResetStrategy.LATEST:
            new = end
        elif strategy is ResetStrategy.DATETIME:
            found = (by_timestamp or {}).get(key)
            new = end if found is None else found
        elif strategy is ResetStrategy.OFFSET:
            new = min(max(_value(spec), start), end)
        else:
            if old is None:
                raise ValidationError(
                    f"Cannot shift offset for partition {key[0]}-{key[1]} since there is "
                    "no current committed offset",
                    code="no_committed_offset",
                )
            new = min(max(old + _value(spec), start), end)
        changes.append(OffsetChange(topic=key[0], partition=key[1], old=old, new=new))
    return changes


def _value(spec: ResetSpec) -> int:
    if spec.value is None:
        raise field_error("value", f"{spec.strategy} needs a value.", "required")
    return spec.value


def group_tenant(*, actor: Actor, group_id: str, action: Action) -> Tenant | None:
    """The tenant owning ``group_id`` (by prefix) if ``actor`` may take ``action``;
    None for a group outside every tenant (operators only); else NotFound / 403."""
    slug, dot, _ = group_id.partition(".")
    tenant = Tenant.objects.filter(slug=slug).first() if dot else None
    if tenant is None:
        if is_operator(actor):
            return None
        raise NotFound("no such group")
    authorize(actor=actor, action=action, tenant=tenant)
    return tenant


def inactive_message(group_id: str, state: str) -> str:
    """Kafka's refusal when a reset is asked of a group with members."""
    return (
        f"Assignments can only be reset if the group '{group_id}' is inactive, but the "
        f"current state is {state}."
    )


def _key(topic: str, partition: int) -> str:
    return f"{topic}-{partition}"


def group_offsets_reset(
    *, actor: Actor, group_id: str, spec: ResetSpec, dry_run: bool
) -> list[OffsetChange]:
    """Reset the group's committed offsets per ``spec``; with ``dry_run`` only compute
    them (old -> new per partition). Refused (ValidationError) while the group has
    members: Kafka's rule, the group must be Empty or Dead. As with the tool, a group
    that does not exist yet (Dead) gets offsets on a named topic. Executed resets are
    audited."""
    tenant = group_tenant(actor=actor, group_id=group_id, action=Action.GROUP_MANAGE)
    description = group_admin.describe_groups([group_id])[group_id]
    committed = group_admin.committed_offsets([group_id])[group_id]
    if description.members or description.state not in ("Empty", "Dead"):
        raise ValidationError(inactive_message(group_id, description.state), code="active")
    named: list[TopicPartitionKey] = []
    if spec.topic is not None and topic_visible(actor=actor, name=spec.topic):
        named = topic_partitions(topic=spec.topic)  # another tenant's topic: "No topic"
    partitions = reset_partitions(spec, committed=committed, topic_partitions=named)
    bounds = broker_admin.list_offsets(partitions)
    by_timestamp = None
    if spec.strategy is ResetStrategy.DATETIME:
        by_timestamp = group_admin.offsets_for_timestamp(partitions, _value(spec))
    changes = reset_plan(
        spec, partitions=partitions, committed=committed,
        log_start={k: b.log_start_offset for k, b in bounds.items()},
        log_end={k: b.high_watermark for k, b in bounds.items()}, by_timestamp=by_timestamp,
    )  # fmt: skip
    if dry_run:
        return changes
    group_admin.alter_offsets(group_id, {(c.topic, c.partition): c.new for c in changes})
    audit(
        actor=actor, action="group.offsets_reset", tenant=tenant, resource_type="group",
        resource_name=group_id,
        before={_key(c.topic, c.partition): c.old for c in changes},
        after={_key(c.topic, c.partition): c.new for c in changes},
        message=f"{spec.strategy}"
        + (f" {spec.value}" if spec.value is not None else "")
        + (f" on {spec.topic}" if spec.topic else " on all topics")
        + (f" partition {spec.partition}" if spec.partition is not None else ""),
    )  # fmt: skip
    return changes


def group_delete(*, actor: Actor, group_id: str) -> None:
    """DeleteGroups; a group with members is refused with Kafka's NON_EMPTY_GROUP."""
    tenant = group_tenant(actor=actor, group_id=group_id, action=Action.GROUP_MANAGE)
    try:
        group_admin.delete_group(group_id)
    except group_admin.GroupNotFound as exc:
        raise NotFound("no such group") from exc
    except GroupNotEmpty as exc:
        raise ValidationError(
            f"Group '{group_id}' could not be deleted: {exc.error_name}: the group is not "
            "empty (it has members; stop its consumers first).",
            code="non_empty",
        ) from exc
    audit(actor=actor, action="group.delete", tenant=tenant, resource_type="group",
          resource_name=group_id)  # fmt: skip


def group_offsets_delete(*, actor: Actor, group_id: str, topic: str) -> list[int]:
    """OffsetDelete of the group's committed offsets on ``topic``; the partitions done.
    Refused (GROUP_SUBSCRIBED_TO_TOPIC) while a member of the group reads the topic."""
    tenant = group_tenant(actor=actor, group_id=group_id, action=Action.GROUP_MANAGE)
    committed = group_admin.committed_offsets([group_id])[group_id]
    partitions = sorted(k for k in committed if k[0] == topic)
    if not partitions:
        raise field_error(
            "topic", f"Group {group_id} has no committed offsets on {topic!r}.", "no_offsets"
        )
    try:
        group_admin.delete_group_offsets(group_id, partitions)
    except BrokerUnavailable:
        raise
    except GroupNotEmpty as exc:
        raise ValidationError(str(exc), code="subscribed") from exc
    except BrokerAdminError as exc:
        raise ValidationError(str(exc), code="rejected") from exc
    audit(
        actor=actor, action="group.offsets_delete", tenant=tenant, resource_type="group",
        resource_name=group_id, before={_key(t, p): committed[(t, p)] for t, p in partitions},
        message=f"topic {topic}",
    )  # fmt: skip
    return [p for _, p in partitions]
