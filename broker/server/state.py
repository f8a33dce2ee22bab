"""The broker's state object: config, cluster metadata, logs, and append notification.

One instance per broker process, passed to every handler through the request context:
no module-level mutable state. Topic lifecycle (create, auto-create, delete, add
partitions) lives here so CreateTopics, Metadata auto-creation, DeleteTopics and
CreatePartitions share one path; configs and each topic's LogConfig live in
:class:`~broker.server.config_manager.ConfigManager` (``self.configs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

from broker.cluster import configs as topic_configs
from broker.cluster.authorizer import build_authorizer
from broker.cluster.config_catalog import BROKER_CONFIGS, super_users
from broker.cluster.config_def import InvalidConfigError
from broker.cluster.metadata import FileMetadataStore, TopicRecord, plan_new_partitions
from broker.cluster.quotas import entity
from broker.common.limits import check_partitions_to_add
from broker.common.plan_limits import (
    PlanLimits,
    PlanViolation,
    check_configs,
    check_create,
    check_partitions,
    tenant_prefix,
)
from broker.common.topic_names import (
    colliding_topic,
    collision_message,
    is_internal,
    validate_topic_name,
)
from broker.config import BrokerConfig
from broker.coordinator.config import GroupCoordinatorConfig
from broker.coordinator.coordinator import GroupCoordinator
from broker.coordinator.service import GroupCoordinatorService
from broker.errors import BrokerError, ErrorCode
from broker.server.config_manager import ConfigManager
from broker.server.connection_quotas import ConnectionQuotas
from broker.server.flusher import GroupCommitFlusher
from broker.server.metrics import BrokerMetrics
from broker.server.offsets_topic import ConsumerOffsetsLog
from broker.server.quota_manager import QuotaManager
from broker.storage.file_pool import default_capacity, raise_open_file_limit
from broker.storage.log_config import LogConfig
from broker.storage.log_manager import LogManager
from broker.storage.partition_log import PartitionLog, partition_dir_name

log = logging.getLogger(__name__)


class AppendNotifier:
    """Wakes long-polling fetches when any partition receives records."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        # asyncio.wait, not wait_for: in Python 3.11 wait_for can swallow a cancellation
        # that arrives as the event fires, and a long poll would outlive shutdown.
        waiter = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            waiter.cancel()


def group_coordinator_config(config: BrokerConfig) -> GroupCoordinatorConfig:
    """The ``group.*`` / ``offsets.*`` settings (raises GroupConfigError)."""
    return GroupCoordinatorConfig.from_properties({**config.extra, **config.properties})


def _storage_error(what: str, exc: OSError) -> BrokerError:
    """KAFKA_STORAGE_ERROR naming the cause (``[Errno 28] No space left on device``)."""
    log.error("%s: %s; nothing was created", what, exc)
    return BrokerError(ErrorCode.kafka_storage_error, f"{what}: {exc}; nothing was created")


class BrokerState:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.node_id = config.node_id
        self.metadata = FileMetadataStore(config.log_dir, node_id=config.node_id)
        self.logs = LogManager(config.log_dir, open_files_max=self._open_files_max())
        self.configs = ConfigManager(config, self.metadata, self.logs)
        self.authorizer = build_authorizer(self.configs.layers.value, self.metadata)
        """Kafka's ``Option[Authorizer]``: None when ``authorizer.class.name`` is empty."""
        self.appends = AppendNotifier()
        self.connection_quotas = ConnectionQuotas(
            self.configs.layers,
            [listener.name for listener in config.listeners],
            ip_quotas=self.metadata.client_quotas(),
        )
        self.configs.on_broker_change(self.connection_quotas.reconfigure)
        self.quotas = QuotaManager(
            self.metadata,
            window_num=int(self.configs.layers.value("quota.window.num")),  # type: ignore[call-overload]
            window_size_s=int(self.configs.layers.value("quota.window.size.seconds")),  # type: ignore[call-overload]
            on_change=self.connection_quotas.set_ip_quotas,
        )
        self.password_checks = ThreadPoolExecutor(1, thread_name_prefix="sasl-password")
        """PBKDF2 runs of SASL/PLAIN logins, one at a time: however many clients try
        passwords at once, hashing takes at most one core from the event loop."""
        self.flusher = GroupCommitFlusher()
        self.metrics = BrokerMetrics() if config.http_listeners else None
        """Request, topic and fsync counters; None while ``http.listeners`` is empty."""
        if self.metrics is not None:
            self.flusher.on_round = self.metrics.fsync_round
        self.offline_partitions: dict[tuple[str, int], str] = {}
        """Partitions whose log could not be opened at start-up, with the reason: served
        as offline (KAFKA_STORAGE_ERROR, no leader in Metadata) while the rest serves."""
        for topic in self.metadata.topics():
            for partition in topic.partitions:
                self._open_at_startup(topic, partition.partition_index)
        self.groups = self._group_coordinator()
        log.info(
            "loaded %d topics from %s (cluster.id %s, node.id %d)",
            len(self.metadata.topics()),
            config.log_dir,
            self.metadata.cluster_id,
            self.node_id,
        )

    def _open_files_max(self) -> int:
        """``log.open.files.max``, or half the descriptor limit; logs what the limit allows."""
        soft, hard = raise_open_file_limit()
        definition = BROKER_CONFIGS["log.open.files.max"]
        raw = self.config.properties.get(definition.name)
        try:
            configured = int(definition.parse(raw)) if raw is not None else -1  # type: ignore[call-overload]
        except InvalidConfigError as exc:
            log.warning("ignoring log.open.files.max: %s", exc.message)
            configured = -1
        pool = configured if configured > 0 else default_capacity(soft)
        log.info(
            "open files: limit %d (hard %s); up to %d for log files (log.open.files.max), "
            "the rest for connections and everything else",
            soft,
            "unlimited" if hard == resource.RLIM_INFINITY else hard,
            pool,
        )
        return pool

    def _open_at_startup(self, topic: TopicRecord, partition: int) -> None:
        """Open one partition's log; a log that cannot be opened makes that partition
        offline, never the broker unable to start. A missing directory is created empty,
        as Kafka creates a leader's missing log, and said loudly: its records are gone."""
        directory = self.config.log_dir / partition_dir_name(topic.name, partition)
        if not directory.exists():
            log.error(
                "partition %s-%d: its directory %s is missing; created it empty (any "
                "records it held are lost)",
                topic.name, partition, directory,
            )  # fmt: skip
        try:
            self.logs.open(
                topic.name, partition, topic.topic_id, log_config=self.log_config(topic.name)
            )
        except (OSError, ValueError) as exc:
            reason = f"cannot open {directory}: {exc}"
            log.error("partition %s-%d is offline: %s", topic.name, partition, reason)
            self.offline_partitions[(topic.name, partition)] = reason

    @property
    def cluster_id(self) -> str:
        return self.metadata.cluster_id

    def _group_coordinator(self) -> GroupCoordinatorService:
        """The group coordinator, with every group loaded from ``__consumer_offsets``."""
        config = group_coordinator_config(self.config)
        offsets_log = ConsumerOffsetsLog(
            self,
            partitions=config.offsets_topic_num_partitions,
            segment_bytes=config.offsets_topic_segment_bytes,
        )
        service = GroupCoordinatorService(GroupCoordinator(config), offsets_log)
        service.load()
        return service

    # -- topics -------------------------------------------------------------------
    def resolve_partition_count(self, num_partitions: int) -> int:
        count = self.config.num_partitions if num_partitions == -1 else num_partitions
        if count < 1:
            raise BrokerError(
                ErrorCode.invalid_partitions, "Number of partitions must be larger than 0."
            )
        return count

    def resolve_replicas(self, replication_factor: int) -> list[int]:
        factor = (
            self.config.default_replication_factor
            if replication_factor == -1
            else replication_factor
        )
        if factor < 1:
            raise BrokerError(
                ErrorCode.invalid_replication_factor, "Replication factor must be larger than 0."
            )
        brokers = [self.node_id]
        if factor > len(brokers):
            raise BrokerError(
                ErrorCode.invalid_replication_factor,
                f"Unable to replicate the partition {factor} time(s): "
                f"The target replication factor of {factor} cannot be reached because only "
                f"{len(brokers)} broker(s) are registered.",
            )
        return brokers[:factor]

    def create_topic(
        self,
        name: str,
        *,
        num_partitions: int = -1,
        replication_factor: int = -1,
        configs: Mapping[str, str | None] | None = None,
        validate_only: bool = False,
        in_request: int = 0,
        principal: str | None = None,
    ) -> TopicRecord:
        """Create a topic (CreateTopics, auto-creation, the broker's internal topics).

        Kafka's rules, in Kafka's order, all before anything is created: a legal name,
        not an existing one nor one colliding with an existing one once '.' and '_' are
        alike, partitions and replicas resolved, then the partition limits
        (:func:`~broker.common.limits.check_partitions_to_add`; ``in_request``: the
        partitions earlier topics of the same request added or, with ``validate_only``,
        would have added), then the configs, then the ``principal``'s tenant plan
        (:meth:`plan_for`).
        """
        validate_topic_name(name)
        if self.metadata.topic(name) is not None:
            raise BrokerError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        existing = colliding_topic(name, (topic.name for topic in self.metadata.topics()))
        if existing is not None:
            raise BrokerError(ErrorCode.invalid_topic_exception, collision_message(name, existing))
        partitions = self.resolve_partition_count(num_partitions)
        replicas = self.resolve_replicas(replication_factor)
        self.check_partitions_to_add(
            partitions, in_request=in_request, pending=in_request if validate_only else 0
        )
        self.configs.validate_new_topic(configs or {})
        plan = self.plan_for(principal)
        if plan is not None and name.startswith(plan[1]):
            given = {k: v for k, v in (configs or {}).items() if v is not None}
            with _policy_violation():
                check_create(
                    plan[0],
                    prefix=plan[1],
                    topics=self._topic_sizes(),
                    name=name,
                    partitions=partitions,
                    configs=self._plan_configs(given),
                )
        if validate_only:
            return TopicRecord(name=name, topic_id=uuid.UUID(int=0), partitions=[])
        topic_id = uuid.uuid4()
        stored = {k: v for k, v in (configs or {}).items() if v is not None}
        # All or nothing: the partition directories first, the metadata last, so a failure
        # half-way (ENOSPC, EMFILE, EACCES) leaves neither directories nor a topic.
        self._open_new_partitions(name, topic_id, range(partitions), configs=stored)
        try:
            record = self.metadata.create_topic(
                name, partitions, replicas, stored, topic_id=topic_id
            )
        except OSError as exc:
            self._remove_new_partitions(name, topic_id, range(partitions))
            raise _storage_error(f"cannot create topic {name}", exc) from exc
        log.info("created topic %s with %d partitions", name, partitions)
        return record

    def plan_for(self, principal: str | None) -> tuple[PlanLimits, str] | None:
        """The plan limits and topic prefix that bind ``principal``: a ``User:<slug>-<name>``
        that is not a super user and whose own user entity (not ``<default>``, which
        would bind every tenant alike) carries a ``headwater_max_*`` quota key."""
        kind, sep, user = (principal or "").partition(":")
        prefix = tenant_prefix(user) if sep and kind == "User" else None
        if prefix is None:
            return None
        if principal in super_users(self.configs.layers.value("super.users")):  # type: ignore[arg-type]
            return None
        quotas = self.metadata.client_quotas().get(entity(user=user), {})
        limits = PlanLimits.from_quotas(quotas)
        return None if limits is None else (limits, prefix)

    def check_plan_configs(
        self, principal: str | None, topic: str, overrides: Mapping[str, str | None]
    ) -> None:
        """POLICY_VIOLATION when a topic's resulting ``overrides`` (AlterConfigs,
        IncrementalAlterConfigs) give it a ``retention.ms`` or ``max.message.bytes``
        beyond the principal's plan; a deleted override falls back to the broker's."""
        plan = self.plan_for(principal)
        if plan is None or not topic.startswith(plan[1]):
            return
        kept = {k: v for k, v in overrides.items() if v is not None}
        topic_configs.validate_topic_configs(kept, self.configs.layers)
        with _policy_violation():
            check_configs(plan[0], self._plan_configs(kept), subject=f"Cannot alter topic {topic}")

    def _plan_configs(self, overrides: Mapping[str, str]) -> dict[str, str | None]:
        values = topic_configs.effective_topic_values(overrides, self.configs.layers)
        return {k: str(values[k]) for k in ("retention.ms", "max.message.bytes")}

    def _topic_sizes(self) -> dict[str, int]:
        return {topic.name: len(topic.partitions) for topic in self.metadata.topics()}

    def partition_count(self) -> int:
        """The partitions this broker holds, over every topic (internal ones too)."""
        return sum(len(topic.partitions) for topic in self.metadata.topics())

    def check_partitions_to_add(
        self, adding: int, *, in_request: int = 0, pending: int = 0
    ) -> None:
        """POLICY_VIOLATION unless ``adding`` partitions fit the per-request cap and
        ``max.broker.partitions`` and ``max.partitions`` (on one broker the cluster holds
        what the broker holds; ``pending``: validated in this request, not created)."""
        check_partitions_to_add(
            adding=adding,
            in_request=in_request,
            held=self.partition_count() + pending,
            max_broker_partitions=int(self.configs.layers.value("max.broker.partitions")),  # type: ignore[call-overload]
            max_partitions=int(self.configs.layers.value("max.partitions")),  # type: ignore[call-overload]
        )

    def delete_topic(self, name: str) -> TopicRecord:
        if not self.config.delete_topic_enable:
            raise BrokerError(ErrorCode.topic_deletion_disabled, "Topic deletion is disabled.")
        if is_internal(name):
            # kafka-topics refuses this client-side; a broker that tenants share must
            # not leave it to clients (issue 9).
            raise BrokerError(
                ErrorCode.policy_violation,
                f"Topic {name} is a Kafka internal topic and is not allowed to be deleted.",
            )
        record = self.metadata.delete_topic(name)
        self.configs.forget(name)
        for partition in record.partitions:
            self.offline_partitions.pop((name, partition.partition_index), None)
            self.logs.delete(name, partition.partition_index, record.topic_id)
        self.groups.topic_deleted(name)
        log.info("deleted topic %s", name)
        return record

    def create_partitions(
        self,
        name: str,
        count: int,
        assignments: list[list[int]] | None = None,
        *,
        validate_only: bool = False,
        principal: str | None = None,
    ) -> TopicRecord:
        """Grow a topic to ``count`` partitions (Kafka's rules: increase only), within
        the ``principal``'s tenant plan."""
        record = self.metadata.topic(name)
        if record is None:
            raise BrokerError(
                ErrorCode.unknown_topic_or_partition, f"The topic '{name}' does not exist."
            )
        new_replicas = plan_new_partitions(record, count, assignments, [self.node_id])
        self.check_partitions_to_add(len(new_replicas))
        plan = self.plan_for(principal)
        if plan is not None and name.startswith(plan[1]):
            with _policy_violation():
                check_partitions(
                    plan[0],
                    prefix=plan[1],
                    topics=self._topic_sizes(),
                    name=name,
                    adding=len(new_replicas),
                )
        if validate_only:
            return record
        start = len(record.partitions)
        added = range(start, start + len(new_replicas))
        self._open_new_partitions(name, record.topic_id, added)
        try:
            record = self.metadata.add_partitions(name, new_replicas)
        except OSError as exc:
            self._remove_new_partitions(name, record.topic_id, added)
            raise _storage_error(f"cannot add partitions to {name}", exc) from exc
        log.info("topic %s: %d partitions (was %d)", name, len(record.partitions), start)
        return record

    def _open_new_partitions(
        self,
        name: str,
        topic_id: uuid.UUID,
        partitions: range,
        *,
        configs: Mapping[str, str] | None = None,
    ) -> None:
        """Create the logs of new partitions; on an OSError remove those made and raise
        KAFKA_STORAGE_ERROR. ``configs``: a new topic's overrides (not stored yet)."""
        log_config = (
            self.configs.log_config_for(configs) if configs is not None else self.log_config(name)
        )
        try:
            for partition in partitions:
                self.logs.open(name, partition, topic_id, log_config=log_config)
        except OSError as exc:
            self._remove_new_partitions(name, topic_id, partitions)
            raise _storage_error(f"cannot create the partitions of {name}", exc) from exc

    def _remove_new_partitions(self, name: str, topic_id: uuid.UUID, partitions: range) -> None:
        for partition in partitions:
            try:
                self.logs.delete(name, partition, topic_id)
            except OSError as exc:  # the reason is in the client's error; this is the rest
                log.warning(
                    "could not remove %s-%d after a failed create: %s", name, partition, exc
                )

    def log_config(self, topic: str) -> LogConfig:
        """The effective log settings of a topic: its overrides, then broker defaults."""
        return self.configs.log_config(topic)

    def partition_log(self, topic: str, partition: int) -> PartitionLog:
        """The log of a partition this broker leads, or UNKNOWN_TOPIC_OR_PARTITION."""
        partition_log = self.logs.get(topic, partition)
        if partition_log is None:
            offline = self.offline_partitions.get((topic, partition))
            if offline is not None:
                raise BrokerError(
                    ErrorCode.kafka_storage_error, f"partition {topic}-{partition} is offline"
                )
            raise BrokerError(ErrorCode.unknown_topic_or_partition)
        return partition_log

    def close(self) -> None:
        self.password_checks.shutdown(wait=True, cancel_futures=True)
        self.flusher.close()
        self.logs.close()


@contextlib.contextmanager
def _policy_violation() -> Iterator[None]:
    """A :class:`PlanViolation` as Kafka's POLICY_VIOLATION, its message kept."""
    try:
        yield
    except PlanViolation as exc:
        raise BrokerError(ErrorCode.policy_violation, str(exc)) from exc
