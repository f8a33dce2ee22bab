"""One log segment: a file of whole RecordBatch v2 batches, plus its sparse indexes.

On-disk format
    ``<base_offset:020d>.log`` in the partition directory: the batches exactly as clients
    sent them except for base_offset and partition_leader_epoch, which the broker
    assigned (see :mod:`broker.protocol.records`). No other framing. Beside it
    ``.index`` and ``.timeindex`` (:mod:`broker.storage.index`), one entry per
    ``index.interval.bytes`` of batches.

Memory and descriptors
    A segment holds three pooled files (:mod:`broker.storage.file_pool`: opened when
    used, closed when idle and the pool is full) and a few integers, never the batch
    list, so memory
    stays flat however large the log grows. Lookups binary-search the index file, then
    walk batch headers (at most about ``index.interval.bytes``) with ``pread``.

Crash policy
    ``recover=True`` (after an unclean shutdown, for the active segment, or when an index
    is missing or insane) scans the whole file: the first batch that is incomplete, has
    an impossible length or fails its CRC-32C, and everything after it, is truncated
    away (a torn tail from a crash mid-write), and both indexes are rebuilt. Otherwise
    the indexes are trusted and only the tail after the last index entry is walked. A
    failed write (e.g. ENOSPC) truncates the file back to its size before the write, so
    the log never holds a partial batch, and raises ``OSError`` to the caller.

Thread-safety
    None: one event loop owns a segment (the file pool it uses is thread-safe, and every
    use of a descriptor pins it, so eviction never closes one in use). Reads use
    ``pread`` and never move the file
    position; appends use ``O_APPEND``. ``flush`` of a segment that no longer takes
    appends, and ``flush_data`` of any segment, may run on another thread (an append
    meanwhile is covered by the next ``flush_data``: :attr:`unsynced` stays true).
"""

from __future__ import annotations

import os
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from broker.protocol import records
from broker.storage.file_pool import FilePool, PooledFile
from broker.storage.index import OffsetIndex, TimeIndex

SUFFIX = ".log"
CLEANED_SUFFIX = ".cleaned"  # a compacted rewrite not yet swapped in (log cleaner)
INDEX_SUFFIX = ".index"
TIME_INDEX_SUFFIX = ".timeindex"

_PEEK = struct.Struct(">qi")  # base_offset, batch_length
_LAST_DELTA = struct.Struct(">i")
_MAX_TIMESTAMP = struct.Struct(">q")
_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 16


def sync_directory(directory: Path) -> None:
    """fsync a directory, so the names of files just created in it survive a power
    loss (an fdatasync of a file does not persist its directory entry)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def segment_name(base_offset: int) -> str:
    return f"{base_offset:020d}{SUFFIX}"


@dataclass(frozen=True, slots=True)
class AppendedBatch:
    """Where one batch of an append landed: position within the appended buffer."""

    position: int
    size: int
    base_offset: int
    last_offset: int
    max_timestamp: int


@dataclass(frozen=True, slots=True)
class BatchLocation:
    position: int
    size: int
    base_offset: int
    last_offset: int
    max_timestamp: int


class _Pin:
    """``with segment._pin:`` holds the log file's descriptor for a whole operation
    (reentrant), so a read that walks many batch headers touches the pool once.
    Event loop only; other threads use the pooled file directly."""

    __slots__ = ("_depth", "_segment", "owner")

    def __init__(self, segment: Segment) -> None:
        self._segment = segment
        self._depth = 0
        self.owner = 0  # the thread holding the pin: only it may use the pinned descriptor

    def __enter__(self) -> None:
        if self._depth == 0:
            segment = self._segment
            segment._pinned_fd = segment._log.__enter__()
            self.owner = threading.get_ident()
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            segment = self._segment
            segment._pinned_fd = None
            self.owner = 0
            segment._log.__exit__()


class Segment:
    def __init__(
        self,
        directory: Path,
        base_offset: int,
        *,
        index_interval_bytes: int,
        recover: bool,
        files: FilePool | None = None,
    ) -> None:
        self.path = directory / segment_name(base_offset)
        self.base_offset = base_offset
        self.index_interval_bytes = index_interval_bytes
        files = files if files is not None else FilePool()
        self._log = files.file(self.path)
        self._pinned_fd: int | None = None
        self._pin = _Pin(self)  # one pool round trip per read, not one per batch header
        opened: list[PooledFile | OffsetIndex | TimeIndex] = [self._log]
        try:  # a failure opening (EMFILE, EIO, ...) leaves no file in the pool
            self.offset_index = OffsetIndex(self.path.with_suffix(INDEX_SUFFIX), files)
            opened.append(self.offset_index)
            self.time_index = TimeIndex(self.path.with_suffix(TIME_INDEX_SUFFIX), files)
            opened.append(self.time_index)
            self._open(index_interval_bytes, recover)
        except BaseException:
            for file in opened:
                file.close()
            raise

    def _open(self, index_interval_bytes: int, recover: bool) -> None:
        base_offset = self.base_offset
        self.size = self._stat().st_size
        self.next_offset = base_offset
        self.max_timestamp = -1
        self.max_timestamp_batch_offset = -1  # base offset of the batch holding max_timestamp
        self.first_batch_timestamp: int | None = None
        self._bytes_since_index_entry = 0
        self._read_hint: tuple[int, int] | None = None  # (offset, position) after last read
        self.truncated_bytes = 0
        self.created_ms = (
            int(self._stat().st_mtime * 1000) if self.size else int(time.time() * 1000)
        )
        unindexed = self.offset_index.entries == 0 and self.size > 2 * index_interval_bytes
        if recover or unindexed or not self.offset_index.sane_for(self.size):
            self.truncated_bytes = self._rebuild()
        else:
            self._open_tail()
        # Size when the last completed fdatasync began. What a segment holds when opened
        # counts as synced: acknowledged durable writes were synced before their answer,
        # and the next append's fdatasync covers the whole file anyway.
        self._synced_size = self.size

    # -- the log file (pooled: see broker.storage.file_pool) ------------------------
    def _pread(self, size: int, position: int) -> bytes:
        fd = self._pinned_fd
        if fd is not None and self._pin.owner == threading.get_ident():
            return os.pread(fd, size, position)  # inside an operation that pinned it once
        with self._log.use() as fd:
            return os.pread(fd, size, position)

    def _truncate(self, size: int) -> None:
        with self._log.use() as fd:
            os.ftruncate(fd, size)

    def _stat(self) -> os.stat_result:
        with self._log.use() as fd:
            return os.fstat(fd)

    # -- opening ------------------------------------------------------------------
    def _rebuild(self) -> int:
        """Scan every batch, CRC-check it, rebuild both indexes, truncate a torn tail."""
        self.offset_index.reset()
        self.time_index.reset()
        self._bytes_since_index_entry = 0
        file_size = self.size
        position = 0
        while position < file_size:
            head = self._pread(records.HEADER_SIZE, position)
            size = records.batch_size_at(head, 0)
            if (
                len(head) < records.HEADER_SIZE
                or size is None
                or size < records.HEADER_SIZE
                or position + size > file_size
            ):
                break
            batch = self._pread(size, position)
            header = records.read_header(batch, 0)
            if header.magic != records.MAGIC_V2 or not records.crc_ok(batch, header):
                break
            self._track(
                position, size, header.base_offset, header.last_offset, header.max_timestamp
            )
            position += size
        if position < file_size:
            self._truncate(position)
        self.size = position
        return file_size - position

    def _open_tail(self) -> None:
        """Trust the indexes; walk the batches after the last index entry to find the
        segment's next offset and max timestamp. Bytes after the last whole batch are
        truncated even here, so an append can never follow garbage."""
        _relative, position = self.offset_index.last or (0, 0)
        self.max_timestamp = self.time_index.max_timestamp
        if self.time_index.last is not None:
            self.max_timestamp_batch_offset = self.base_offset + self.time_index.last[1]
        first = self._peek(0) if self.size else None
        if first is not None:
            self.first_batch_timestamp = first.max_timestamp
        end = position
        for location in self._walk(position):
            self.next_offset = location.last_offset + 1
            if location.max_timestamp > self.max_timestamp:
                self.max_timestamp = location.max_timestamp
                self.max_timestamp_batch_offset = location.base_offset
            self._bytes_since_index_entry += location.size
            end = location.position + location.size
        if end < self.size:
            self._truncate(end)
            self.truncated_bytes = self.size - end
            self.size = end

    # -- batch headers ------------------------------------------------------------
    def _peek(self, position: int) -> BatchLocation | None:
        head = self._pread(records.HEADER_SIZE, position)
        if len(head) < records.HEADER_SIZE:
            return None
        base_offset, length = _PEEK.unpack_from(head, 0)
        (delta,) = _LAST_DELTA.unpack_from(head, 23)
        (max_timestamp,) = _MAX_TIMESTAMP.unpack_from(head, 35)
        return BatchLocation(
            position, records.LOG_OVERHEAD + length, base_offset, base_offset + delta, max_timestamp
        )

    def _walk(self, position: int) -> Iterator[BatchLocation]:
        """Whole-batch locations from ``position`` to the end of the file."""
        while position < self.size:
            location = self._peek(position)
            if (
                location is None
                or location.size < records.HEADER_SIZE
                or position + location.size > self.size
            ):
                return
            yield location
            position += location.size

    def _track(
        self, position: int, size: int, base_offset: int, last_offset: int, max_timestamp: int
    ) -> None:
        """Account for a batch now at ``position``: indexes, next offset, timestamps."""
        if self.first_batch_timestamp is None:
            self.first_batch_timestamp = max_timestamp
        if self._bytes_since_index_entry >= self.index_interval_bytes:
            self.offset_index.append(base_offset - self.base_offset, position)
            if (
                max_timestamp > self.time_index.max_timestamp
                and max_timestamp >= self.max_timestamp
            ):
                self.time_index.append(max_timestamp, base_offset - self.base_offset)
            self._bytes_since_index_entry = 0
        self._bytes_since_index_entry += size
        self.next_offset = last_offset + 1
        if max_timestamp > self.max_timestamp:
            self.max_timestamp = max_timestamp
            self.max_timestamp_batch_offset = base_offset

    @property
    def largest_timestamp(self) -> int:
        """Newest record timestamp, or the file's age when no record carries one (Kafka's
        rule for time-based retention)."""
        if self.max_timestamp >= 0:
            return self.max_timestamp
        return int(self._stat().st_mtime * 1000)

    # -- writes -------------------------------------------------------------------
    def append(
        self, parts: Sequence[bytes | bytearray | memoryview], batches: list[AppendedBatch]
    ) -> None:
        """Append batches whose offsets are already assigned, given as consecutive
        buffers (one ``writev``, so the records are not joined in memory first)."""
        start = self.size
        size = sum(len(part) for part in parts)
        try:
            with self._log.use() as fd:
                if len(parts) <= _IOV_MAX:
                    written = os.writev(fd, parts)
                else:
                    written = os.write(fd, b"".join(parts))
            if written != size:
                raise OSError(f"short write: {written} of {size} bytes")
        except OSError:
            self._truncate(start)
            raise
        self.size = start + size
        for batch in batches:
            self._track(
                start + batch.position,
                batch.size,
                batch.base_offset,
                batch.last_offset,
                batch.max_timestamp,
            )

    def seal(self) -> None:
        """Called when the segment stops taking appends: record its max timestamp (and
        the batch holding it) in the time index, so retention, MAX_TIMESTAMP and time
        lookups never need to scan it."""
        if (
            self.max_timestamp > self.time_index.max_timestamp
            and self.max_timestamp_batch_offset >= 0
        ):
            self.time_index.append(
                self.max_timestamp, self.max_timestamp_batch_offset - self.base_offset
            )

    @property
    def unsynced(self) -> bool:
        """Does the log file hold bytes that no completed fdatasync has covered?"""
        return self.size != self._synced_size

    def flush_data(self) -> None:
        """fdatasync the log file only: what acknowledged durability needs (the indexes
        are derived data, rebuilt from the log after a crash)."""
        size = self.size  # every byte appended before the fdatasync starts is covered
        with self._log.use() as fd:
            os.fdatasync(fd)
        if size > self._synced_size:
            self._synced_size = size

    def flush(self) -> None:
        self.flush_data()
        self.offset_index.flush()
        self.time_index.flush()

    # -- reads --------------------------------------------------------------------
    def locate(self, offset: int) -> BatchLocation | None:
        """The batch holding ``offset`` (or the first one after it)."""
        with self._pin:
            if offset >= self.next_offset:
                return None
            hint = self._read_hint
            if hint is not None and hint[0] == offset:
                position = hint[1]
            else:
                _relative, position = self.offset_index.lookup(max(offset - self.base_offset, 0))
            for location in self._walk(position):
                if location.last_offset >= offset:
                    return location
            return None

    def read(self, offset: int, max_bytes: int) -> bytes | memoryview:
        """Whole batches starting with the one containing ``offset``: as many as fit in
        ``max_bytes``, but always at least one (so a consumer can progress). One
        ``pread``; a read cut short to whole batches is a view of it, not a copy."""
        with self._pin:
            first = self.locate(offset)
            if first is None:
                return b""
            if first.size >= max_bytes:
                self._read_hint = (first.last_offset + 1, first.position + first.size)
                return self._pread(first.size, first.position)
            chunk = self._pread(min(max_bytes, self.size - first.position), first.position)
            end = 0
            last_offset = first.last_offset
            limit = len(chunk)
            while end + records.LOG_OVERHEAD <= limit:
                base_offset, length = _PEEK.unpack_from(chunk, end)
                size = records.LOG_OVERHEAD + length
                if end + size > limit or end + records.HEADER_SIZE > limit:
                    break
                last_offset = base_offset + _LAST_DELTA.unpack_from(chunk, end + 23)[0]
                end += size
            self._read_hint = (last_offset + 1, first.position + end)
            return memoryview(chunk)[:end] if end < limit else chunk

    def batches_from_timestamp(self, timestamp: int) -> BatchLocation | None:
        """The first batch whose max_timestamp is at or after ``timestamp``."""
        with self._pin:
            if self.max_timestamp < timestamp:
                return None
            relative = self.time_index.lookup(timestamp)
            _r, position = self.offset_index.lookup(relative) if relative is not None else (0, 0)
            for location in self._walk(position):
                if location.max_timestamp >= timestamp:
                    return location
            return None

    def headers_from(self, offset: int) -> Iterator[records.BatchHeader]:
        """Full batch headers of the batches holding ``offset`` and after (producer state
        replay reads producer IDs and sequences from these; no record is decoded)."""
        first = self.locate(offset)
        if first is None:
            return
        for location in self._walk(first.position):
            yield records.read_header(self._pread(records.HEADER_SIZE, location.position), 0)

    def next_batch_from_timestamp(
        self, after: BatchLocation, timestamp: int
    ) -> BatchLocation | None:
        """The next batch after ``after`` whose max_timestamp is at or after ``timestamp``."""
        with self._pin:
            for location in self._walk(after.position + after.size):
                if location.max_timestamp >= timestamp:
                    return location
            return None

    def read_batch(self, location: BatchLocation) -> bytes:
        return self._pread(location.size, location.position)

    def iter_batches(self) -> Iterator[BatchLocation]:
        """Every batch location in file order (for the log cleaner and tools)."""
        return self._walk(0)

    # -- lifecycle ----------------------------------------------------------------
    def close(self) -> None:
        self._log.close()
        self.offset_index.close()
        self.time_index.close()

    def delete(self) -> None:
        self.close()
        for path in (self.path, self.offset_index.path, self.time_index.path):
            path.unlink(missing_ok=True)
