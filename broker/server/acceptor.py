"""One listener's accept loop: Kafka's ``Acceptor``, with the connection quotas in it.

``asyncio.start_server`` accepts every connection the moment it arrives, so it cannot
leave connections waiting in the kernel's backlog while a limit is reached, which is
what Kafka does when ``max.connections`` or a creation rate holds its acceptor. Each
listener therefore has its own loop here: it accepts one socket, asks
:meth:`~broker.server.connection_quotas.ConnectionQuotas.admit` (which may wait, and
meanwhile nothing more is accepted on that listener), and then

- serves it: wraps the socket in asyncio streams (TLS handshake included, for SSL
  listeners) and hands it to the server's connection handler; the connection is
  released from the quotas when that returns;
- closes it at once: over ``max.connections.per.ip``, as Kafka logs it ("Rejected
  connection from ..., address already has the configured maximum of N connections.");
- or holds it unread and closes it after the throttle time: over the address's
  ``connection_creation_rate`` (KIP-612's delayed close), so a client that reconnects
  at once is slowed rather than spun.

Rejections are logged at most every 10 s per address, with a count. Sockets are bound
like ``asyncio.start_server`` binds them (every address the host resolves to,
``SO_REUSEADDR``, IPv6 sockets IPv6-only) with ``socket.listen.backlog.size``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable

from broker.server.connection_quotas import ConnectionQuotas, Verdict

log = logging.getLogger(__name__)

Serve = Callable[[str, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
ACCEPT_RETRY_DELAY_S = 1.0  # after EMFILE and the like, as asyncio's own server waits
YIELD_EVERY = 32  # accepts in a row before other tasks get a turn


async def bind(host: str, port: int, backlog: int) -> list[socket.socket]:
    """Listening sockets for ``host`` (every address it resolves to; all interfaces
    when empty) and ``port``, non-blocking."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _name, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, True)
            try:
                sock.bind(address)
            except OSError as exc:
                raise OSError(
                    exc.errno,
                    f"error while attempting to bind on address {address!r}: {exc.strerror}",
                ) from None
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class Acceptor:
    def __init__(
        self,
        listener_name: str,
        sockets: list[socket.socket],
        *,
        quotas: ConnectionQuotas,
        serve: Serve,
        ssl_context: ssl.SSLContext | None = None,
        read_limit: int = 2**16,
    ) -> None:
        self.listener_name = listener_name
        self.sockets = sockets
        self._quotas = quotas
        self._serve = serve
        self._ssl = ssl_context
        self._read_limit = read_limit
        self._accepting: list[asyncio.Task[None]] = []
        self._connections: set[asyncio.Task[None]] = set()
        self._held: dict[socket.socket, asyncio.TimerHandle] = {}

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._accepting = [loop.create_task(self._accept(sock)) for sock in self.sockets]

    async def stop_accepting(self) -> None:
        """Accept nothing more; close the listening sockets and throttled sockets."""
        for task in self._accepting:
            task.cancel()
        await asyncio.gather(*self._accepting, return_exceptions=True)
        self._accepting = []
        for sock in self.sockets:
            sock.close()
        for held, handle in list(self._held.items()):
            handle.cancel()
            held.close()
        self._held.clear()

    async def close(self) -> None:
        """Stop accepting and end every connection of this listener."""
        await self.stop_accepting()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)

    async def _accept(self, listening: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        in_a_row = 0
        while True:
            try:
                sock, peer = await loop.sock_accept(listening)
            except OSError as exc:
                log.warning(
                    "listener %s cannot accept connections (%s); retrying in %.0f s",
                    self.listener_name,
                    exc,
                    ACCEPT_RETRY_DELAY_S,
                )
                await asyncio.sleep(ACCEPT_RETRY_DELAY_S)
                continue
            address = str(peer[0])
            try:
                admission = await self._quotas.admit(self.listener_name, address)
            except BaseException:
                sock.close()
                raise
            if admission.verdict is Verdict.ACCEPTED:
                task = loop.create_task(self._connection(sock, address))
                self._connections.add(task)
                task.add_done_callback(self._connections.discard)
            elif admission.verdict is Verdict.TOO_MANY:
                self._quotas.log_rejection(
                    "too many",
                    address,
                    "Rejected connection from %s, address already has the configured "
                    "maximum of %d connections.",
                    address,
                    admission.limit,
                )
                sock.close()
            else:
                self._quotas.log_rejection(
                    "throttled",
                    address,
                    "Throttling connections from %s (over its connection_creation_rate): "
                    "closing this one after %d ms",
                    address,
                    round(admission.throttle_s * 1000),
                )
                self._held[sock] = loop.call_later(admission.throttle_s, self._close_held, sock)
            in_a_row += 1
            if in_a_row % YIELD_EVERY == 0:
                await asyncio.sleep(0)

    def _close_held(self, sock: socket.socket) -> None:
        self._held.pop(sock, None)
        sock.close()

    async def _connection(self, sock: socket.socket, address: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            reader = asyncio.StreamReader(limit=self._read_limit)
            protocol = asyncio.StreamReaderProtocol(reader)
            try:
                transport, _ = await loop.connect_accepted_socket(
                    lambda: protocol, sock, ssl=self._ssl
                )
            except (OSError, ssl.SSLError) as exc:  # a failed TLS handshake, a peer gone
                log.debug(
                    "connection from %s on %s ended before it was served: %s",
                    address,
                    self.listener_name,
                    exc,
                )
                with contextlib.suppress(OSError):
                    sock.close()
                return
            writer = asyncio.StreamWriter(transport, protocol, reader, loop)
            await self._serve(self.listener_name, reader, writer)
        finally:
            self._quotas.release(self.listener_name, address)
