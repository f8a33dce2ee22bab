"""The effective settings of one partition log, resolved from topic and broker configs.

Storage only reads this typed object; :mod:`broker.cluster.configs` builds it from a
topic's overrides and the broker's ``log.*`` defaults (Kafka's precedence), so the
storage layer never parses config strings. Values are Kafka's units (ms, bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class TimestampType(Enum):
    CREATE_TIME = "CreateTime"
    LOG_APPEND_TIME = "LogAppendTime"


class FlushMode(Enum):
    """When an acknowledged write is on stable storage.

    ``ASYNC`` is Kafka's default: the OS writes back in its own time (plus
    ``flush.messages`` / ``flush.ms``). ``DURABLE`` makes acks=all wait for a group-commit
    fdatasync that covers the write.
    """

    ASYNC = "async"
    DURABLE = "durable"


NO_LIMIT = 2**63 - 1


@dataclass(frozen=True, slots=True)
class LogConfig:
    segment_bytes: int = 1073741824
    segment_ms: int = 604800000
    segment_jitter_ms: int = 0
    index_interval_bytes: int = 4096
    segment_index_bytes: int = 10485760
    retention_ms: int = 604800000  # -1: keep forever
    retention_bytes: int = -1  # -1: no size limit
    cleanup_policy: frozenset[str] = frozenset({"delete"})
    delete_retention_ms: int = 86400000
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = NO_LIMIT
    min_cleanable_dirty_ratio: float = 0.5
    file_delete_delay_ms: int = 60000
    flush_messages: int = NO_LIMIT
    flush_ms: int = NO_LIMIT
    flush_mode: FlushMode = FlushMode.ASYNC
    max_message_bytes: int = 1048588
    message_timestamp_type: TimestampType = TimestampType.CREATE_TIME
    message_timestamp_before_max_ms: int = NO_LIMIT
    message_timestamp_after_max_ms: int = NO_LIMIT
    compression_type: str = "producer"
    min_insync_replicas: int = 1  # acks=all needs this many in-sync replicas
    preallocate: bool = False
    unclean_leader_election_enable: bool = False

    @property
    def compact(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def delete(self) -> bool:
        return "delete" in self.cleanup_policy
