"""All partition logs of one broker, under its ``log.dirs``.

Creates, opens and deletes partition directories; the cluster metadata (which topics
exist, their IDs and partition counts) lives in :mod:`broker.cluster.metadata`, and the
log manager opens the logs that metadata names. Deleting a topic renames each of its
directories to ``<topic>-<partition>.<id>-delete`` first (atomic), then removes it,
so a crash mid-delete never leaves a half-deleted log that looks live.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

from broker.storage.partition_log import PartitionLog, partition_dir_name

log = logging.getLogger(__name__)

DELETE_SUFFIX = "-delete"


class LogManager:
    def __init__(self, log_dir: Path, *, segment_bytes: int, flush_interval_messages: int) -> None:
        self.log_dir = log_dir
        self.segment_bytes = segment_bytes
        self.flush_interval_messages = flush_interval_messages
        self._logs: dict[tuple[str, int], PartitionLog] = {}
        log_dir.mkdir(parents=True, exist_ok=True)
        self._remove_leftover_deletions()

    def _remove_leftover_deletions(self) -> None:
        for path in self.log_dir.iterdir():
            if path.is_dir() and path.name.endswith(DELETE_SUFFIX):
                shutil.rmtree(path, ignore_errors=True)

    def get(self, topic: str, partition: int) -> PartitionLog | None:
        return self._logs.get((topic, partition))

    def open(self, topic: str, partition: int, topic_id: uuid.UUID) -> PartitionLog:
        """Open (creating if needed) the log of one partition."""
        key = (topic, partition)
        existing = self._logs.get(key)
        if existing is not None:
            return existing
        partition_log = PartitionLog(
            self.log_dir / partition_dir_name(topic, partition),
            topic=topic,
            partition=partition,
            topic_id=topic_id,
            segment_bytes=self.segment_bytes,
            flush_interval_messages=self.flush_interval_messages,
        )
        self._logs[key] = partition_log
        return partition_log

    def delete(self, topic: str, partition: int, topic_id: uuid.UUID) -> None:
        partition_log = self._logs.pop((topic, partition), None)
        if partition_log is not None:
            partition_log.close()
        directory = self.log_dir / partition_dir_name(topic, partition)
        if directory.exists():
            doomed = directory.with_name(f"{directory.name}.{topic_id.hex}{DELETE_SUFFIX}")
            directory.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)

    def flush_all(self) -> None:
        for partition_log in self._logs.values():
            partition_log.flush()

    def close(self) -> None:
        for partition_log in self._logs.values():
            partition_log.close()
        self._logs.clear()
