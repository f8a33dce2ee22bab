"""A bounded pool of open log files: descriptors opened lazily, the idle ones closed.

A partition holds three files per segment (``.log``, ``.index``, ``.timeindex``).
Holding every one open for ever made the number of partitions a broker could hold a
function of ``ulimit -n``: 100,000 partitions ran the broker out of descriptors, and it
could not start again. Now each file is a :class:`PooledFile`, opened when it is used
and closed (least recently used first) when the pool is full, so ``ulimit -n`` bounds
only how many files are open at once (``log.open.files.max``).

Use
    ``with file.use() as fd: os.pread(fd, ...)``: the file is opened if it is not, moved
    to the most recently used end, and *pinned* until the block ends. A pinned file is
    never closed by eviction, so a descriptor is never closed (and its number reused by
    another open) while an ``fdatasync`` on a flusher thread or a ``pread`` on the event
    loop is using it. Nor by :meth:`PooledFile.close`: closing a file another thread is
    using (retention deleting a segment during its fdatasync, or during the cleaner's
    pread) makes new uses EBADF at once and leaves the descriptor open until that use
    ends. When every open file is pinned the pool grows past its capacity for the
    moment rather than fail.

Reopening
    A file is created (``O_CREAT``) only by its first open; a reopen after eviction
    does not create, so a file that vanished underneath the broker is an error
    (``FileNotFoundError``) instead of an empty log.

Thread-safety
    Every method is safe from any thread (one lock per pool, held for the dict
    operations and the ``open``/``close`` calls, never for the I/O done with the
    descriptor). The hot path, a file already open, is a lock, a counter and an
    ``OrderedDict.move_to_end``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import threading
from collections import OrderedDict
from pathlib import Path

UNBOUNDED = 0
"""A capacity of 0: never evict (tests and tools that open a few segments)."""


class PooledFile:
    """One file of a segment; its descriptor exists only while the pool keeps it open."""

    __slots__ = ("_closed", "_created", "_fd", "_flags", "_pins", "_pool", "path")

    def __init__(self, pool: FilePool, path: Path, flags: int) -> None:
        self._pool = pool
        self.path = path
        self._flags = flags
        self._fd: int | None = None
        self._pins = 0
        self._created = False  # once opened, a reopen never creates
        self._closed = False  # closed for good: a use is EBADF, as on a closed descriptor
        with self.use():  # create it now, as the unpooled code did, and fail here if we cannot
            pass

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def use(self) -> PooledFile:
        """``with file.use() as fd``: the open descriptor, pinned for the block. (The file
        is its own context manager: a generator-based one cost 1.3 us a use.)"""
        return self

    def __enter__(self) -> int:
        return self._pool._acquire(self)

    def __exit__(self, *exc: object) -> None:
        self._pool._release(self)

    def close(self) -> None:
        """Close the descriptor for good (the segment is closed or deleted)."""
        self._pool._forget(self)


class FilePool:
    def __init__(self, capacity: int = UNBOUNDED) -> None:
        self.capacity = capacity
        self._open: OrderedDict[PooledFile, None] = OrderedDict()
        self._lock = threading.Lock()
        self.opens = 0
        """Descriptors opened so far (first opens and reopens): tests and metrics."""
        self.evictions = 0

    def file(self, path: Path, *, append: bool = True) -> PooledFile:
        """A pooled file at ``path``, created if missing (read-write, O_APPEND)."""
        flags = os.O_RDWR | (os.O_APPEND if append else 0)
        return PooledFile(self, path, flags)

    @property
    def open_count(self) -> int:
        return len(self._open)

    def _acquire(self, file: PooledFile) -> int:
        with self._lock:
            if file._closed:  # even while another thread's use still holds it open
                raise OSError(errno.EBADF, f"{file.path} was closed")
            file._pins += 1
            fd = file._fd
            if fd is None:
                try:
                    self._make_room()
                    flags = file._flags | (0 if file._created else os.O_CREAT)
                    fd = os.open(file.path, flags, 0o644)
                except BaseException:
                    file._pins -= 1
                    raise
                file._fd = fd
                file._created = True
                self.opens += 1
                self._open[file] = None
            else:
                self._open.move_to_end(file)
            return fd

    def _release(self, file: PooledFile) -> None:
        with self._lock:
            file._pins -= 1
            if file._closed and not file._pins and file._fd is not None:
                os.close(file._fd)  # the close deferred by _forget
                file._fd = None
            elif self.capacity and len(self._open) > self.capacity:
                self._make_room()  # back under capacity once pins are released

    def _make_room(self) -> None:
        """Close least recently used, unpinned files until one more fits (lock held)."""
        if not self.capacity:
            return
        while len(self._open) >= self.capacity:
            victim = next((f for f in self._open if f._pins == 0), None)
            if victim is None:
                return  # everything open is in use: exceed the capacity for now
            del self._open[victim]
            assert victim._fd is not None
            os.close(victim._fd)
            victim._fd = None
            self.evictions += 1

    def _forget(self, file: PooledFile) -> None:
        """Close for good. A file pinned by a use on another thread keeps its descriptor
        until that use ends (the last release closes it): closed now, its number could
        go to the next open and that thread would sync or read another file. New uses
        are EBADF at once."""
        with self._lock:
            self._open.pop(file, None)
            file._closed = True
            if file._fd is not None and not file._pins:
                os.close(file._fd)
                file._fd = None


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (as Kafka's packaging advises) when
    allowed; the (soft, hard) limits in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def default_capacity(soft_limit: int) -> int:
    """Half the descriptors for log files; the other half for connections, sockets of
    the group coordinator's clients, metadata and the runtime."""
    return max(soft_limit // 2, 16)
