"""What coordinator operations return: records to append, and responses.

The coordinator never answers a wire request itself. Each operation returns a
:class:`CoordinatorResult`; the service appends ``records`` to ``__consumer_offsets``
(all of one group share a partition), then hands ``response`` to the caller and each
``(token, response)`` of ``completions`` to the request held under that token
(JoinGroup and SyncGroup long-poll). The responses are plain dataclasses, independent
of the API version; handlers turn them into kio entities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from broker.errors import ErrorCode

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OffsetsRecord:
    """One record for ``__consumer_offsets``; ``value`` None is a tombstone."""

    key: bytes
    value: bytes | None


@dataclass(frozen=True, slots=True)
class GroupStored:
    """Follow-up of a leader's SyncGroup: the GroupMetadata record of ``generation_id``
    was appended (or failed with ``error``); :meth:`ClassicGroups.on_group_stored`
    then answers the held SyncGroups."""

    group_id: str
    generation_id: int
    assignments: dict[str, bytes]


@dataclass(frozen=True, slots=True)
class StaticMemberStored:
    """Follow-up of a static member's rejoin in a Stable group (KIP-345): the group
    metadata naming the new member ID was appended, so its held JoinGroup is answered;
    if the append failed, the old member ID is restored."""

    group_id: str
    instance_id: str
    old_member_id: str
    new_member_id: str
    token: int
    response: JoinResponse


@dataclass(slots=True)
class CoordinatorResult(Generic[T]):
    group_id: str = ""
    records: list[OffsetsRecord] = field(default_factory=list)
    response: T | None = None
    completions: list[tuple[int, object]] = field(default_factory=list)
    follow_up: GroupStored | StaticMemberStored | None = None
    replay: bool = False  # offsets records: the coordinator applies them once appended

    def merge(self, other: CoordinatorResult[object]) -> None:
        """Fold ``other`` (same group, or a housekeeping result) into this result."""
        self.records.extend(other.records)
        self.completions.extend(other.completions)
        if other.follow_up is not None:
            if self.follow_up is not None:
                raise AssertionError("one result carries at most one follow-up")
            self.follow_up = other.follow_up


# --- responses ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinMember:
    member_id: str
    group_instance_id: str | None
    metadata: bytes


@dataclass(frozen=True, slots=True)
class JoinResponse:
    error: ErrorCode
    member_id: str
    generation_id: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader: str = ""
    members: tuple[JoinMember, ...] = ()
    skip_assignment: bool = False


@dataclass(frozen=True, slots=True)
class SyncResponse:
    error: ErrorCode
    assignment: bytes = b""
    protocol_type: str | None = None
    protocol_name: str | None = None


@dataclass(frozen=True, slots=True)
class LeaveMemberResponse:
    member_id: str
    group_instance_id: str | None
    error: ErrorCode


@dataclass(frozen=True, slots=True)
class LeaveResponse:
    error: ErrorCode
    members: tuple[LeaveMemberResponse, ...] = ()


@dataclass(frozen=True, slots=True)
class OffsetFetchPartition:
    partition: int
    offset: int
    leader_epoch: int
    metadata: str | None
    error: ErrorCode = ErrorCode.none


@dataclass(frozen=True, slots=True)
class DescribedMember:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    metadata: bytes
    assignment: bytes


@dataclass(frozen=True, slots=True)
class DescribedGroup:
    group_id: str
    error: ErrorCode
    state: str
    protocol_type: str
    protocol_data: str
    members: tuple[DescribedMember, ...] = ()
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class ListedGroup:
    group_id: str
    protocol_type: str
    state: str
    group_type: str


def append_error(code: ErrorCode) -> ErrorCode:
    """What a client is told when appending to ``__consumer_offsets`` failed with
    ``code`` (Kafka's mapping in ``GroupMetadataManager``): retriable coordinator errors
    for storage trouble, so clients look the coordinator up again and retry."""
    if code in (
        ErrorCode.unknown_topic_or_partition,
        ErrorCode.not_enough_replicas,
        ErrorCode.not_enough_replicas_after_append,
        ErrorCode.request_timed_out,
    ):
        return ErrorCode.coordinator_not_available
    if code in (ErrorCode.not_leader_or_follower, ErrorCode.kafka_storage_error):
        return ErrorCode.not_coordinator
    if code in (
        ErrorCode.message_too_large,
        ErrorCode.record_list_too_large,
        ErrorCode.invalid_fetch_size,
    ):
        return ErrorCode.unknown_server_error
    return code
