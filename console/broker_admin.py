"""The console's one way into the cluster: Kafka admin requests via librdkafka.

Everything the console knows about topics comes from here, over the Kafka protocol
(Metadata, CreateTopics, DeleteTopics, ListOffsets, DescribeConfigs,
IncrementalAlterConfigs, CreatePartitions), so the console manages any
Kafka-compatible cluster and never touches broker internals. Selectors and services
call these functions; nothing else in the console imports ``confluent_kafka.admin``.

Failures are translated into the small exception hierarchy below, whose messages are
fit to show an operator: :class:`BrokerUnavailable` when the cluster cannot be reached
in ``HEADWATER_ADMIN_TIMEOUT`` seconds, :class:`TopicRequestRejected` (and its
subclasses) when the broker answered with an error code.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AclBinding as KafkaAclBinding
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)
from django.conf import settings

from broker.cluster.config_catalog import TOPIC_SYNONYMS
from broker.common import acls
from console import client_quotas

_KAFKA_LOG = logging.getLogger("headwater.kafka")

# librdkafka's local error codes meaning "no usable connection to the cluster".
_UNREACHABLE = frozenset(
    {
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError._RESOLVE,
        KafkaError._DESTROY,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.BROKER_NOT_AVAILABLE,
        KafkaError.NETWORK_EXCEPTION,
    }
)


class BrokerAdminError(Exception):
    """An admin request failed; ``str()`` is a message for the operator."""


class BrokerUnavailable(BrokerAdminError):
    """The cluster did not answer (down, wrong address, or too slow)."""


NO_AUTHORIZER = (
    "the cluster has no authorizer (authorizer.class.name is empty): it keeps no ACLs "
    "and allows every request"
)


class SecurityDisabled(BrokerAdminError):
    """The cluster has no authorizer (SECURITY_DISABLED): it keeps no ACLs and allows
    every request."""


class TopicRequestRejected(BrokerAdminError):
    """The broker answered with an error code for this topic.

    ``error_name`` is Kafka's name of the code (``POLICY_VIOLATION``,
    ``INVALID_TOPIC_EXCEPTION``...), so a form can show the message by the field at fault.
    """

    def __init__(self, message: str, *, error_name: str = "") -> None:
        super().__init__(message)
        self.error_name = error_name


class TopicAlreadyExists(TopicRequestRejected):
    """CreateTopics: TOPIC_ALREADY_EXISTS (36)."""


class UnknownTopic(TopicRequestRejected):
    """UNKNOWN_TOPIC_OR_PARTITION (3), or the topic is absent from Metadata."""


@dataclass(frozen=True, slots=True)
class PartitionMetadata:
    """One partition as Metadata describes it."""

    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class TopicMetadata:
    name: str
    partitions: tuple[PartitionMetadata, ...]


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """ListOffsets answers; ``None`` when the broker gave an error for the partition."""

    log_start_offset: int | None
    high_watermark: int | None


def _bootstrap_servers() -> str:
    return settings.HEADWATER_BOOTSTRAP_SERVERS


def _timeout() -> float:
    return float(settings.HEADWATER_ADMIN_TIMEOUT)


def client_config() -> dict[str, str]:
    """librdkafka properties for the console's clients (admin, live tail): the cluster
    address plus its login (``HEADWATER_KAFKA_CLIENT_CONFIG``: SASL/TLS settings)."""
    return {
        **settings.HEADWATER_KAFKA_CLIENT_CONFIG,
        "bootstrap.servers": _bootstrap_servers(),
    }


@functools.lru_cache(maxsize=8)
def _admin_client(config: tuple[tuple[str, str], ...]) -> AdminClient:
    """One long-lived client per cluster address and login (librdkafka handles are
    thread-safe). A short reconnect backoff lets the console notice a restarted broker
    quickly."""
    return AdminClient(
        {
            **dict(config),
            "client.id": "headwater-console",
            "reconnect.backoff.max.ms": 1000,
            "logger": _KAFKA_LOG,
            **settings.HEADWATER_KAFKA_CLIENT_CONFIG,  # SASL login, when configured
        }
    )


def _client() -> AdminClient:
    return _admin_client(tuple(sorted(client_config().items())))


def _translate(exc: KafkaException, *, topic: str | None = None) -> BrokerAdminError:
    error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
    if error is None:
        return BrokerAdminError(str(exc))
    code = error.code()
    if code in _UNREACHABLE:
        return BrokerUnavailable(
            f"cannot reach the Kafka cluster at {_bootstrap_servers()}: {error.str()}"
        )
    subject = f"topic {topic!r}: " if topic else ""
    name = error.name()
    if code == KafkaError.TOPIC_ALREADY_EXISTS:
        return TopicAlreadyExists(
            f"{subject}a topic with this name already exists", error_name=name
        )
    if code == KafkaError.UNKNOWN_TOPIC_OR_PART:
        return UnknownTopic(f"{subject}no such topic", error_name=name)
    return TopicRequestRejected(f"{subject}{name}: {error.str()}", error_name=name)


def _result(future: Future[Any], *, topic: str | None = None) -> Any:
    try:
        return future.result()
    except KafkaException as exc:
        raise _translate(exc, topic=topic) from exc


def describe_topics() -> dict[str, TopicMetadata]:
    """Metadata for every topic, by name.

    Always asks for all topics: a Metadata request naming a topic may auto-create it
    on brokers with ``auto.create.topics.enable`` (and always does below v4), and a
    console page view must never create topics.
    """
    try:
        cluster = _client().list_topics(timeout=_timeout())
    except KafkaException as exc:
        raise _translate(exc) from exc
    topics = {}
    for name, meta in cluster.topics.items():
        if meta.error is not None and meta.error.code() != KafkaError.LEADER_NOT_AVAILABLE:
            continue  # not a usable topic (e.g. being deleted)
        partitions = tuple(
            PartitionMetadata(
                partition=p.id, leader=p.leader, replicas=tuple(p.replicas), isr=tuple(p.isrs)
            )
            for p in sorted(meta.partitions.values(), key=lambda p: p.id)
        )
        topics[name] = TopicMetadata(name=name, partitions=partitions)
    return topics


def _request_offsets(partitions: list[TopicPartition], spec: OffsetSpec) -> dict[Any, Future[Any]]:
    return _client().list_offsets({tp: spec for tp in partitions}, request_timeout=_timeout())


def _offsets(futures: dict[Any, Future[Any]]) -> dict[tuple[str, int], int | None]:
    answers: dict[tuple[str, int], int | None] = {}
    for tp, future in futures.items():
        try:
            answers[(tp.topic, tp.partition)] = future.result().offset
        except KafkaException as exc:
            error = _translate(exc, topic=tp.topic)
            if isinstance(error, BrokerUnavailable):
                raise error from exc
            answers[(tp.topic, tp.partition)] = None
    return answers


def list_offsets(partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], PartitionOffsets]:
    """Log start offset and high watermark of each ``(topic, partition)``.

    Two ListOffsets requests (earliest and latest) over all the partitions at once, in
    flight together, so an unresponsive cluster costs one timeout, not two.
    """
    wanted = [TopicPartition(topic, partition) for topic, partition in partitions]
    if not wanted:
        return {}
    earliest_futures = _request_offsets(wanted, OffsetSpec.earliest())
    latest_futures = _request_offsets(wanted, OffsetSpec.latest())
    earliest = _offsets(earliest_futures)
    latest = _offsets(latest_futures)
    return {
        key: PartitionOffsets(log_start_offset=earliest.get(key), high_watermark=latest.get(key))
        for key in earliest.keys() | latest.keys()
    }


def create_topic(
    *, name: str, num_partitions: int, replication_factor: int, configs: dict[str, str]
) -> None:
    """CreateTopics for one topic (with its topic configs); returns once the broker has
    created it."""
    new_topic = NewTopic(
        name,
        num_partitions=num_partitions,
        replication_factor=replication_factor,
        config=configs,
    )
    futures = _client().create_topics(
        [new_topic], operation_timeout=_timeout(), request_timeout=_timeout()
    )
    _result(futures[name], topic=name)


def delete_topic(*, name: str) -> None:
    """DeleteTopics for one topic; returns once the broker has deleted it."""
    futures = _client().delete_topics(
        [name], operation_timeout=_timeout(), request_timeout=_timeout()
    )
    _result(futures[name], topic=name)


_EVERY_ACL = AclBindingFilter(
    ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
    AclOperation.ANY, AclPermissionType.ANY,
)  # fmt: skip


def describe_acls() -> list[acls.AclBinding]:
    """Every ACL on the cluster (DescribeAcls), as Kafka's ACL model
    (:mod:`broker.common.acls`): also the ones the console did not create."""
    try:
        described = _client().describe_acls(_EVERY_ACL, request_timeout=_timeout()).result()
    except KafkaException as exc:
        error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
        if error is not None and error.code() == KafkaError.SECURITY_DISABLED:
            raise SecurityDisabled(NO_AUTHORIZER) from exc
        raise _translate(exc) from exc
    return [
        acls.AclBinding.from_codes(
            binding.restype.value,
            binding.name,
            binding.resource_pattern_type.value,
            binding.principal,
            binding.host,
            binding.operation.value,
            binding.permission_type.value,
        )
        for binding in described
    ]


@dataclass(frozen=True, slots=True)
class AuthorizerConfigs:
    """The broker configs besides ACLs that decide authorization."""

    super_users: frozenset[str]
    allow_everyone_if_no_acl_found: bool
    authorizer_class_name: str = ""


def authorizer_configs() -> AuthorizerConfigs:
    """``authorizer.class.name``, ``super.users`` and ``allow.everyone.if.no.acl.found``
    of a broker (DescribeConfigs; Kafka lists them among a broker's read-only configs).
    Raises :class:`SecurityDisabled` when the authorizer is off: librdkafka answers a
    DescribeAcls refused with SECURITY_DISABLED with an empty list, which would read as
    "no ACLs"."""
    client = _client()
    try:
        metadata = client.list_topics(timeout=_timeout())
    except KafkaException as exc:  # the cluster unreachable: BrokerUnavailable, not a 500
        raise _translate(exc) from exc
    if not metadata.brokers:
        return AuthorizerConfigs(frozenset(), False)
    resource = ConfigResource(ConfigResource.Type.BROKER, str(min(metadata.brokers)))
    configs = _result(client.describe_configs([resource], request_timeout=_timeout())[resource])
    supers = configs.get("super.users")
    allow = configs.get("allow.everyone.if.no.acl.found")
    authorizer = configs.get("authorizer.class.name")
    if authorizer is None or not authorizer.value:
        raise SecurityDisabled(NO_AUTHORIZER)
    return AuthorizerConfigs(
        super_users=frozenset(
            p.strip() for p in (supers.value if supers and supers.value else "").split(";")
            if p.strip()
        ),
        allow_everyone_if_no_acl_found=bool(allow and (allow.value or "").lower() == "true"),
        authorizer_class_name=authorizer.value,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ScramUser:
    """A SCRAM user on the cluster: its name and (mechanism, iterations) credentials."""

    name: str
    credentials: tuple[tuple[str, int], ...]


def describe_scram_users() -> list[ScramUser]:
    """Every SCRAM user on the cluster (DescribeUserScramCredentials), those the console
    did not make too. No secret is part of the answer: the cluster keeps only salted
    credentials and reports their mechanism and iteration count."""
    try:
        described = _client().describe_user_scram_credentials(request_timeout=_timeout())
        users = described.result()
    except KafkaException as exc:
        raise _translate(exc) from exc
    return sorted(
        (
            ScramUser(
                name=name,
                credentials=tuple(
                    (info.mechanism.name.replace("_", "-"), info.iterations)
                    for info in description.scram_credential_infos
                ),
            )
            for name, description in users.items()
        ),
        key=lambda user: user.name,
    )


class RequestRejected(BrokerAdminError):
    """The broker refused a request (not a topic one); ``error_name`` is Kafka's."""

    def __init__(self, message: str, *, error_name: str = "") -> None:
        super().__init__(message)
        self.error_name = error_name


def _rejected(exc: KafkaException, subject: str) -> BrokerAdminError:
    translated = _translate(exc)
    if isinstance(translated, BrokerUnavailable):
        return translated
    error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
    name = error.name() if error is not None else ""
    text = error.str() if error is not None else str(exc)
    return RequestRejected(f"{subject}: {name}: {text}", error_name=name)


def _to_kafka(binding: acls.AclBinding) -> KafkaAclBinding:
    return KafkaAclBinding(
        ResourceType(int(binding.resource_type)),
        binding.resource_name,
        ResourcePatternType(int(binding.pattern_type)),
        binding.principal,
        binding.host,
        AclOperation(int(binding.operation)),
        AclPermissionType(int(binding.permission_type)),
    )


def _exact_filter(binding: acls.AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        ResourceType(int(binding.resource_type)),
        binding.resource_name,
        ResourcePatternType(int(binding.pattern_type)),
        binding.principal,
        binding.host,
        AclOperation(int(binding.operation)),
        AclPermissionType(int(binding.permission_type)),
    )


def create_acls(bindings: Iterable[acls.AclBinding]) -> dict[acls.AclBinding, str]:
    """CreateAcls for ``bindings`` in one request; the ones refused, with the reason."""
    wanted = list(bindings)
    if not wanted:
        return {}
    kafka_bindings = {_to_kafka(b): b for b in wanted}
    futures = _client().create_acls(list(kafka_bindings), request_timeout=_timeout())
    refused: dict[acls.AclBinding, str] = {}
    for kafka_binding, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            error = _rejected(exc, "CreateAcls")
            if isinstance(error, BrokerUnavailable):
                raise error from exc
            refused[kafka_bindings[kafka_binding]] = str(error)
    return refused


def delete_acls(bindings: Iterable[acls.AclBinding]) -> None:
    """DeleteAcls with one exact filter per binding (absent ones are no error)."""
    filters = [_exact_filter(b) for b in bindings]
    if not filters:
        return
    futures = _client().delete_acls(filters, request_timeout=_timeout())
    for future in futures.values():
        try:
            future.result()
        except KafkaException as exc:
            raise _rejected(exc, "DeleteAcls") from exc


SCRAM_MECHANISMS = {
    "SCRAM-SHA-256": ScramMechanism.SCRAM_SHA_256,
    "SCRAM-SHA-512": ScramMechanism.SCRAM_SHA_512,
}


def upsert_scram_credential(*, user: str, mechanism: str, iterations: int, password: str) -> None:
    """AlterUserScramCredentials: set ``user``'s credential for ``mechanism``. The
    client salts and hashes ``password``; only the salted credential crosses the wire.
    The password is never logged or kept."""
    info = ScramCredentialInfo(SCRAM_MECHANISMS[mechanism], iterations)
    upsertion = UserScramCredentialUpsertion(user, info, password.encode())
    futures = _client().alter_user_scram_credentials([upsertion], request_timeout=_timeout())
    try:
        futures[user].result()
    except KafkaException as exc:
        raise _rejected(exc, f"SCRAM user {user}") from exc


def delete_scram_user(*, user: str, mechanisms: Iterable[str]) -> None:
    """AlterUserScramCredentials deletions, one request per mechanism (Kafka refuses a
    user twice in one request); a credential already gone is no error."""
    for mechanism in mechanisms:
        deletion = UserScramCredentialDeletion(user, SCRAM_MECHANISMS[mechanism])
        futures = _client().alter_user_scram_credentials([deletion], request_timeout=_timeout())
        try:
            futures[user].result()
        except KafkaException as exc:
            error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            if error is not None and error.code() == KafkaError.RESOURCE_NOT_FOUND:
                continue
            raise _rejected(exc, f"SCRAM user {user}") from exc


def _quota_call(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except client_quotas.QuotaRequestFailed as exc:
        if exc.unreachable:
            raise BrokerUnavailable(
                f"cannot reach the Kafka cluster at {_bootstrap_servers()}: {exc}"
            ) from exc
        raise RequestRejected(f"client quotas: {exc}") from exc


def describe_user_quotas() -> dict[str, dict[str, float]]:
    """DescribeClientQuotas: the quotas of every named user entity, by user."""
    return _quota_call(client_quotas.describe_user_quotas)


def alter_user_quotas(changes: dict[str, dict[str, float | None]]) -> dict[str, str]:
    """AlterClientQuotas: set (number) or remove (None) keys per user; refusals by user."""
    return _quota_call(client_quotas.alter_user_quotas, changes)


def list_group_ids() -> list[str]:
    """ListGroups: every consumer group id on the cluster, or an error when any broker's
    answer is missing: a partial listing would let a tenant's deletion leave its groups
    behind (librdkafka reports a broker that failed in ``errors`` beside ``valid``)."""
    try:
        listing = _client().list_consumer_groups(request_timeout=_timeout()).result()
    except KafkaException as exc:
        raise _translate(exc) from exc
    if listing.errors:
        first = listing.errors[0]
        raise _translate(first if isinstance(first, KafkaException) else KafkaException(first))
    return sorted(group.group_id for group in listing.valid)


def delete_groups(group_ids: Iterable[str]) -> dict[str, str]:
    """DeleteGroups; the groups that could not be deleted, with the reason (a group with
    members is NON_EMPTY_GROUP). An unknown group counts as deleted."""
    wanted = list(group_ids)
    if not wanted:
        return {}
    futures = _client().delete_consumer_groups(wanted, request_timeout=_timeout())
    refused = {}
    for group_id, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            if error is not None and error.code() == KafkaError.GROUP_ID_NOT_FOUND:
                continue
            translated = _rejected(exc, f"group {group_id}")
            if isinstance(translated, BrokerUnavailable):
                raise translated from exc
            refused[group_id] = str(translated)
    return refused


def topics_with_prefix(prefix: str) -> dict[str, TopicMetadata]:
    """The topics whose names start with ``prefix`` (from Metadata for all topics)."""
    return {name: t for name, t in describe_topics().items() if name.startswith(prefix)}


def delete_topics(names: Iterable[str]) -> dict[str, str]:
    """DeleteTopics for ``names`` in one request; the refused ones, with the reason. A
    topic already gone counts as deleted."""
    wanted = list(names)
    if not wanted:
        return {}
    futures = _client().delete_topics(
        wanted, operation_timeout=_timeout(), request_timeout=_timeout()
    )
    refused = {}
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            translated = _translate(exc, topic=name)
            if isinstance(translated, UnknownTopic):
                continue
            if isinstance(translated, BrokerUnavailable):
                raise translated from exc
            refused[name] = str(translated)
    return refused


# -- topic configs and partitions (issue 10: configure topics, add partitions) ---------


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """One entry of a topic's DescribeConfigs answer. ``source`` is Kafka's name
    (``DYNAMIC_TOPIC_CONFIG`` for an override, ``DEFAULT_CONFIG``...); ``fallback`` is the
    value the topic would have without its override (the next synonym), when known."""

    name: str
    value: str | None
    source: str
    read_only: bool
    sensitive: bool
    fallback: str | None = None

    @property
    def is_override(self) -> bool:
        return self.source == "DYNAMIC_TOPIC_CONFIG"

    @property
    def source_label(self) -> str:
        """Where the value comes from, in words for the page."""
        return _SOURCE_LABELS.get(self.source, self.source.lower())


_SOURCE_LABELS = {
    "DYNAMIC_TOPIC_CONFIG": "set on this topic",
    "DYNAMIC_BROKER_CONFIG": "broker config (dynamic)",
    "DYNAMIC_DEFAULT_BROKER_CONFIG": "cluster-wide broker default (dynamic)",
    "STATIC_BROKER_CONFIG": "broker config (server.properties)",
    "DEFAULT_CONFIG": "Kafka's default",
}


def _source(entry: ConfigEntry) -> str:
    return ConfigSource(entry.source).name


def _fallback(name: str, entry: ConfigEntry) -> str | None:
    """The value ``name`` would have without the topic's override: the first synonym
    below it, converted to the topic config's unit (``log.retention.hours`` x 3600000
    is ``retention.ms``) by the broker's synonym table."""
    factors = dict(TOPIC_SYNONYMS.get(name, ()))
    for synonym in (entry.synonyms or {}).values():
        if _source(synonym) == _source(entry) or synonym.value is None:
            continue
        factor = factors.get(synonym.name, 1)
        if factor == 1:
            return synonym.value
        try:
            return str(int(synonym.value) * factor)
        except ValueError:
            return None
    return None


def describe_topic_configs(*, name: str) -> dict[str, TopicConfig]:
    """DescribeConfigs for topic ``name`` (librdkafka asks for synonyms), by config
    name."""
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    futures = _client().describe_configs([resource], request_timeout=_timeout())
    entries = _result(futures[resource], topic=name)
    return {
        config_name: TopicConfig(
            name=config_name,
            value=entry.value,
            source=_source(entry),
            read_only=bool(entry.is_read_only),
            sensitive=bool(entry.is_sensitive),
            fallback=_fallback(config_name, entry),
        )
        for config_name, entry in sorted(entries.items())
    }


def alter_topic_configs(*, name: str, set: dict[str, str], delete: Iterable[str]) -> None:
    """IncrementalAlterConfigs on topic ``name``: SET each of ``set``, DELETE (back to the
    broker's default) each of ``delete``; the broker's refusal (INVALID_CONFIG,
    POLICY_VIOLATION...) is :class:`TopicRequestRejected` with Kafka's message."""
    entries = [
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
        for key, value in set.items()
    ] + [ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE) for key in delete]
    resource = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=entries)
    futures = _client().incremental_alter_configs([resource], request_timeout=_timeout())
    _result(futures[resource], topic=name)


def create_partitions(*, name: str, total: int) -> None:
    """CreatePartitions: grow topic ``name`` to ``total`` partitions."""
    futures = _client().create_partitions(
        [NewPartitions(name, total)], operation_timeout=_timeout(), request_timeout=_timeout()
    )
    _result(futures[name], topic=name)
