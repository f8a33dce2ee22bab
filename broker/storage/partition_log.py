"""A partition's log: an ordered list of segments with offsets assigned by the broker.

On-disk format
    Directory ``<log.dirs>/<topic>-<partition>/`` holding ``partition.metadata`` (Kafka's
    ``version: 0`` / ``topic_id: <base64 uuid>``) and segment files named by their
    zero-padded base offset (:mod:`broker.storage.segment`). A new segment is rolled when
    the active one would grow past ``segment.bytes``.

Offsets
    ``log_start_offset`` is the first offset still stored; ``log_end_offset`` the offset
    the next record gets. With a single replica the high watermark equals the log end
    offset once a write returns.

Crash policy
    Each segment truncates its own torn tail on open. If a segment had to be truncated,
    later segments cannot be contiguous with it and are deleted. Appends that fail
    (full disk) leave the log as it was before the append and raise KAFKA_STORAGE_ERROR.

Thread-safety
    None: owned by the broker's event loop.
"""

from __future__ import annotations

import base64
import logging
import os
import uuid
from pathlib import Path

from broker.errors import BrokerError, ErrorCode
from broker.protocol import records
from broker.storage.segment import SUFFIX, Segment, segment_name

log = logging.getLogger(__name__)

PARTITION_METADATA = "partition.metadata"


def partition_dir_name(topic: str, partition: int) -> str:
    return f"{topic}-{partition}"


class PartitionLog:
    def __init__(
        self,
        directory: Path,
        *,
        topic: str,
        partition: int,
        topic_id: uuid.UUID,
        segment_bytes: int,
        flush_interval_messages: int,
    ) -> None:
        self.directory = directory
        self.topic = topic
        self.partition = partition
        self.topic_id = topic_id
        self.segment_bytes = segment_bytes
        self.flush_interval_messages = flush_interval_messages
        self._unflushed_messages = 0
        directory.mkdir(parents=True, exist_ok=True)
        self._write_partition_metadata()
        self.segments: list[Segment] = self._open_segments()

    # -- opening ------------------------------------------------------------------
    def _write_partition_metadata(self) -> None:
        path = self.directory / PARTITION_METADATA
        encoded = base64.urlsafe_b64encode(self.topic_id.bytes).decode().rstrip("=")
        text = f"version: 0\ntopic_id: {encoded}\n"
        if not path.exists() or path.read_text() != text:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            os.replace(tmp, path)

    def _open_segments(self) -> list[Segment]:
        bases = sorted(
            int(p.name[: -len(SUFFIX)])
            for p in self.directory.iterdir()
            if p.name.endswith(SUFFIX) and p.name[: -len(SUFFIX)].isdigit()
        )
        segments: list[Segment] = []
        for index, base in enumerate(bases):
            segment = Segment(self.directory / segment_name(base), base)
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
                    path = self.directory / segment_name(later)
                    log.warning(
                        "%s-%d: deleting %s after a truncated segment",
                        self.topic,
                        self.partition,
                        path.name,
                    )
                    path.unlink()
                break
        if not segments:
            segments.append(Segment(self.directory / segment_name(0), 0))
        return segments

    # -- offsets ------------------------------------------------------------------
    @property
    def log_start_offset(self) -> int:
        return self.segments[0].base_offset

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
    def append(self, data: bytes, headers: list[records.BatchHeader], *, leader_epoch: int) -> int:
        """Assign offsets to validated batches and append them; returns the base offset."""
        base_offset = self.log_end_offset
        buffer, _next = records.assign_offsets(data, headers, base_offset, leader_epoch)
        active = self.segments[-1]
        if active.size and active.size + len(buffer) > self.segment_bytes:
            active = self._roll(base_offset)
        try:
            active.append(buffer, headers)
        except OSError as exc:
            log.error("%s-%d: append failed, log unchanged: %s", self.topic, self.partition, exc)
            raise BrokerError(ErrorCode.kafka_storage_error, f"write failed: {exc}") from exc
        self._unflushed_messages += sum(h.record_count for h in headers)
        if self._unflushed_messages >= self.flush_interval_messages:
            self.flush()
        return base_offset

    def _roll(self, base_offset: int) -> Segment:
        segment = Segment(self.directory / segment_name(base_offset), base_offset)
        self.segments.append(segment)
        return segment

    def flush(self) -> None:
        self.segments[-1].flush()
        self._unflushed_messages = 0

    # -- reads --------------------------------------------------------------------
    def read(self, offset: int, max_bytes: int) -> bytes:
        """Whole batches from the one holding ``offset``; raises OFFSET_OUT_OF_RANGE."""
        if offset < self.log_start_offset or offset > self.log_end_offset:
            raise BrokerError(
                ErrorCode.offset_out_of_range,
                f"offset {offset} outside {self.log_start_offset}..{self.log_end_offset}",
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

    def offset_for_timestamp(self, timestamp: int) -> int | None:
        """First offset of the first batch with a timestamp at or after ``timestamp``."""
        for segment in self.segments:
            found = segment.offset_for_timestamp(timestamp)
            if found is not None:
                return max(found, self.log_start_offset)
        return None

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
