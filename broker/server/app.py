"""The asyncio server: a thin adapter between sockets and the sans-IO connection.

Each connection is served one request at a time, in order, as Kafka does (it mutes a
channel while a request is in flight), so responses can never be reordered. The one
exception is a Deferred answer (acks=all Produce on a durable topic): its records are
appended at once, and the connection goes on with the next requests while the answer
waits for a group-commit fsync; :class:`~broker.server.responder.Responder` still writes
every answer in request order. A
protocol violation ends only that connection, with a log line; a handler bug answers
nothing, logs the traceback and ends the connection; the broker keeps serving.

Connections are accepted by one :class:`~broker.server.acceptor.Acceptor` per listener,
which applies Kafka's connection limits (``max.connections``, ``max.connections.per.ip``
and overrides, ``max.connection.creation.rate``, the ``ip`` quota entity's
``connection_creation_rate``) before a connection reaches :meth:`BrokerServer._serve`.

Every listener has a security protocol (``listener.security.protocol.map``): SSL and
SASL_SSL listeners wrap connections in TLS; each connection carries a
:class:`~broker.security.sasl.ConnectionSecurity` that gates requests until a SASL
client has authenticated (frames above ``sasl.server.max.receive.size`` are refused
until then) and names the principal handlers see.

Request memory is bounded broker-wide by ``queued.max.request.bytes``
(:mod:`broker.server.request_memory`): each connection's next frame is granted whole as
soon as its size prefix arrives, before more of it is read; a connection whose frame
does not fit is muted (not read from) until it does. A failed login closes the
connection ``connection.failed.authentication.delay.ms`` after its error response.

With ``http.listeners`` set, every request is counted (:mod:`broker.server.metrics`:
queue, handler and response times, error codes, topic traffic, throttle time) and each
connection is listed in ``self.clients`` (:mod:`broker.server.clients`); the HTTP
endpoint (:mod:`broker.server.http_endpoint`) serves them. Without it, that costs one
``is None`` check per request.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import time
from collections.abc import Callable
from itertools import count

from broker.cluster.lock import lock_log_dir
from broker.config import BrokerConfig
from broker.coordinator.config import GroupConfigError
from broker.errors import ProtocolViolation
from broker.handlers import REGISTRY
from broker.handlers.api_versions import unsupported_version_response
from broker.handlers.context import RequestContext
from broker.handlers.registry import Deferred, HandlerRegistry
from broker.protocol import messages, record_scan
from broker.protocol.connection import KafkaConnection, Request, RequestHeader
from broker.protocol.framing import frame
from broker.security.sasl import ANONYMOUS, AuthenticationFailed, ConnectionSecurity
from broker.security.tls import TlsConfigError, principal_from_certificate, server_context
from broker.server.acceptor import Acceptor, bind
from broker.server.clients import ClientConnection, count_by_listener
from broker.server.http_endpoint import HttpEndpoint
from broker.server.metrics import PRODUCE, BrokerCollector, count_errors, produce_sizes
from broker.server.quota_manager import (
    EXEMPT_API_KEYS,
    REQUEST,
    HandlerTime,
    RequestQuota,
    quota_user,
    with_throttle,
)
from broker.server.request_memory import FrameGrant, RequestMemoryPool
from broker.server.responder import Pending, Responder
from broker.server.state import BrokerState, group_coordinator_config
from broker.server.tasks import BackgroundTasks

log = logging.getLogger("broker.server")

READ_CHUNK = 256 * 1024


class BrokerServer:
    def __init__(self, state: BrokerState, registry: HandlerRegistry = REGISTRY) -> None:
        self.state = state
        self.registry = registry
        self._acceptors: list[Acceptor] = []
        self._connection_ids = count(1)
        self._connections: set[asyncio.Task[None]] = set()
        self.request_memory = RequestMemoryPool(state.config.queued_max_request_bytes)
        self.metrics = state.metrics
        self.clients: dict[int, ClientConnection] = {}
        """Open connections by id (kept only while the metrics are on)."""
        self.http: HttpEndpoint | None = None

    async def start(self) -> None:
        config = self.state.config
        # Every TLS context first: a bad key or path fails before any port is bound.
        contexts = {
            listener.name: server_context(config.tls_settings(listener.name))
            if config.security_protocol(listener.name) in ("SSL", "SASL_SSL")
            else None
            for listener in config.listeners
        }
        quotas = self.state.connection_quotas
        await quotas.refresh()  # host names in the connection limits, before any accept
        backlog = int(self.state.configs.layers.value("socket.listen.backlog.size"))  # type: ignore[call-overload]
        for listener in config.listeners:
            acceptor = Acceptor(
                listener.name,
                await bind(listener.host, listener.port, backlog),
                quotas=quotas,
                serve=self._serve,
                ssl_context=contexts[listener.name],
                read_limit=READ_CHUNK,
            )
            acceptor.start()
            self._acceptors.append(acceptor)
            log.info("listening on %s (%s)", listener, config.security_protocol(listener.name))
        if self.metrics is not None:
            collector = BrokerCollector(
                self.metrics, self.state, lambda: count_by_listener(self.clients)
            )
            self.http = HttpEndpoint(self.state, collector, lambda: self.clients)
            await self.http.start()

    async def stop(self) -> None:
        if self.http is not None:
            await self.http.stop()
        for acceptor in self._acceptors:
            await acceptor.stop_accepting()
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        for acceptor in self._acceptors:
            await acceptor.close()
        self.state.logs.flush_all()
        self.state.close()

    def _security(self, listener_name: str, writer: asyncio.StreamWriter) -> ConnectionSecurity:
        config = self.state.config
        protocol = config.security_protocol(listener_name)
        peer = writer.get_extra_info("peername")
        principal = None
        ssl_object: ssl.SSLObject | None = writer.get_extra_info("ssl_object")
        if ssl_object is not None and protocol == "SSL":
            principal = principal_from_certificate(ssl_object.getpeercert(binary_form=True))
        sasl = protocol.startswith("SASL_")
        return ConnectionSecurity(
            listener_name=listener_name,
            security_protocol=protocol,
            client_address=peer[0] if peer else "?",
            mechanisms=config.sasl_mechanisms(listener_name) if sasl else (),
            credentials_of=self.state.metadata.scram_credentials,
            principal=principal or ANONYMOUS,
        )

    async def _serve(
        self, listener_name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection_id = next(self._connection_ids)
        peer = writer.get_extra_info("peername")
        config = self.state.config
        security = self._security(listener_name, writer)
        connection = KafkaConnection(
            max_request_size=config.socket_request_max_bytes
            if security.authenticated
            else min(config.sasl_server_max_receive_size, config.socket_request_max_bytes),
            is_served=self.registry.serves,
        )
        responder = Responder(writer)
        grant = FrameGrant(self.request_memory)
        client = None
        if self.metrics is not None:
            client = ClientConnection(
                connection_id,
                listener_name,
                security.client_address,
                peer[1] if peer and len(peer) > 1 else None,
                security,
            )
            self.clients[connection_id] = client
        try:
            while True:
                data = await reader.read(READ_CHUNK)
                if client is not None:
                    client.bytes_in += len(data)
                    client.read_at = time.perf_counter()
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
                keep_open = await self._process(connection, security, responder, grant, client)
                await responder.drain()
                if not keep_open:
                    await responder.flush()
                    if security.failed:
                        # KIP-306: a failed login holds the connection a while, slowing
                        # password guessing; the answer goes first, so clients read it
                        # before the close (kafka-python drops data that arrives with EOF).
                        await asyncio.sleep(config.connection_failed_authentication_delay_ms / 1000)
                    return
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
            grant.release()
            self._connections.discard(task)
            self.clients.pop(connection_id, None)
            await responder.close()
            writer.close()

    async def _process(
        self,
        connection: KafkaConnection,
        security: ConnectionSecurity,
        responder: Responder,
        grant: FrameGrant,
        client: ClientConnection | None = None,
    ) -> bool:
        """Serve every whole request (or raw SASL token) buffered; False: close now."""
        while True:
            was_authenticated = security.authenticated
            was_failed = security.failed
            frame_size = connection.next_frame_size()
            if frame_size is None:
                return True
            # queued.max.request.bytes: the head frame is granted before more of it is
            # read; waiting here mutes this connection until it fits.
            await grant.cover(frame_size)
            if security.expects_raw_tokens:
                token = connection.next_frame()
                if token is None:
                    return True
                try:
                    answer = await self._authenticate_raw(security, token)
                except AuthenticationFailed:
                    if self.metrics is not None:
                        self.metrics.authentication_failed(security.listener_name)
                    return False  # SaslHandshake v0 has no way to carry an error
                grant.release()
                await responder.submit(frame(answer))
            else:
                request = connection.next_request()
                if request is None:
                    return True
                if not security.permits(request.header.api_key):
                    api = messages.api_name(request.header.api_key).upper()
                    raise ProtocolViolation(security.rejection(api))
                try:
                    pending, throttle_ms = await self._dispatch(request, security, client)
                except Exception as exc:  # a handler bug: name the request in its traceback
                    header = request.header
                    exc.add_note(
                        f"while serving {messages.api_name(header.api_key)} "
                        f"v{header.api_version} (correlation id {header.correlation_id})"
                    )
                    raise
                grant.release()  # handled: a Produce's records are in the log
                if client is not None and security.failed and not was_failed:
                    self.metrics.authentication_failed(security.listener_name)  # type: ignore[union-attr]
                await responder.submit(pending)
                if throttle_ms:
                    # KIP-219: answer at once, then read nothing more from this client
                    # until its throttle time is over; other connections go on.
                    await responder.drain()
                    await asyncio.sleep(throttle_ms / 1000)
            if security.close_after_response:
                return False
            if security.authenticated and not was_authenticated:
                connection.limit_request_size(self.state.config.socket_request_max_bytes)

    async def _authenticate_raw(self, security: ConnectionSecurity, token: bytes) -> bytes:
        if security.slow_step:  # PBKDF2: on the one password-check thread
            return await asyncio.get_running_loop().run_in_executor(
                self.state.password_checks, security.authenticate, token
            )
        return security.authenticate(token)

    async def _dispatch(
        self, request: Request, security: ConnectionSecurity, client: ClientConnection | None = None
    ) -> tuple[Pending, int]:
        """The encoded response, None for none (acks=0), or an awaitable of either for a
        Deferred answer (written in order by the connection's Responder); and the
        throttle time (ms) for which the connection is to be muted after it."""
        header = request.header
        client_host = security.client_address
        quota = RequestQuota(quota_user(security.principal), header.client_id or "", request.size)
        ctx = RequestContext(
            header,
            self.state,
            self.registry,
            client_host,
            listener_name=security.listener_name,
            principal=security.principal,
            security=security,
            quota=quota,
        )
        if request.body is None:  # ApiVersions at a version we do not serve
            return KafkaConnection.send(header, unsupported_version_response(ctx)), 0
        if client is not None:
            return await self._dispatch_measured(ctx, request, client)
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
        quotas = self.state.quotas
        if quotas.active and header.api_key not in EXEMPT_API_KEYS:
            handler_time = HandlerTime()
            response = await handler_time.run(handler.handle(ctx, request.body))
            quotas.record(quota, REQUEST, handler_time.busy_s * 100)  # % of one thread
        else:
            response = await handler.handle(ctx, request.body)
        throttle_ms = quota.throttle_ms
        if isinstance(response, Deferred):
            return _encode_when_ready(header, response, throttle_ms), throttle_ms
        if response is None:
            return None, throttle_ms
        if throttle_ms:
            response = with_throttle(response, throttle_ms)
        return KafkaConnection.send(header, response), throttle_ms

    async def _dispatch_measured(
        self, ctx: RequestContext, request: Request, client: ClientConnection
    ) -> tuple[Pending, int]:
        """:meth:`_dispatch` with the metrics on: the same steps, timed and counted."""
        metrics = self.metrics
        assert metrics is not None
        header = request.header
        started = time.perf_counter()
        stats = metrics.api(header.api_key)
        stats.requests += 1
        stats.queue.observe(started - client.read_at)
        client.requests += 1
        client.client_id = header.client_id
        if header.api_key == API_VERSIONS:  # KIP-511: v3+ names the client software
            name = getattr(request.body, "client_software_name", None)
            if name:
                client.client_software_name = name
                client.client_software_version = request.body.client_software_version  # type: ignore[attr-defined]
        handler = self.registry.get(header.api_key)
        assert handler is not None
        quotas = self.state.quotas
        if quotas.active and header.api_key not in EXEMPT_API_KEYS:
            handler_time = HandlerTime()
            response = await handler_time.run(handler.handle(ctx, request.body))
            quotas.record(ctx.quota, REQUEST, handler_time.busy_s * 100)
        else:
            response = await handler.handle(ctx, request.body)
        handled = time.perf_counter()
        stats.handler.observe(handled - started)
        throttle_ms = ctx.quota.throttle_ms
        stats.throttle_ms += throttle_ms
        if isinstance(response, Deferred):
            # Only sizes: the request's records must not live until the fsync.
            sizes = produce_sizes(request.body) if header.api_key == PRODUCE else []

            def observe(answer: object | None, payload: bytes | None) -> None:
                if header.api_key == PRODUCE:
                    metrics.produce_answered(sizes, answer)
                elif answer is not None:
                    count_errors(answer, stats.errors)
                stats.response.observe(time.perf_counter() - handled)
                client.bytes_out += len(payload) if payload else 0

            pending = _encode_when_ready(header, response, throttle_ms, observe)
            return pending, throttle_ms
        metrics.responded(header.api_key, request.body, response)
        if response is None:
            stats.response.observe(time.perf_counter() - handled)
            return None, throttle_ms
        if throttle_ms:
            response = with_throttle(response, throttle_ms)
        encoded = KafkaConnection.send(header, response)
        stats.response.observe(time.perf_counter() - handled)
        client.bytes_out += (
            sum(len(part) for part in encoded) if type(encoded) is list else len(encoded)
        )
        return encoded, throttle_ms


API_VERSIONS = 18


async def _encode_when_ready(
    header: RequestHeader,
    deferred: Deferred,
    throttle_ms: int,
    observe: Callable[[object | None, bytes | None], None] | None = None,
) -> bytes | None:
    response = await deferred.response
    if response is None:
        if observe is not None:
            observe(None, None)
        return None
    encoded = KafkaConnection.send(header, with_throttle(response, throttle_ms))
    if observe is not None:
        observe(response, encoded)  # type: ignore[arg-type]
    return encoded


async def serve(config: BrokerConfig) -> None:
    log_dir_lock = lock_log_dir(config.log_dir)  # held until the process exits
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
    state.groups.start()  # the group coordinator's timer: sessions survive a quiet broker
    log.info(
        "Headwater broker started: node.id %d, cluster.id %s, log.dirs %s, advertised %s",
        config.node_id,
        state.cluster_id,
        config.log_dir,
        ",".join(str(x) for x in config.effective_advertised_listeners),
    )
    if record_scan.IMPLEMENTATION != "c":
        log.warning(
            "produce validation uses the pure-Python record scan (the C extension "
            "broker.protocol._record_scan is not built): reinstall with a C compiler and "
            "the Python headers for the fast one"
        )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("shutting down")
    await state.groups.stop()
    await tasks.stop()
    await server.stop()
    log_dir_lock.release()
    log.info("stopped cleanly")


def run_broker(config: BrokerConfig) -> int:
    try:
        group_coordinator_config(config)  # a bad group.* / offsets.* value stops us here
    except GroupConfigError as exc:
        log.error("cannot start the broker: %s", exc)
        return 1
    try:
        asyncio.run(serve(config))
    except (OSError, TlsConfigError) as exc:
        log.error("cannot start the broker: %s", exc)
        return 1
    return 0
