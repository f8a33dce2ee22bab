"""Committed offsets: OffsetCommit, OffsetFetch, OffsetDelete and offset expiry.

Offsets live in their group (:attr:`ClassicGroup.offsets`) and in ``__consumer_offsets``
as OffsetCommit records. A commit returns the records to append with ``replay`` set:
the service appends them and then calls :meth:`OffsetManager.replay` for each, so the
in-memory offsets change only once they are in the log, and loading at start-up is the
same replay.

Commit validation is Kafka's (``GroupCoordinator.doCommitOffsets``): a commit with a
negative generation and no member ID to an empty group (or to no group, which creates
an empty one) is a "simple" commit (manual assignment, admin tools); otherwise the
member must belong to the group at that generation; FENCED_INSTANCE_ID for a replaced
static member; REBALANCE_IN_PROGRESS while the group waits for its leader's assignment
(the member's new generation is already known, its partitions are not).

Expiry (KIP-211, ``offsets.retention.minutes``): offsets of an empty group expire once
the group has been empty that long; those of a stable consumer group only for topics
no member subscribes to any more, by commit time; those of a group that never had
members ("simple" consumers) by commit time. A commit that carried its own retention
time (OffsetCommit v2-4) expires at that time. A group left empty without offsets is
deleted (tombstone).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.consumer_group import ConsumerGroups
from broker.coordinator.group import (
    ClassicGroup,
    GroupState,
    OffsetAndMetadata,
    TopicPartition,
)
from broker.coordinator.records import (
    OffsetCommitKey,
    RecordFormatError,
    decode_key,
    decode_offset_commit_value,
    encode_group_metadata_key,
    encode_offset_commit_key,
    encode_offset_commit_value,
)
from broker.coordinator.results import CoordinatorResult, OffsetFetchPartition, OffsetsRecord
from broker.errors import ErrorCode

log = logging.getLogger(__name__)

S = GroupState
E = ErrorCode
NO_RETENTION = -1


@dataclass(frozen=True, slots=True)
class PartitionCommit:
    topic: str
    partition: int
    offset: int
    leader_epoch: int = -1
    metadata: str | None = ""


@dataclass(frozen=True, slots=True)
class CommitRequest:
    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None
    partitions: tuple[PartitionCommit, ...]
    retention_ms: int = NO_RETENTION  # OffsetCommit v2-4


CommitErrors = dict[TopicPartition, ErrorCode]


class OffsetManager:
    def __init__(
        self,
        config: GroupCoordinatorConfig,
        groups: dict[str, ClassicGroup],
        consumer_groups: ConsumerGroups,
    ) -> None:
        self.config = config
        self.groups = groups
        self.consumer_groups = consumer_groups

    # -- OffsetCommit -----------------------------------------------------------------
    def commit(self, request: CommitRequest, now_ms: int) -> CoordinatorResult[CommitErrors]:
        result: CoordinatorResult[CommitErrors] = CoordinatorResult(request.group_id, replay=True)
        error = self._validate_commit(request, now_ms)
        if error is not None:
            result.response = {(p.topic, p.partition): error for p in request.partitions}
            return result
        errors: CommitErrors = {}
        for commit in request.partitions:
            tp = (commit.topic, commit.partition)
            metadata = commit.metadata or ""
            if len(metadata.encode()) > self.config.offset_metadata_max_bytes:
                errors[tp] = E.offset_metadata_too_large
                continue
            value = OffsetAndMetadata(
                commit.offset,
                commit.leader_epoch,
                metadata,
                now_ms,
                None if request.retention_ms == NO_RETENTION else now_ms + request.retention_ms,
            )
            result.records.append(
                OffsetsRecord(
                    encode_offset_commit_key(request.group_id, commit.topic, commit.partition),
                    encode_offset_commit_value(value),
                )
            )
            errors[tp] = E.none
        result.response = errors
        return result

    def _validate_commit(self, request: CommitRequest, now_ms: int) -> ErrorCode | None:
        if self.consumer_groups.has_members(request.group_id):  # KIP-848: member epochs
            return self.consumer_groups.validate_offset_commit(
                request.group_id, request.member_id, request.generation_id
            )
        group = self.groups.get(request.group_id)
        simple = request.generation_id < 0 and not request.member_id
        if group is None:
            if request.generation_id >= 0:
                return E.illegal_generation  # a member of a group that no longer exists
            group = ClassicGroup(request.group_id, state_timestamp_ms=now_ms)
            self.groups[request.group_id] = group
            return None
        if group.state is S.DEAD:
            return E.coordinator_not_available
        if group.is_static_member_fenced(request.member_id, request.group_instance_id):
            return E.fenced_instance_id
        if simple and group.state is S.EMPTY:
            return None
        if not group.has_member(request.member_id):
            return E.unknown_member_id
        if request.generation_id != group.generation_id:
            return E.illegal_generation
        if group.state is S.COMPLETING_REBALANCE:
            return E.rebalance_in_progress
        member = group.members[request.member_id]
        member.heartbeat_deadline_ms = max(
            member.heartbeat_deadline_ms, now_ms + member.session_timeout_ms
        )
        return None

    # -- replay -----------------------------------------------------------------------
    def replay(self, record: OffsetsRecord, now_ms: int) -> None:
        """Apply an appended OffsetCommit record (or tombstone) to the group."""
        try:
            key = decode_key(record.key)
        except RecordFormatError as exc:
            log.warning("skipping a __consumer_offsets record with a bad key: %s", exc)
            return
        if not isinstance(key, OffsetCommitKey):
            return
        tp = (key.topic, key.partition)
        group = self.groups.get(key.group)
        if record.value is None:
            if group is not None:
                group.offsets.pop(tp, None)
            return
        if group is None:
            group = ClassicGroup(key.group, state_timestamp_ms=now_ms)
            self.groups[key.group] = group
        group.offsets[tp] = decode_offset_commit_value(record.value)

    # -- OffsetFetch ------------------------------------------------------------------
    def fetch(
        self, group_id: str, topics: Iterable[tuple[str, Iterable[int]]] | None
    ) -> list[tuple[str, list[OffsetFetchPartition]]]:
        """Committed offsets of ``topics`` (None: every committed partition); a
        partition without a commit gets offset -1, as does every partition of an unknown
        group (OffsetFetch never fails for a missing group)."""
        group = self.groups.get(group_id)
        offsets = group.offsets if group is not None and group.state is not S.DEAD else {}
        if topics is None:
            by_topic: dict[str, list[int]] = {}
            for topic, partition in sorted(offsets):
                by_topic.setdefault(topic, []).append(partition)
            topics = by_topic.items()
        answer = []
        for topic, partitions in topics:
            rows = []
            for partition in partitions:
                committed = offsets.get((topic, partition))
                if committed is None:
                    rows.append(OffsetFetchPartition(partition, -1, -1, ""))
                else:
                    rows.append(
                        OffsetFetchPartition(
                            partition,
                            committed.offset,
                            committed.leader_epoch,
                            committed.metadata,
                        )
                    )
            answer.append((topic, rows))
        return answer

    # -- OffsetDelete -----------------------------------------------------------------
    def delete(
        self, group_id: str, partitions: Iterable[TopicPartition]
    ) -> CoordinatorResult[tuple[ErrorCode, CommitErrors]]:
        """OffsetDelete: an empty group's offsets, or a consumer group's offsets of topics
        it no longer subscribes to."""
        result: CoordinatorResult[Any] = CoordinatorResult(group_id, replay=True)
        group = self.groups.get(group_id)
        requested = list(partitions)
        if group is None or group.state is S.DEAD:
            result.response = (E.group_id_not_found, {})
            return result
        subscribed: set[str] | None = set()
        if group.state is not S.EMPTY:
            subscribed = group.subscribed_topics()
            if subscribed is None or group.protocol_type != "consumer":
                result.response = (E.non_empty_group, {})
                return result
        errors: CommitErrors = {}
        for topic, partition in requested:
            if topic in subscribed:
                errors[(topic, partition)] = E.group_subscribed_to_topic
                continue
            errors[(topic, partition)] = E.none
            if (topic, partition) in group.offsets:
                key = encode_offset_commit_key(group_id, topic, partition)
                result.records.append(OffsetsRecord(key, None))
        result.response = (E.none, errors)
        return result

    # -- expiry -----------------------------------------------------------------------
    def expire(self, group: ClassicGroup, now_ms: int) -> CoordinatorResult[None]:
        """Remove the expired offsets of ``group`` (tombstones), and the group itself if
        it is left empty without offsets."""
        result: CoordinatorResult[None] = CoordinatorResult(group.group_id)
        retention = self.config.offsets_retention_ms
        subscribed = group.subscribed_topics()
        expired: list[TopicPartition] = []
        for tp, committed in group.offsets.items():
            if committed.expire_timestamp_ms is not None:
                if now_ms >= committed.expire_timestamp_ms:
                    expired.append(tp)
                continue
            if group.protocol_type is None:  # never had members: by commit time
                base: int | None = committed.commit_timestamp_ms
            elif group.state is S.EMPTY:
                base = group.state_timestamp_ms
                if base is None:
                    base = committed.commit_timestamp_ms
            elif group.state is S.STABLE and subscribed is not None and tp[0] not in subscribed:
                base = committed.commit_timestamp_ms
            else:
                base = None
            if base is not None and now_ms - base >= retention:
                expired.append(tp)
        for topic, partition in expired:
            del group.offsets[(topic, partition)]
            key = encode_offset_commit_key(group.group_id, topic, partition)
            result.records.append(OffsetsRecord(key, None))
        if expired:
            log.info("group %s: %d offsets expired", group.group_id, len(expired))
        if group.state is S.EMPTY and not group.offsets and not group.pending_members:
            log.info("group %s: empty and without offsets, removed", group.group_id)
            group.transition_to(S.DEAD, now_ms)
            self.groups.pop(group.group_id, None)
            result.records.append(OffsetsRecord(encode_group_metadata_key(group.group_id), None))
        return result

    def remove_all(self, group: ClassicGroup) -> list[OffsetsRecord]:
        """Tombstones for every offset of ``group`` (DeleteGroups), which are dropped."""
        records = [
            OffsetsRecord(encode_offset_commit_key(group.group_id, topic, partition), None)
            for topic, partition in group.offsets
        ]
        group.offsets.clear()
        return records
