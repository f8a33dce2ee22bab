"""One log segment: a file of whole RecordBatch v2 batches, back to back.

On-disk format
    ``<base_offset:020d>.log`` in the partition directory; the file holds the batches
    exactly as clients sent them except for base_offset and partition_leader_epoch,
    which the broker assigned (see :mod:`broker.protocol.records`). No other framing.

Index
    Kept in memory per batch: last offset, file position and max timestamp (24 bytes a
    batch, in ``array('q')``), rebuilt by scanning the file when the segment is opened.
    (A sparse on-disk offset/time index is the storage issue's work.)

Crash policy
    On open, batches are scanned from the start; the first batch that is incomplete,
    has an impossible length or fails its CRC-32C, and everything after it, is
    truncated away (a torn tail from a crash mid-write). A failed write (e.g. ENOSPC)
    truncates the file back to its size before the write, so the log is never left
    with a partial batch, and raises ``OSError`` to the caller.

Thread-safety
    None: one event loop owns a segment. Reads use ``pread`` and do not move the file
    position; appends use ``O_APPEND``.
"""

from __future__ import annotations

import os
from array import array
from bisect import bisect_left, bisect_right
from pathlib import Path

from broker.protocol import records

SUFFIX = ".log"
_SCAN_CHUNK = 1 << 20


def segment_name(base_offset: int) -> str:
    return f"{base_offset:020d}{SUFFIX}"


class Segment:
    def __init__(self, path: Path, base_offset: int) -> None:
        self.path = path
        self.base_offset = base_offset
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._last_offsets = array("q")
        self._positions = array("q")
        self._max_timestamps = array("q")
        self.size = 0
        self.truncated_bytes = self._recover()

    # -- recovery -----------------------------------------------------------------
    def _recover(self) -> int:
        """Scan the file, index whole valid batches, truncate a torn tail. Returns the
        number of bytes truncated."""
        file_size = os.fstat(self._fd).st_size
        position = 0
        while position < file_size:
            head = os.pread(self._fd, records.HEADER_SIZE, position)
            size = records.batch_size_at(head, 0)
            if (
                len(head) < records.HEADER_SIZE
                or size is None
                or size < records.HEADER_SIZE
                or position + size > file_size
            ):
                break
            batch = os.pread(self._fd, size, position)
            header = records.read_header(batch, 0)
            if header.magic != records.MAGIC_V2 or not records.crc_ok(batch, header):
                break
            self._index(header.last_offset, position, header.max_timestamp)
            position += size
        if position < file_size:
            os.ftruncate(self._fd, position)
        self.size = position
        return file_size - position

    def _index(self, last_offset: int, position: int, max_timestamp: int) -> None:
        self._last_offsets.append(last_offset)
        self._positions.append(position)
        self._max_timestamps.append(max_timestamp)

    # -- state --------------------------------------------------------------------
    @property
    def next_offset(self) -> int:
        """Offset after the last record in this segment (base_offset when empty)."""
        return self._last_offsets[-1] + 1 if self._last_offsets else self.base_offset

    @property
    def batch_count(self) -> int:
        return len(self._positions)

    # -- writes -------------------------------------------------------------------
    def append(self, data: bytes | bytearray, headers: list[records.BatchHeader]) -> None:
        """Append batches whose offsets are already assigned. ``headers`` carry positions
        relative to ``data`` and the pre-assignment base offsets; the assigned last offset
        is recomputed from ``data``."""
        start = self.size
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(f"short write: {written} of {len(data)} bytes")
        except OSError:
            os.ftruncate(self._fd, start)
            raise
        for header in headers:
            assigned = records.read_header(data, header.position)
            self._index(assigned.last_offset, start + header.position, assigned.max_timestamp)
        self.size = start + len(data)

    def flush(self) -> None:
        os.fdatasync(self._fd)

    # -- reads --------------------------------------------------------------------
    def read(self, offset: int, max_bytes: int) -> bytes:
        """Whole batches starting with the one containing ``offset``: as many as fit in
        ``max_bytes``, but always at least one (so a consumer can progress)."""
        positions = self._positions
        count = len(positions)
        first = bisect_left(self._last_offsets, offset)
        if first >= count:
            return b""
        start = positions[first]
        limit = start + max(max_bytes, 0)
        fitting = bisect_right(positions, limit)  # batches starting at or before limit
        if fitting >= count and self.size <= limit:
            end = self.size
        elif fitting - 1 > first:
            end = positions[fitting - 1]
        else:
            end = positions[first + 1] if first + 1 < count else self.size
        return os.pread(self._fd, end - start, start)

    def offset_for_timestamp(self, timestamp: int) -> int | None:
        """Base position search: the first batch whose max_timestamp >= ``timestamp``;
        returns that batch's first offset, or None when no batch qualifies."""
        for index, max_timestamp in enumerate(self._max_timestamps):
            if max_timestamp >= timestamp:
                previous_last = self._last_offsets[index - 1] if index else self.base_offset - 1
                return previous_last + 1
        return None

    def close(self) -> None:
        os.close(self._fd)
