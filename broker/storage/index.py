"""Sparse per-segment indexes: offset -> file position, and timestamp -> offset.

On-disk format (big-endian, append-only, no header)
    ``<base_offset:020d>.index``: 8-byte entries ``relative_offset u32, position u32``;
    relative_offset is a batch's base offset minus the segment's base offset, position
    where that batch starts in the ``.log`` file. Strictly increasing in both fields.
    ``<base_offset:020d>.timeindex``: 12-byte entries ``timestamp i64, relative_offset u32``;
    timestamp is the largest timestamp seen in the segment up to and including the batch
    starting at relative_offset. Strictly increasing timestamps.

Sparseness
    The segment adds an entry once at least ``index.interval.bytes`` of batches were
    written since the previous entry, so a lookup scans at most about that many bytes of
    the log. Entries are not kept in Python memory: lookups binary-search the file with
    ``pread`` (about log2(n) small reads), so memory stays flat as the log grows.

Crash policy
    Indexes are derived data. A segment whose index file is missing, not a whole number
    of entries, or points past the end of its log is rebuilt from the log; after an
    unclean shutdown the active segment's indexes are always rebuilt.

Thread-safety
    None: owned by the segment (the event loop). The file is pooled
    (:mod:`broker.storage.file_pool`): opened when used, closed when idle.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from broker.storage.file_pool import FilePool

_OFFSET_ENTRY = struct.Struct(">II")
_TIME_ENTRY = struct.Struct(">qI")


class _IndexFile:
    entry: struct.Struct

    def __init__(self, path: Path, files: FilePool | None = None) -> None:
        self.path = path
        self._file = (files if files is not None else FilePool()).file(path)
        with self._file.use() as fd:
            size = os.fstat(fd).st_size
        self.valid_size = size - size % self.entry.size
        self.entries = self.valid_size // self.entry.size
        self.last: tuple[int, int] | None = self._read(self.entries - 1) if self.entries else None

    def _read(self, index: int) -> tuple[int, int]:
        with self._file.use() as fd:
            data = os.pread(fd, self.entry.size, index * self.entry.size)
        return self.entry.unpack(data)  # type: ignore[return-value]

    def _append(self, a: int, b: int) -> None:
        with self._file.use() as fd:
            os.write(fd, self.entry.pack(a, b))
        self.entries += 1
        self.last = (a, b)

    def truncate_entries(self, count: int) -> None:
        with self._file.use() as fd:
            os.ftruncate(fd, count * self.entry.size)
        self.entries = count
        self.valid_size = count * self.entry.size
        self.last = self._read(count - 1) if count else None

    def reset(self) -> None:
        self.truncate_entries(0)

    def flush(self) -> None:
        with self._file.use() as fd:
            os.fdatasync(fd)

    def close(self) -> None:
        self._file.close()

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def _floor(self, key: int, field: int) -> int:
        """Index of the last entry whose ``field`` <= key, or -1."""
        lo, hi = 0, self.entries - 1
        found = -1
        if hi < 0:
            return found
        size, unpack = self.entry.size, self.entry.unpack
        with self._file.use() as fd:  # one pool round trip for the whole search
            while lo <= hi:
                mid = (lo + hi) // 2
                if unpack(os.pread(fd, size, mid * size))[field] <= key:
                    found = mid
                    lo = mid + 1
                else:
                    hi = mid - 1
        return found


class OffsetIndex(_IndexFile):
    entry = _OFFSET_ENTRY

    def append(self, relative_offset: int, position: int) -> None:
        self._append(relative_offset, position)

    def lookup(self, relative_offset: int) -> tuple[int, int]:
        """The last entry at or below ``relative_offset``: (relative_offset, position);
        (0, 0) when the target precedes every entry."""
        found = self._floor(relative_offset, 0)
        return self._read(found) if found >= 0 else (0, 0)

    def sane_for(self, log_size: int) -> bool:
        return self.last is None or self.last[1] < log_size

    def truncate_to_position(self, log_size: int) -> None:
        """Drop entries pointing at or past ``log_size`` (after the log was truncated)."""
        keep = self.entries
        while keep and self._read(keep - 1)[1] >= log_size:
            keep -= 1
        if keep != self.entries:
            self.truncate_entries(keep)


class TimeIndex(_IndexFile):
    entry = _TIME_ENTRY

    def append(self, timestamp: int, relative_offset: int) -> None:
        self._append(timestamp, relative_offset)

    def lookup(self, timestamp: int) -> int | None:
        """Relative offset of the last entry whose timestamp is below ``timestamp``: every
        record up to that batch is older, so a search may start there. None if no entry
        is below it (search from the segment's start)."""
        found = self._floor(timestamp - 1, 0)
        return self._read(found)[1] if found >= 0 else None

    @property
    def max_timestamp(self) -> int:
        return self.last[0] if self.last else -1

    def truncate_to_offset(self, relative_offset_end: int) -> None:
        """Drop entries at or past ``relative_offset_end``."""
        keep = self.entries
        while keep and self._read(keep - 1)[1] >= relative_offset_end:
            keep -= 1
        if keep != self.entries:
            self.truncate_entries(keep)
