"""The asyncio server: a thin adapter between sockets and the sans-IO connection.

Each connection is served one request at a time, in order, as Kafka does (it mutes a
channel while a request is in flight), so responses can never be reordered. A
protocol violation ends only that connection, with a log line; a handler bug answers
nothing, logs the traceback and ends the connection; the broker keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from itertools import count

from broker.config import BrokerConfig
from broker.errors import ProtocolViolation
from broker.handlers import REGISTRY
from broker.handlers.api_versions import unsupported_version_response
from broker.handlers.context import RequestContext
from broker.handlers.registry import HandlerRegistry
from broker.protocol import messages
from broker.protocol.connection import KafkaConnection, Request
from broker.server.state import BrokerState
from broker.server.tasks import BackgroundTasks

log = logging.getLogger("broker.server")

READ_CHUNK = 256 * 1024


class BrokerServer:
    def __init__(self, state: BrokerState, registry: HandlerRegistry = REGISTRY) -> None:
        self.state = state
        self.registry = registry
        self._servers: list[asyncio.Server] = []
        self._connection_ids = count(1)
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        for listener in self.state.config.listeners:
            server = await asyncio.start_server(
                self._serve, listener.host or None, listener.port, limit=READ_CHUNK
            )
            self._servers.append(server)
            log.info("listening on %s", listener)

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self.state.logs.flush_all()
        self.state.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection_id = next(self._connection_ids)
        peer = writer.get_extra_info("peername")
        client_host = peer[0] if peer else "?"
        connection = KafkaConnection(
            max_request_size=self.state.config.socket_request_max_bytes,
            is_served=self.registry.serves,
        )
        try:
            while True:
                data = await reader.read(READ_CHUNK)
                if not data:
                    if connection.buffered:
                        log.warning(
                            "connection %d from %s closed with %d bytes of a truncated frame",
                            connection_id,
                            peer,
                            connection.buffered,
                        )
                    return
                connection.receive_data(data)
                while (request := connection.next_request()) is not None:
                    payload = await self._dispatch(request, client_host)
                    if payload is not None:
                        writer.write(payload)
                await writer.drain()
        except ProtocolViolation as exc:
            log.warning("closing connection %d from %s: %s", connection_id, peer, exc)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only stop() cancels connection tasks. End normally: asyncio's stream
            # callback (3.11) logs a cancelled client task as an unhandled error.
            return
        except Exception:
            log.exception(
                "closing connection %d from %s after an internal error", connection_id, peer
            )
        finally:
            self._connections.discard(task)
            writer.close()

    async def _dispatch(self, request: Request, client_host: str) -> bytes | None:
        header = request.header
        ctx = RequestContext(header, self.state, self.registry, client_host)
        if request.body is None:  # ApiVersions at a version we do not serve
            return KafkaConnection.send(header, unsupported_version_response(ctx))
        handler = self.registry.get(header.api_key)
        assert handler is not None
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s v%d from %s (%s)",
                messages.api_name(header.api_key),
                header.api_version,
                header.client_id,
                client_host,
            )
        response = await handler.handle(ctx, request.body)
        if response is None:
            return None
        return KafkaConnection.send(header, response)


async def serve(config: BrokerConfig) -> None:
    state = BrokerState(config)
    server = BrokerServer(state)
    await server.start()
    layers = state.configs.layers
    tasks = BackgroundTasks(
        state,
        retention_check_interval_ms=int(layers.value("log.retention.check.interval.ms")),  # type: ignore[arg-type]
        producer_id_expiration_ms=int(layers.value("producer.id.expiration.ms")),  # type: ignore[arg-type]
        cleaner_backoff_ms=(
            int(layers.value("log.cleaner.backoff.ms"))  # type: ignore[arg-type]
            if layers.value("log.cleaner.enable")
            else None
        ),
    )
    tasks.start()
    log.info(
        "Headwater broker started: node.id %d, cluster.id %s, log.dirs %s, advertised %s",
        config.node_id,
        state.cluster_id,
        config.log_dir,
        ",".join(str(x) for x in config.effective_advertised_listeners),
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("shutting down")
    await tasks.stop()
    await server.stop()
    log.info("stopped cleanly")


def run_broker(config: BrokerConfig) -> int:
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        log.error("cannot start the broker: %s", exc)
        return 1
    return 0
