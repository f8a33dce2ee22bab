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

    async def _write(self, payload: Outgoing) -> None:
        if type(payload) is not list:
            self._writer.write(payload)  # type: ignore[arg-type]
            return
        # A Fetch response as buffers, record sets among them: each is written on its
        # own, and only into an empty transport buffer, so the transport sends it
        # straight from the log's bytes and copies at most the part the socket did not
        # take (it would copy the whole of any write made while it holds data, and
        # 3.11's writelines joins everything first).
        transport = self._writer.transport
        for part in payload:
            if transport.get_write_buffer_size():
                transport.set_write_buffer_limits(high=0)  # drain() now waits until empty
                try:
                    await self._writer.drain()
                finally:
                    transport.set_write_buffer_limits()
            self._writer.write(part)

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
            if item:  # the common case: nothing pending ahead of this response
                await self._write(item)
        else:
            await self.put(item)

    async def _run(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                payload = await item if isinstance(item, Awaitable) else item
                if payload:
                    await self._write(payload)
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
