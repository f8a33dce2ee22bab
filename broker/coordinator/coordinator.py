"""The group coordinator: every group of this broker, sans IO (Kafka's
``GroupCoordinatorShard``, one for all ``__consumer_offsets`` partitions here).

Operations return :class:`~broker.coordinator.results.CoordinatorResult` objects; the
service (:mod:`broker.coordinator.service`) appends their records to the group's
``__consumer_offsets`` partition and completes the requests. This module adds what
spans groups: loading from the log at start-up, ListGroups, DescribeGroups,
DeleteGroups, the timer (``poll`` / ``next_deadline``) and the offset expiry pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from broker.coordinator.classic import ClassicGroups, new_member_id
from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.consumer_group import ConsumerGroups
from broker.coordinator.group import (
    ClassicGroup,
    GroupState,
    Member,
    OffsetAndMetadata,
    TopicPartition,
)
from broker.coordinator.offsets import OffsetManager
from broker.coordinator.records import (
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetCommitKey,
    RecordFormatError,
    decode_group_metadata_value,
    decode_key,
    decode_offset_commit_value,
    encode_group_metadata_key,
    encode_offset_commit_key,
    partition_for,
)
from broker.coordinator.results import (
    CoordinatorResult,
    DescribedGroup,
    DescribedMember,
    ListedGroup,
    OffsetsRecord,
)
from broker.errors import ErrorCode

log = logging.getLogger(__name__)

S = GroupState
E = ErrorCode
CLASSIC_GROUP_TYPE = "classic"


class GroupCoordinator:
    def __init__(
        self,
        config: GroupCoordinatorConfig,
        *,
        member_ids: Callable[[str], str] = new_member_id,
    ) -> None:
        self.config = config
        self.num_partitions = config.offsets_topic_num_partitions
        self.groups: dict[str, ClassicGroup] = {}
        self.classic = ClassicGroups(config, self.groups, member_ids)
        self.consumer = ConsumerGroups(config, self.groups)
        self.classic.is_consumer_group = self.consumer.has_members
        self.offsets = OffsetManager(config, self.groups, self.consumer)

    def partition_for(self, group_id: str) -> int:
        """The ``__consumer_offsets`` partition holding ``group_id``'s records."""
        return partition_for(group_id, self.num_partitions)

    # -- loading ----------------------------------------------------------------------
    def load(self, records: Iterable[OffsetsRecord], now_ms: int) -> None:
        """Rebuild every group from ``__consumer_offsets`` read in log order (partition
        by partition). Like Kafka's ``loadGroupsAndOffsets``: the latest GroupMetadata
        record of a group wins, a tombstone removes it; offsets are kept per partition
        independently, and offsets without group metadata make an empty group. Groups
        with members come back Stable, their sessions starting now."""
        metadata: dict[str, GroupMetadataValue] = {}
        offsets: dict[str, dict[TopicPartition, OffsetAndMetadata]] = {}
        skipped = 0
        for record in records:
            try:
                key = decode_key(record.key)
                if isinstance(key, OffsetCommitKey):
                    group_offsets = offsets.setdefault(key.group, {})
                    tp = (key.topic, key.partition)
                    if record.value is None:
                        group_offsets.pop(tp, None)
                    else:
                        group_offsets[tp] = decode_offset_commit_value(record.value)
                elif isinstance(key, GroupMetadataKey):
                    if record.value is None:
                        metadata.pop(key.group, None)
                    else:
                        metadata[key.group] = decode_group_metadata_value(record.value)
            except RecordFormatError as exc:
                skipped += 1
                log.warning("skipping an unreadable __consumer_offsets record: %s", exc)
        self.groups.clear()
        for group_id in metadata.keys() | {g for g, o in offsets.items() if o}:
            group = self._group_from_record(group_id, metadata.get(group_id), now_ms)
            group.offsets = offsets.get(group_id, {})
            self.groups[group_id] = group
        log.info(
            "loaded %d groups (%d with members) and %d offsets from __consumer_offsets",
            len(self.groups),
            sum(1 for g in self.groups.values() if g.members),
            sum(len(g.offsets) for g in self.groups.values()),
        )

    @staticmethod
    def _group_from_record(
        group_id: str, value: GroupMetadataValue | None, now_ms: int
    ) -> ClassicGroup:
        group = ClassicGroup(group_id, state_timestamp_ms=now_ms)
        if value is None:
            return group
        group.generation_id = value.generation
        group.protocol_type = value.protocol_type or None
        group.protocol_name = value.protocol
        group.state_timestamp_ms = (
            value.current_state_timestamp_ms if value.current_state_timestamp_ms >= 0 else None
        )
        for item in value.members:
            member = Member(
                member_id=item.member_id,
                group_instance_id=item.group_instance_id,
                client_id=item.client_id,
                client_host=item.client_host,
                rebalance_timeout_ms=item.rebalance_timeout_ms,
                session_timeout_ms=item.session_timeout_ms,
                protocol_type=value.protocol_type,
                protocols=((value.protocol or "", item.subscription),),
                assignment=item.assignment,
                heartbeat_deadline_ms=now_ms + item.session_timeout_ms,
            )
            group.add_member(member)
        group.leader_id = value.leader if value.leader in group.members else group.leader_id
        group.state = S.STABLE if group.members else S.EMPTY
        return group

    # -- admin ------------------------------------------------------------------------
    def list_groups(
        self, states: Iterable[str] = (), types: Iterable[str] = ()
    ) -> list[ListedGroup]:
        """ListGroups: every live group, filtered by state and type (case-insensitive,
        as Kafka compares them); an empty filter matches everything."""
        wanted_states = {s.lower() for s in states}
        wanted_types = {t.lower() for t in types}
        listed = []
        for group in self.groups.values():
            if group.state is S.DEAD:
                continue
            consumer = self.consumer.groups.get(group.group_id)
            if consumer is not None:
                entry = ListedGroup(group.group_id, "consumer", consumer.state.value, "consumer")
            else:
                entry = ListedGroup(
                    group.group_id, group.protocol_type or "", group.state.value, CLASSIC_GROUP_TYPE
                )
            if wanted_states and entry.state.lower() not in wanted_states:
                continue
            if wanted_types and entry.group_type not in wanted_types:
                continue
            listed.append(entry)
        return listed

    def describe_group(self, group_id: str) -> DescribedGroup | None:
        """DescribeGroups for one group, None if it does not exist. Only a Stable group
        shows its protocol, member metadata and assignments (as in Kafka)."""
        group = self.groups.get(group_id)
        if group is None or group.state is S.DEAD:
            return None
        if group_id in self.consumer.groups:
            message = f"Group {group_id} is not a classic group."
            return DescribedGroup(group_id, E.group_id_not_found, "Dead", "", "", (), message)
        stable = group.state is S.STABLE
        members = tuple(
            DescribedMember(
                member.member_id,
                member.group_instance_id,
                member.client_id,
                member.client_host,
                member.metadata(group.protocol_name) if stable else b"",
                member.assignment if stable else b"",
            )
            for member in group.members.values()
        )
        return DescribedGroup(
            group_id=group_id,
            error=E.none,
            state=group.state.value,
            protocol_type=group.protocol_type or "",
            protocol_data=(group.protocol_name or "") if stable else "",
            members=members,
        )

    def delete_group(self, group_id: str, now_ms: int) -> CoordinatorResult[ErrorCode]:
        """DeleteGroups for one group: only an empty group goes (NON_EMPTY_GROUP
        otherwise), with tombstones for its offsets and its metadata."""
        result: CoordinatorResult[ErrorCode] = CoordinatorResult(group_id)
        group = self.groups.get(group_id)
        if group is None or group.state is S.DEAD:
            result.response = E.group_id_not_found
            return result
        if group.state is not S.EMPTY or self.consumer.has_members(group_id):
            result.response = E.non_empty_group
            return result
        self.consumer.forget(group_id)
        result.records.extend(self.offsets.remove_all(group))
        result.records.append(OffsetsRecord(encode_group_metadata_key(group_id), None))
        group.transition_to(S.DEAD, now_ms)
        del self.groups[group_id]
        log.info("group %s deleted", group_id)
        result.response = E.none
        return result

    def delete_topic_offsets(self, topic: str) -> list[CoordinatorResult[None]]:
        """A deleted topic's committed offsets go too (Kafka's ``onPartitionsDeleted``):
        tombstones, one result per group that had any."""
        results = []
        for group in self.groups.values():
            doomed = [tp for tp in group.offsets if tp[0] == topic]
            if doomed:
                result: CoordinatorResult[None] = CoordinatorResult(group.group_id, replay=True)
                result.records = [
                    OffsetsRecord(encode_offset_commit_key(group.group_id, t, p), None)
                    for t, p in doomed
                ]
                results.append(result)
        return results

    # -- time -------------------------------------------------------------------------
    def poll(self, now_ms: int) -> list[CoordinatorResult[Any]]:
        """Everything that is due: one result per group that had something happen."""
        self.consumer.poll(now_ms)
        results = []
        for group in list(self.groups.values()):
            deadline = self.classic.next_deadline(group)
            if deadline is None or deadline > now_ms:
                continue
            result = self.classic.poll(group, now_ms)
            if result.records or result.completions:
                results.append(result)
        return results

    def next_deadline(self) -> int | None:
        deadlines = [self.classic.next_deadline(group) for group in self.groups.values()]
        deadlines.append(self.consumer.next_deadline())
        return min((d for d in deadlines if d is not None), default=None)

    def expire_offsets(self, now_ms: int) -> list[CoordinatorResult[None]]:
        """The ``offsets.retention.minutes`` pass over every group."""
        results = []
        for group in list(self.groups.values()):
            if group.state is S.DEAD or self.consumer.has_members(group.group_id):
                continue
            result = self.offsets.expire(group, now_ms)
            if group.group_id not in self.groups:
                self.consumer.forget(group.group_id)
            if result.records:
                results.append(result)
        return results
