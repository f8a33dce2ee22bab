"""All partition logs of one broker, under its ``log.dirs``.

Creates, opens and deletes partition directories; the cluster metadata (which topics
exist, their IDs and partition counts) lives in :mod:`broker.cluster.metadata`, and the
log manager opens the logs that metadata names.

Clean shutdown
    ``.kafka_cleanshutdown`` in the log directory (Kafka's marker) is written after a
    clean close flushed everything, and removed at start-up. Found at start-up, the
    indexes are trusted; missing, every partition's active segment is recovered.

Deletion
    A deleted topic's directories are renamed to ``<topic>-<partition>.<id>-delete``
    first (atomic), then removed, so a crash mid-delete never leaves a half-deleted log
    that looks live; leftovers are removed at start-up.

Thread-safety
    Owned by the event loop. Sealed segments are flushed on a single background thread.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from broker.storage.file_pool import UNBOUNDED, FilePool
from broker.storage.log_config import LogConfig
from broker.storage.partition_log import PartitionLog, partition_dir_name

log = logging.getLogger(__name__)

DELETE_SUFFIX = "-delete"
CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"


class LogManager:
    def __init__(self, log_dir: Path, *, open_files_max: int = UNBOUNDED) -> None:
        self.log_dir = log_dir
        self.files = FilePool(open_files_max)
        """Every segment's files, opened when used and closed when idle (``log.open.files.max``)."""
        self._logs: dict[tuple[str, int], PartitionLog] = {}
        log_dir.mkdir(parents=True, exist_ok=True)
        marker = log_dir / CLEAN_SHUTDOWN_FILE
        has_partitions = any(
            p.is_dir() and p.name != "__cluster_metadata" and not p.name.endswith(DELETE_SUFFIX)
            for p in log_dir.iterdir()
        )
        self.had_clean_shutdown = marker.exists() or not has_partitions
        marker.unlink(missing_ok=True)
        if not self.had_clean_shutdown:
            log.warning("%s: no clean shutdown marker; recovering active segments", log_dir)
        self._flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment-flush")
        self._remove_leftover_deletions()

    def _remove_leftover_deletions(self) -> None:
        for path in self.log_dir.iterdir():
            if path.is_dir() and path.name.endswith(DELETE_SUFFIX):
                shutil.rmtree(path, ignore_errors=True)

    def _in_background(self, work: Callable[[], None]) -> None:
        self._flusher.submit(work)

    def get(self, topic: str, partition: int) -> PartitionLog | None:
        return self._logs.get((topic, partition))

    def __iter__(self) -> Iterator[PartitionLog]:
        return iter(list(self._logs.values()))

    def open(
        self, topic: str, partition: int, topic_id: uuid.UUID, *, log_config: LogConfig
    ) -> PartitionLog:
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
            config=log_config,
            clean_shutdown=self.had_clean_shutdown,
            background=self._in_background,
            files=self.files,
        )
        self._logs[key] = partition_log
        return partition_log

    def delete(self, topic: str, partition: int, topic_id: uuid.UUID) -> None:
        partition_log = self._logs.pop((topic, partition), None)
        if partition_log is not None:
            partition_log.close(snapshot=False)
        directory = self.log_dir / partition_dir_name(topic, partition)
        if directory.exists():
            doomed = directory.with_name(f"{directory.name}.{topic_id.hex}{DELETE_SUFFIX}")
            directory.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)

    def flush_all(self) -> None:
        for partition_log in self._logs.values():
            partition_log.flush()

    def close(self) -> None:
        """Flush everything, close, and mark the shutdown clean."""
        self._flusher.shutdown(wait=True)
        self.flush_all()
        for partition_log in self._logs.values():
            partition_log.close()
        self._logs.clear()
        (self.log_dir / CLEAN_SHUTDOWN_FILE).touch()
