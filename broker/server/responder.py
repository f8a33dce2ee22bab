"""Writes a connection's responses in request order, some of which complete later.

Most handlers answer at once, and their responses are written straight away. A handler
may instead return :class:`~broker.handlers.registry.Deferred` (Produce on a durable
topic does: its records are appended at once, its answer waits for a group-commit
fsync). The connection then goes on reading and applying the next requests while the
answer is pending, and every later response queues behind it, so the client still sees
responses in request order (Kafka's guarantee) while one fsync round covers many
pipelined requests. ``max_pending`` bounds the backlog: past it, reading the socket
waits (backpressure).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable

from broker.protocol.connection import Outgoing

log = logging.getLogger(__name__)

Pending = Outgoing | None | Awaitable[Outgoing | None]


class Responder:
    def __init__(self, writer: asyncio.StreamWriter, *, max_pending: int = 64) -> None:
        self._writer = writer
        self._queue: asyncio.Queue[Pending] = asyncio.Queue(maxsize=max_pending)
        self._outstanding = 0
        self._task: asyncio.Task[None] | None = None
        self.failed: BaseException | None = None

    @property
    def idle(self) -> bool:
        return self._outstanding == 0

    def write_now(self, payload: Outgoing | None) -> None:
        """The common case: nothing pending ahead of this response."""
        if payload:
            self._write(payload)

    def _write(self, payload: Outgoing) -> None:
        if type(payload) is list:
            # A Fetch response's buffers, one write each: the transport sends each at
            # once while the socket takes it, so record sets are not copied (3.11's
            # writelines would join them).
            for part in payload:
                self._writer.write(part)
        else:
            self._writer.write(payload)  # type: ignore[arg-type]

    async def put(self, item: Pending) -> None:
        """Queue a response (bytes, None for no response, or an awaitable of either)."""
        if self.failed is not None:
            raise self.failed
        self._outstanding += 1
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        await self._queue.put(item)

    async def submit(self, item: Pending) -> None:
        if self.idle and not isinstance(item, Awaitable):
            self.write_now(item)
        else:
            await self.put(item)

    async def _run(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                payload = await item if isinstance(item, Awaitable) else item
                if payload:
                    self._write(payload)
                self._outstanding -= 1
                self._queue.task_done()
                if self._queue.empty():
                    await self._writer.drain()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.failed = exc
            log.exception("writing a deferred response failed; closing the connection")
            self._writer.close()

    async def drain(self) -> None:
        if self.idle:
            await self._writer.drain()

    async def flush(self) -> None:
        """Wait until every queued response has been written (before a deliberate close)."""
        if self._task is not None and self.failed is None:
            await self._queue.join()
        await self._writer.drain()

    async def close(self) -> None:
        while not self._queue.empty():  # answers nobody will read: do not leave them pending
            item = self._queue.get_nowait()
            if hasattr(item, "close"):
                item.close()  # type: ignore[union-attr]
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
