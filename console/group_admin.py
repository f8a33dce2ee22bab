"""Consumer-group admin requests for the console's groups pages, via librdkafka.

A sibling of :mod:`console.broker_admin`, whose client, timeouts and error translation
it uses (never copies): ListGroups, DescribeGroups (librdkafka asks ConsumerGroupDescribe
for KIP-848 groups), OffsetFetch, OffsetCommit from an admin (generation -1,
AlterConsumerGroupOffsets), DeleteGroups, ListOffsets by timestamp, and OffsetDelete,
which confluent-kafka lacks and kafka-python's admin speaks. The timestamp of the next
record a group will consume comes from one short-lived consumer assigned to the
partitions at their committed offsets (bounded: one fetch round, a deadline).

Calls that can be batched are: one DescribeGroups for a page's groups, one
ListOffsets for all their partitions; OffsetFetch takes one group per request in
librdkafka, so a page's OffsetFetch requests are sent together and awaited together.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import OffsetSpec

from broker.common.client_properties import kafka_python_settings
from console import broker_admin
from console.broker_admin import BrokerAdminError, BrokerUnavailable, RequestRejected

_LOG = logging.getLogger("headwater.kafka")
TopicPartitionKey = tuple[str, int]

# Kafka's group states as ListGroups/DescribeGroups name them.
STATES = ("Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead", "Assigning",
          "Reconciling", "Unknown")  # fmt: skip
_STATE_NAMES = {
    "STABLE": "Stable", "PREPARING_REBALANCE": "PreparingRebalance",
    "COMPLETING_REBALANCE": "CompletingRebalance", "EMPTY": "Empty", "DEAD": "Dead",
    "ASSIGNING": "Assigning", "RECONCILING": "Reconciling", "UNKNOWN": "Unknown",
}  # fmt: skip


class GroupNotEmpty(RequestRejected):
    """DeleteGroups / OffsetDelete: NON_EMPTY_GROUP or GROUP_SUBSCRIBED_TO_TOPIC."""


class GroupNotFound(RequestRejected):
    """GROUP_ID_NOT_FOUND: the coordinator has no such group."""


@dataclass(frozen=True, slots=True)
class GroupListing:
    """One group as ListGroups answers."""

    group_id: str
    state: str
    protocol: str  # "classic" or "consumer" (KIP-848)
    simple: bool  # no members ever joined: offsets committed by an admin or assign()


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    client_id: str
    host: str
    assignment: tuple[TopicPartitionKey, ...]
    group_instance_id: str | None = None


@dataclass(frozen=True, slots=True)
class GroupDescription:
    group_id: str
    state: str
    protocol: str
    assignor: str
    members: tuple[Member, ...]
    coordinator: int | None


def _enum_name(value: Any) -> str:
    return getattr(value, "name", str(value))


def _state(value: Any) -> str:
    return _STATE_NAMES.get(_enum_name(value), "Unknown")


def _protocol(value: Any) -> str:
    name = _enum_name(value)
    return "consumer" if name == "CONSUMER" else "classic"


def _error_of(exc: KafkaException) -> KafkaError | None:
    return exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None


def _translate(exc: KafkaException, group_id: str) -> BrokerAdminError:
    """broker_admin's translation, with the group errors the groups pages act on."""
    error = _error_of(exc)
    if error is not None and error.code() == KafkaError.NON_EMPTY_GROUP:
        return GroupNotEmpty(f"group {group_id!r}: {error.str()}", error_name=error.name())
    if error is not None and error.code() == KafkaError.GROUP_ID_NOT_FOUND:
        return GroupNotFound(f"group {group_id!r}: {error.str()}", error_name=error.name())
    translated = broker_admin._translate(exc)
    if isinstance(translated, BrokerUnavailable) or error is None:
        return translated
    subject = "ListGroups" if group_id == "*" else f"group {group_id!r}"
    return RequestRejected(f"{subject}: {error.name()}: {error.str()}",
                           error_name=error.name())  # fmt: skip


def _result(future: Future[Any], group_id: str) -> Any:
    try:
        return future.result()
    except KafkaException as exc:
        raise _translate(exc, group_id) from exc


def list_groups() -> list[GroupListing]:
    """Every group on the cluster (ListGroups to each broker), sorted by id."""
    timeout = broker_admin._timeout()
    future = broker_admin._client().list_consumer_groups(request_timeout=timeout)
    answer = _result(future, "*")
    if answer.errors and not answer.valid:  # every broker failed: say why (the first)
        first = answer.errors[0]
        raise _translate(first if isinstance(first, KafkaException) else KafkaException(first), "*")
    return sorted(
        (
            GroupListing(
                group_id=g.group_id,
                state=_state(g.state),
                protocol=_protocol(getattr(g, "type", None)),
                simple=bool(g.is_simple_consumer_group),
            )
            for g in answer.valid
        ),
        key=lambda g: g.group_id,
    )


def _member(m: Any) -> Member:
    partitions = m.assignment.topic_partitions if m.assignment else []
    return Member(
        member_id=m.member_id, client_id=m.client_id, host=m.host,
        assignment=tuple(sorted((tp.topic, tp.partition) for tp in partitions)),
        group_instance_id=m.group_instance_id,
    )  # fmt: skip


def describe_groups(group_ids: Iterable[str]) -> dict[str, GroupDescription]:
    """DescribeGroups (ConsumerGroupDescribe for KIP-848 groups) for ``group_ids`` in
    one call. A group the coordinator does not know is state Dead with no members."""
    wanted = list(dict.fromkeys(group_ids))
    if not wanted:
        return {}
    futures = broker_admin._client().describe_consumer_groups(
        wanted, request_timeout=broker_admin._timeout()
    )
    described: dict[str, GroupDescription] = {}
    for group_id, future in futures.items():
        try:
            g = future.result()
        except KafkaException as exc:
            error = _translate(exc, group_id)
            if isinstance(error, GroupNotFound):
                described[group_id] = GroupDescription(group_id, "Dead", "classic", "", (), None)
                continue
            raise error from exc
        described[group_id] = GroupDescription(
            group_id=group_id, state=_state(g.state), protocol=_protocol(getattr(g, "type", None)),
            assignor=g.partition_assignor or "",
            members=tuple(sorted((_member(m) for m in g.members), key=lambda m: m.member_id)),
            coordinator=g.coordinator.id if g.coordinator is not None else None,
        )  # fmt: skip
    return described


def committed_offsets(group_ids: Iterable[str]) -> dict[str, dict[TopicPartitionKey, int]]:
    """OffsetFetch: each group's committed offsets (partitions without one are absent).
    librdkafka takes one group per request: they are all sent, then all awaited."""
    client = broker_admin._client()
    timeout = broker_admin._timeout()
    futures = {
        group_id: client.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group_id)], request_timeout=timeout
        )[group_id]
        for group_id in dict.fromkeys(group_ids)
    }
    offsets: dict[str, dict[TopicPartitionKey, int]] = {}
    for group_id, future in futures.items():
        answer = _result(future, group_id)
        offsets[group_id] = {
            (tp.topic, tp.partition): tp.offset
            for tp in answer.topic_partitions or []
            if tp.offset >= 0 and tp.error is None
        }
    return offsets


def end_offsets(partitions: Iterable[TopicPartitionKey]) -> dict[TopicPartitionKey, int | None]:
    """High watermarks of ``partitions`` in one ListOffsets (None: the partition's error)."""
    wanted = [TopicPartition(t, p) for t, p in dict.fromkeys(partitions)]
    if not wanted:
        return {}
    return broker_admin._offsets(broker_admin._request_offsets(wanted, OffsetSpec.latest()))


def offsets_for_timestamp(
    partitions: Iterable[TopicPartitionKey], timestamp_ms: int
) -> dict[TopicPartitionKey, int | None]:
    """ListOffsets by timestamp: the first offset whose record's timestamp is at or after
    ``timestamp_ms``; None where there is none (Kafka's tool then takes the log end)."""
    wanted = [TopicPartition(t, p) for t, p in dict.fromkeys(partitions)]
    if not wanted:
        return {}
    spec = OffsetSpec.for_timestamp(timestamp_ms)
    answers = broker_admin._offsets(broker_admin._request_offsets(wanted, spec))
    return {
        key: (None if offset is None or offset < 0 else offset) for key, offset in answers.items()
    }


def alter_offsets(group_id: str, offsets: Mapping[TopicPartitionKey, int]) -> None:
    """OffsetCommit from an admin (generation -1): the group's offsets become ``offsets``.
    A partition the broker refuses fails the whole call with its reason."""
    if not offsets:
        return
    request = ConsumerGroupTopicPartitions(
        group_id, [TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]
    )
    futures = broker_admin._client().alter_consumer_group_offsets(
        [request], request_timeout=broker_admin._timeout()
    )
    answer = _result(futures[group_id], group_id)
    failed = [tp for tp in answer.topic_partitions or [] if tp.error is not None]
    if failed:
        error = failed[0].error
        raise RequestRejected(
            f"group {group_id!r}, {failed[0].topic}-{failed[0].partition}: "
            f"{error.name()}: {error.str()}",
            error_name=error.name(),
        )


def delete_group(group_id: str) -> None:
    """DeleteGroups for one group; a group with members is GroupNotEmpty."""
    futures = broker_admin._client().delete_consumer_groups(
        [group_id], request_timeout=broker_admin._timeout()
    )
    _result(futures[group_id], group_id)


def delete_group_offsets(group_id: str, partitions: Iterable[TopicPartitionKey]) -> None:
    """OffsetDelete (KIP-496) through kafka-python's admin, which finds the coordinator;
    confluent-kafka has no binding for it. Refused with GROUP_SUBSCRIBED_TO_TOPIC while
    a member of the group reads the topic."""
    from kafka import TopicPartition as KafkaPythonPartition
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError as KafkaPythonError
    from kafka.errors import NoError

    wanted = [KafkaPythonPartition(t, p) for t, p in partitions]
    if not wanted:
        return
    logging.getLogger("kafka").setLevel(logging.ERROR)
    timeout_ms = int(broker_admin._timeout() * 1000)
    config: dict[str, Any] = {
        "bootstrap_servers": broker_admin.client_config()["bootstrap.servers"].split(","),
        "request_timeout_ms": timeout_ms, "client_id": "headwater-console",
    }  # fmt: skip
    config |= kafka_python_settings(broker_admin.client_config())
    try:
        admin = KafkaAdminClient(**config)
    except (KafkaPythonError, OSError, ValueError) as exc:
        raise BrokerUnavailable(f"cannot reach the Kafka cluster: {exc}") from exc
    try:
        results = admin.delete_group_offsets(group_id, wanted)
    except KafkaPythonError as exc:
        name = getattr(exc, "message", type(exc).__name__)  # Kafka's name of the code
        error_class = GroupNotEmpty if name == "NON_EMPTY_GROUP" else RequestRejected
        raise error_class(
            f"group {group_id!r}: {name}: {exc.description}", error_name=name
        ) from exc
    finally:
        admin.close()
    for tp, error in results.items():
        if error is not NoError:
            name = getattr(error, "message", error.__name__)
            error_class = GroupNotEmpty if name == "GROUP_SUBSCRIBED_TO_TOPIC" else RequestRejected
            raise error_class(
                f"group {group_id!r}, {tp.topic}-{tp.partition}: {name}: {error.description}",
                error_name=name,
            )


def next_record_timestamps(
    positions: Mapping[TopicPartitionKey, int], *, timeout: float | None = None
) -> dict[TopicPartitionKey, int]:
    """The timestamp (ms) of the record at each ``(topic, partition) -> offset``.

    One short-lived consumer (no group: assign, never commit) starts at those offsets
    and reads until it has one record per partition or ``timeout`` passes: bounded to
    one fetch per partition. Partitions whose record did not come are absent."""
    wanted = {key: offset for key, offset in positions.items() if offset >= 0}
    if not wanted:
        return {}
    deadline = time.monotonic() + (broker_admin._timeout() if timeout is None else timeout)
    consumer = Consumer(
        {
            **broker_admin.client_config(),
            "group.id": f"headwater-console-lag-{uuid.uuid4().hex}",  # never joined
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "enable.partition.eof": False, "max.partition.fetch.bytes": 65536,
            "fetch.wait.max.ms": 100, "client.id": "headwater-console-lag",
            "logger": _LOG,
        }
    )  # fmt: skip
    found: dict[TopicPartitionKey, int] = {}
    try:
        consumer.assign([TopicPartition(t, p, o) for (t, p), o in wanted.items()])
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for message in consumer.consume(len(wanted), timeout=0.2):
                key = (message.topic(), message.partition())
                if message.error() is not None or key in found or key not in wanted:
                    continue
                if message.offset() >= wanted[key]:  # compaction may skip the exact one
                    found[key] = message.timestamp()[1]
                    consumer.pause([TopicPartition(*key)])
    except KafkaException as exc:
        _LOG.warning("next-record timestamps: %s", exc)
    finally:
        consumer.close()
    return found
