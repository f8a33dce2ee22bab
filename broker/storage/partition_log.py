"""A partition's log: an ordered list of segments with offsets assigned by the broker.

On-disk format
    Directory ``<log.dirs>/<topic>-<partition>/`` holding ``partition.metadata`` (Kafka's
    ``version: 0`` / ``topic_id: <base64 uuid>``), segments named by their zero-padded
    base offset (:mod:`broker.storage.segment`) and, once DeleteRecords moved it inside
    a segment, ``log-start-offset`` (one decimal number, replaced atomically).

Rolling
    A new segment starts when the active one would grow past ``segment.bytes``, or when
    an incoming batch's timestamp is more than ``segment.ms`` after the segment's first
    batch (checked on append, as Kafka does).
    The sealed segment is flushed (data and indexes) off the event loop.

Offsets
    ``log_start_offset`` is the first offset still readable; ``log_end_offset`` the offset
    the next record gets. With a single replica the high watermark equals the log end
    offset once a write returns.

Retention
    ``delete_expired(now_ms)`` removes whole segments whose newest record is older than
    ``retention.ms``, then oldest segments while the log exceeds ``retention.bytes``,
    and segments wholly below a DeleteRecords ``log_start_offset``. The active segment
    is rolled first when it too has expired, so an idle topic does empty out.

Crash policy
    After an unclean shutdown the active segment is recovered (CRC scan, torn tail
    truncated, indexes rebuilt); older segments were flushed when sealed and are
    trusted unless their index is insane. If a segment had to be truncated, later ones
    cannot be contiguous with it and are deleted. Appends that fail (full disk) leave
    the log as it was and raise KAFKA_STORAGE_ERROR.

Thread-safety
    None: owned by the broker's event loop (sealed-segment flushes run on an executor).
"""

from __future__ import annotations

import base64
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from broker.errors import BrokerError, ErrorCode
from broker.protocol import record_codec, records
from broker.storage.file_pool import FilePool
from broker.storage.log_config import LogConfig
from broker.storage.producer_state import ProducerStateManager
from broker.storage.segment import (
    CLEANED_SUFFIX,
    SUFFIX,
    AppendedBatch,
    BatchLocation,
    Segment,
    sync_directory,
)

log = logging.getLogger(__name__)

PARTITION_METADATA = "partition.metadata"
LOG_START_OFFSET_FILE = "log-start-offset"

RunInBackground = Callable[[Callable[[], None]], None]


def partition_dir_name(topic: str, partition: int) -> str:
    return f"{topic}-{partition}"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class PartitionLog:
    def __init__(
        self,
        directory: Path,
        *,
        topic: str,
        partition: int,
        topic_id: uuid.UUID,
        config: LogConfig,
        clean_shutdown: bool = True,
        background: RunInBackground | None = None,
        files: FilePool | None = None,
    ) -> None:
        self.directory = directory
        self.files = files if files is not None else FilePool()
        """The broker's pool of open files (one per LogManager), shared by all segments."""
        self.topic = topic
        self.partition = partition
        self.topic_id = topic_id
        self.config = config
        self._background = background or (lambda work: work())
        self._unflushed_messages = 0
        self.last_flush_ms = _now_ms()
        if not directory.exists():
            directory.mkdir(parents=True)
            sync_directory(directory.parent)  # the partition survives a power loss
        self._write_partition_metadata()
        self.segments: list[Segment] = []
        try:  # a failure half-way leaves no file of this log in the pool
            self._open_segments(clean_shutdown)
            self._log_start_offset = self._load_log_start_offset()
            self.producers = ProducerStateManager(directory)
            self._load_producer_state()
        except BaseException:
            for segment in self.segments:
                segment.close()
            raise

    # -- opening ------------------------------------------------------------------
    def _write_partition_metadata(self) -> None:
        path = self.directory / PARTITION_METADATA
        encoded = base64.urlsafe_b64encode(self.topic_id.bytes).decode().rstrip("=")
        text = f"version: 0\ntopic_id: {encoded}\n"
        if not path.exists() or path.read_text() != text:
            _write_atomically(path, text)

    def _open_segments(self, clean_shutdown: bool) -> None:
        """Open the segments into ``self.segments``, each as it opens (so a failure
        half-way can close those already open)."""
        for leftover in self.directory.glob(f"*{CLEANED_SUFFIX}"):
            leftover.unlink()  # a compaction interrupted before its swap: the old segment stands
        bases = sorted(
            int(p.name[: -len(SUFFIX)])
            for p in self.directory.iterdir()
            if p.name.endswith(SUFFIX) and p.name[: -len(SUFFIX)].isdigit()
        )
        segments = self.segments
        for index, base in enumerate(bases):
            is_active = index == len(bases) - 1
            segment = Segment(
                self.directory,
                base,
                index_interval_bytes=self.config.index_interval_bytes,
                recover=is_active and not clean_shutdown,
                files=self.files,
            )
            segments.append(segment)
            if segment.truncated_bytes:
                log.warning(
                    "%s-%d: truncated %d bytes of torn or corrupt data from %s",
                    self.topic,
                    self.partition,
                    segment.truncated_bytes,
                    segment.path.name,
                )
                for later in bases[index + 1 :]:
                    doomed = Segment(
                        self.directory, later, index_interval_bytes=1, recover=False,
                        files=self.files,
                    )  # fmt: skip
                    log.warning(
                        "%s-%d: deleting %s after a truncated segment",
                        self.topic,
                        self.partition,
                        doomed.path.name,
                    )
                    doomed.delete()
                break
        if not segments:
            segments.append(self._new_segment(0))

    def _new_segment(self, base_offset: int) -> Segment:
        """A new, empty segment; its name is made durable before anything is appended,
        so an fdatasync of its data later covers an acknowledged write fully."""
        segment = Segment(
            self.directory,
            base_offset,
            index_interval_bytes=self.config.index_interval_bytes,
            recover=True,
            files=self.files,
        )
        sync_directory(self.directory)
        return segment

    def _load_producer_state(self) -> None:
        """Newest snapshot, then replay the idempotent batches written after it."""
        replay_from = max(self.producers.load_snapshot(self.log_end_offset), self.log_start_offset)
        for segment in self._segments_from(replay_from):
            for header in segment.headers_from(max(replay_from, segment.base_offset)):
                if header.producer_id >= 0 and header.base_offset >= replay_from:
                    self.producers.record(
                        header.producer_id,
                        header.producer_epoch,
                        header.base_sequence,
                        header.last_offset_delta,
                        header.base_offset,
                        header.max_timestamp,
                    )

    def _load_log_start_offset(self) -> int:
        path = self.directory / LOG_START_OFFSET_FILE
        stored = int(path.read_text().strip()) if path.exists() else 0
        return max(stored, self.segments[0].base_offset)

    def update_config(self, config: LogConfig) -> None:
        """Apply changed topic settings; they take effect from the next append/check."""
        self.config = config
        for segment in self.segments:
            segment.index_interval_bytes = config.index_interval_bytes

    # -- offsets ------------------------------------------------------------------
    @property
    def log_start_offset(self) -> int:
        return self._log_start_offset

    @property
    def log_end_offset(self) -> int:
        return self.segments[-1].next_offset

    @property
    def high_watermark(self) -> int:
        return self.log_end_offset

    @property
    def size_bytes(self) -> int:
        return sum(segment.size for segment in self.segments)

    # -- writes -------------------------------------------------------------------
    def append(
        self,
        data: bytes | bytearray | memoryview,
        headers: list[records.BatchHeader],
        *,
        leader_epoch: int,
    ) -> int:
        """Assign offsets to validated batches and append them; returns the base offset.

        An idempotent batch (producer_id >= 0) is checked against the producer state
        first: a retried duplicate is not appended again and its original base offset
        is returned."""
        idempotent = [h for h in headers if h.producer_id >= 0]
        if idempotent:
            if len(headers) != 1:
                raise BrokerError(
                    ErrorCode.invalid_record,
                    "Idempotent produce requests must contain exactly one record batch",
                )
            header = headers[0]
            duplicate = self.producers.check(
                header.producer_id,
                header.producer_epoch,
                header.base_sequence,
                header.last_offset_delta,
            )
            if duplicate is not None:
                log.info(
                    "%s-%d: duplicate batch from producer %d (sequence %d) answered with offset %d",
                    self.topic,
                    self.partition,
                    header.producer_id,
                    header.base_sequence,
                    duplicate.first_offset,
                )
                return duplicate.first_offset
        base_offset = self.log_end_offset
        parts, _next = records.assign_offsets(data, headers, base_offset, leader_epoch)
        batches = []
        offset = base_offset
        for header in headers:
            last = offset + header.last_offset_delta
            batches.append(
                AppendedBatch(header.position, header.size, offset, last, header.max_timestamp)
            )
            offset = last + 1
        active = self.segments[-1]
        incoming_timestamp = max(h.max_timestamp for h in headers)
        incoming = sum(header.size for header in headers)
        if self._should_roll(active, incoming, incoming_timestamp):
            active = self._roll()
        try:
            active.append(parts, batches)
        except OSError as exc:
            log.error("%s-%d: append failed, log unchanged: %s", self.topic, self.partition, exc)
            raise BrokerError(ErrorCode.kafka_storage_error, f"write failed: {exc}") from exc
        for header, batch in zip(headers, batches, strict=True):
            if header.producer_id >= 0:
                self.producers.record(
                    header.producer_id,
                    header.producer_epoch,
                    header.base_sequence,
                    header.last_offset_delta,
                    batch.base_offset,
                    header.max_timestamp,
                )
        self._unflushed_messages += offset - base_offset
        if self._unflushed_messages >= self.config.flush_messages:
            self.flush()
        return base_offset

    def _should_roll(self, active: Segment, incoming: int, incoming_timestamp: int) -> bool:
        """Kafka's rule: roll on size, or when the incoming batch's timestamp is more than
        segment.ms (less jitter) after the segment's first batch; without timestamps,
        on the segment's wall-clock age."""
        if not active.size:
            return False
        if active.size + incoming > self.config.segment_bytes:
            return True
        first = active.first_batch_timestamp
        if first is not None and first >= 0 and incoming_timestamp >= 0:
            waited = incoming_timestamp - first
        else:
            waited = _now_ms() - active.created_ms
        return waited > self.config.segment_ms - self.config.segment_jitter_ms

    def _roll(self) -> Segment:
        sealed = self.segments[-1]
        sealed.seal()
        self._background(sealed.flush)
        self.producers.write_snapshot(self.log_end_offset)
        segment = self._new_segment(self.log_end_offset)
        self.segments.append(segment)
        return segment

    def flush(self) -> None:
        """fdatasync the active segment (sealed segments were flushed when sealed)."""
        self.segments[-1].flush()
        self.mark_flushed()

    def unsynced_segments(self) -> list[Segment]:
        """Segments holding bytes no completed fdatasync covers, newest first: the
        active one and any sealed since the last sync. Sealed segments are synced in
        roll order (one background thread), so the walk stops at the newest sealed
        segment already synced."""
        active = self.segments[-1]
        found = []
        for segment in reversed(self.segments):
            if segment.unsynced:
                found.append(segment)
            elif segment is not active:
                break
        return found

    def mark_flushed(self) -> None:
        """Record that everything appended so far is on stable storage."""
        self._unflushed_messages = 0
        self.last_flush_ms = _now_ms()

    @property
    def dirty(self) -> bool:
        return self._unflushed_messages > 0

    # -- retention ----------------------------------------------------------------
    def delete_records(self, offset: int) -> int:
        """DeleteRecords: make ``offset`` the new log start (-1 means the high watermark).
        Returns the new log_start_offset."""
        target = self.high_watermark if offset == -1 else offset
        if target < 0 or target > self.high_watermark:
            raise BrokerError(
                ErrorCode.offset_out_of_range,
                f"offset {offset} is not within {self._log_start_offset}..{self.high_watermark}",
            )
        if target > self._log_start_offset:
            self._log_start_offset = target
            _write_atomically(self.directory / LOG_START_OFFSET_FILE, f"{target}\n")
            self._delete_segments_below_start()
        return self._log_start_offset

    def _delete_segments_below_start(self) -> int:
        deleted = 0
        while len(self.segments) > 1 and self.segments[1].base_offset <= self._log_start_offset:
            self.segments.pop(0).delete()
            deleted += 1
        if deleted:
            self.producers.truncate_snapshots_below(self._log_start_offset)
        return deleted

    def delete_expired(self, now_ms: int | None = None) -> int:
        """Apply retention.ms / retention.bytes; returns the number of segments deleted."""
        now = _now_ms() if now_ms is None else now_ms
        config = self.config
        if not config.delete:
            return self._delete_segments_below_start()
        deleted = 0
        if config.retention_ms >= 0:
            active = self.segments[-1]
            if active.size and now - active.largest_timestamp > config.retention_ms:
                self._roll()
            while (
                len(self.segments) > 1
                and now - self.segments[0].largest_timestamp > config.retention_ms
            ):
                self._drop_oldest()
                deleted += 1
        if config.retention_bytes >= 0:
            while (
                len(self.segments) > 1
                and self.size_bytes - self.segments[0].size >= config.retention_bytes
            ):
                self._drop_oldest()
                deleted += 1
        return deleted + self._delete_segments_below_start()

    def _drop_oldest(self) -> None:
        segment = self.segments.pop(0)
        segment.delete()
        if self.segments[0].base_offset > self._log_start_offset:
            self._log_start_offset = self.segments[0].base_offset
        log.info("%s-%d: retention deleted %s", self.topic, self.partition, segment.path.name)

    # -- reads --------------------------------------------------------------------
    def read(self, offset: int, max_bytes: int) -> bytes | memoryview:
        """Whole batches from the one holding ``offset``; raises OFFSET_OUT_OF_RANGE."""
        if offset < self._log_start_offset or offset > self.log_end_offset:
            raise BrokerError(
                ErrorCode.offset_out_of_range,
                f"offset {offset} outside {self._log_start_offset}..{self.log_end_offset}",
            )
        for segment in self._segments_from(offset):
            data = segment.read(offset, max_bytes)
            if data:
                return data
        return b""

    def _segments_from(self, offset: int) -> list[Segment]:
        for index in range(len(self.segments) - 1, -1, -1):
            if self.segments[index].base_offset <= offset:
                return self.segments[index:]
        return self.segments

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """ListOffsets by time: (offset, timestamp) of the first record, in offset order,
        whose timestamp is at or after ``timestamp``; None when there is none. The time
        index narrows the search to one batch, which is then decoded."""
        for segment in self.segments:
            location = segment.batches_from_timestamp(timestamp)
            while location is not None:
                found = self._first_record_at_or_after(segment, location, timestamp)
                if found is not None and found[0] >= self._log_start_offset:
                    return found
                location = segment.next_batch_from_timestamp(location, timestamp)
        return None

    def offset_of_max_timestamp(self) -> tuple[int, int] | None:
        """ListOffsets MAX_TIMESTAMP (-3): the record with the newest timestamp."""
        candidates = [
            s for s in self.segments if s.max_timestamp_batch_offset >= self._log_start_offset
        ]
        if not candidates:
            return None
        segment = max(candidates, key=lambda s: s.max_timestamp)
        location = segment.locate(segment.max_timestamp_batch_offset)
        if location is None:
            return None
        return self._first_record_at_or_after(segment, location, segment.max_timestamp)

    def _first_record_at_or_after(
        self, segment: Segment, location: BatchLocation, timestamp: int
    ) -> tuple[int, int] | None:
        data = segment.read_batch(location)
        try:
            batch = record_codec.decode_batch(data)
        except BrokerError as exc:
            # A batch stored before produce validated every record (or damaged on
            # disk): answer from its header, as a batch-granular time index would,
            # rather than fail every lookup that reaches it.
            header = records.read_header(data, 0)
            log.warning(
                "%s-%d: batch at offset %d cannot be decoded (%s); timestamp lookup answers "
                "from its header",
                self.topic,
                self.partition,
                header.base_offset,
                exc,
            )
            if header.max_timestamp >= timestamp and header.last_offset >= self._log_start_offset:
                return max(header.base_offset, self._log_start_offset), header.max_timestamp
            return None
        for record in batch.records:
            record_timestamp = batch.timestamp(record)
            offset = batch.offset(record)
            if record_timestamp >= timestamp and offset >= self._log_start_offset:
                return offset, record_timestamp
        return None

    def close(self, *, snapshot: bool = True) -> None:
        """Close the files; a clean close also snapshots producer state at the log end."""
        if snapshot:
            self.producers.write_snapshot(self.log_end_offset)
        for segment in self.segments:
            segment.close()
