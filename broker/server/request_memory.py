"""``queued.max.request.bytes``: a broker-wide budget for the requests it holds.

Kafka's ``MemoryPool``: a request's bytes are granted from one pool, over all
connections, from the moment its size prefix is read until it has been handled; while
a connection's next request cannot be granted, that connection is muted (nothing more
is read from it: the kernel's buffers fill and TCP pushes back on the client).

How Headwater applies it (:class:`FrameGrant`, one per connection, used by
``broker/server/app.py``):

- a frame is granted whole (4 + its announced size) as soon as its size prefix has
  arrived and before any more of it is read, so granted frames always complete once
  their bytes come: the pool cannot deadlock with every frame half-read;
- nothing is allocated when a size is announced: bytes are held only as they arrive
  (:class:`~broker.protocol.framing.FrameBuffer`), so ten connections announcing
  100 MiB each cost nothing until they send, and then at most the pool;
- a grant that does not fit waits; waiting grants are served first fit, so small
  requests of well-behaved clients go on while a large one waits for room;
- the grant is released when the request has been handled (a Produce's records are in
  the log by then), or when the connection ends.

The budget must hold the largest request (``socket.request.max.bytes``); config checks
it. -1 turns the pool off, as Kafka's default does. Headwater's default, 256 MiB, holds
two requests of the largest default size at once, or thousands of ordinary ones (a
librdkafka produce request is at most ~1 MB by default), and bounds what the
announce-and-trickle attack in issue 9 could pin (1.1 GB for ten connections).

Not thread-safe: one event loop owns the pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class RequestMemoryPool:
    def __init__(self, capacity: int) -> None:
        """``capacity`` bytes (-1: unbounded, every grant succeeds at once)."""
        self.capacity = capacity
        self.used = 0
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def bounded(self) -> bool:
        return self.capacity >= 0

    @property
    def waiting(self) -> int:
        """Connections muted until their next request fits."""
        return len(self._waiters)

    def try_acquire(self, size: int) -> bool:
        if not self.bounded:
            return True
        if self.used + size > self.capacity:
            return False
        self.used += size
        return True

    async def acquire(self, size: int) -> None:
        if self.try_acquire(size):
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((size, future))
        try:
            await future
        except BaseException:
            if future.done() and not future.cancelled():
                self.release(size)  # granted while being cancelled: give it back
            with contextlib.suppress(ValueError):
                self._waiters.remove((size, future))
            raise

    def release(self, size: int) -> None:
        if not self.bounded:
            return
        self.used -= size
        self._grant_waiters()

    def _grant_waiters(self) -> None:
        """Wake every waiter that now fits, oldest first (first fit)."""
        for entry in list(self._waiters):
            size, future = entry
            if future.done():  # cancelled: its connection is gone
                self._waiters.remove(entry)
            elif self.used + size <= self.capacity:
                self._waiters.remove(entry)
                self.used += size
                future.set_result(None)


class FrameGrant:
    """The grant of the frame at the head of one connection's buffer."""

    __slots__ = ("_pool", "size")

    def __init__(self, pool: RequestMemoryPool) -> None:
        self._pool = pool
        self.size = 0

    async def cover(self, frame_size: int) -> None:
        """Hold ``frame_size`` bytes for the head frame (waits, muting the connection,
        until they fit); no-op if the head frame is covered already."""
        if self.size:
            return
        if not self._pool.try_acquire(frame_size):
            await self._pool.acquire(frame_size)
        self.size = frame_size

    def release(self) -> None:
        if self.size:
            self._pool.release(self.size)
            self.size = 0
