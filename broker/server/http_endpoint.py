"""The broker's HTTP endpoint: Prometheus ``/metrics`` and a small JSON admin API.

Served on each ``http.listeners`` address (``http://127.0.0.1:9644``) by an asyncio
server in the broker's own event loop, so it reads broker state where every other
reader does, without locks. A deliberately small HTTP/1.1: one ``GET`` (or ``HEAD``)
per connection, answered and closed (``Connection: close``); the request head must be
whole within :data:`HEAD_LIMIT` bytes and :data:`HEAD_TIMEOUT` seconds. Anything else
gets ``400`` (a malformed head), ``405`` (another method), ``404`` (another path),
``401`` (no or a wrong token), never a traceback; the Kafka listeners are unaffected.

Routes:

- ``/metrics``: the Prometheus text format (prometheus-client's exposition) of this
  broker's own ``CollectorRegistry`` (:mod:`broker.server.metrics`).
- ``/v1/clients``: ``{"clients": [...]}``, one entry per open Kafka connection:
  listener, address, port, principal, client id, client software name and version
  (ApiVersions v3+), requests, bytes in and out, their per-second averages, connected
  since (:mod:`broker.server.clients`).
- ``/v1/health``: ``{"ready": ..., "uptime_seconds": ..., "log_dirs": [{"path",
  "free_bytes", "total_bytes"}], ...}``; 503 while not ready.

With ``http.admin.token`` set every route requires ``Authorization: Bearer <token>``
(compared in constant time). An ``https://`` listener serves TLS with the
``listener.name.http.ssl.*`` settings (else the global ``ssl.*``), as a Kafka
listener's; with ``listener.name.http.ssl.client.auth=required`` only clients with a
certificate the trust store accepts get through. A non-loopback address needs one of
the two (``broker.config`` refuses it otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import shutil
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from broker.config import HTTP_TLS_LISTENER
from broker.security.tls import server_context
from broker.server.clients import ClientConnection
from broker.server.metrics import BrokerCollector, registry_for

if TYPE_CHECKING:
    from broker.server.state import BrokerState

log = logging.getLogger("broker.server.http")

HEAD_LIMIT = 16 * 1024
HEAD_TIMEOUT = 10.0
_REQUEST_LINE = re.compile(rb"^([A-Z]{1,16}) (/[\x21-\x7e]*) HTTP/1\.[01]$")
_HEADER = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
JSON = "application/json"


class BadRequest(Exception):
    """The request head does not parse: answered 400, then closed."""


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Method, path (without the query) and lower-cased headers of a request head."""
    lines = head.split(b"\r\n")
    match = _REQUEST_LINE.match(lines[0])
    if match is None:
        raise BadRequest("malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        header = _HEADER.match(line)
        if header is None:
            raise BadRequest("malformed header line")
        try:
            headers[header[1].decode("ascii").lower()] = header[2].decode("latin-1")
        except UnicodeDecodeError:
            raise BadRequest("malformed header line") from None
    path = match[2].decode("ascii").partition("?")[0]
    return match[1].decode("ascii"), path, headers


def response_bytes(
    status: int,
    body: bytes,
    content_type: str = JSON,
    *,
    head_only: bool = False,
    extra: dict[str, str] | None = None,
) -> bytes:
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Connection": "close",
        "Cache-Control": "no-store",
        **(extra or {}),
    }
    head = f"HTTP/1.1 {status} {_REASONS[status]}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + (b"" if head_only else body)


def _json(status: int, payload: object, *, head_only: bool = False, **kw: object) -> bytes:
    body = json.dumps(payload, indent=1).encode() + b"\n"
    return response_bytes(status, body, head_only=head_only, **kw)  # type: ignore[arg-type]


class HttpEndpoint:
    def __init__(
        self,
        state: BrokerState,
        collector: BrokerCollector,
        clients: Callable[[], dict[int, ClientConnection]],
    ) -> None:
        self.state = state
        self.registry = registry_for(collector)
        self.clients = clients
        self.token = state.config.http_admin_token
        self.started = time.time()
        self.ready = False
        self._servers: list[asyncio.Server] = []
        self._handlers: set[asyncio.Task[None]] = set()
        self.urls: list[str] = []

    async def start(self) -> None:
        config = self.state.config
        tls = (
            server_context(config.tls_settings(HTTP_TLS_LISTENER))
            if any(listener.tls for listener in config.http_listeners)
            else None
        )  # a bad key or path fails before anything is bound
        for listener in config.http_listeners:
            server = await asyncio.start_server(
                self._serve,
                listener.host,
                listener.port,
                limit=HEAD_LIMIT,
                ssl=tls if listener.tls else None,
            )
            self._servers.append(server)
            port = server.sockets[0].getsockname()[1]
            self.urls.append(listener.url(port))
            log.info(
                "metrics and admin endpoint on %s/metrics and /v1/ (%s)",
                listener.url(port),
                "bearer token required" if self.token else "no token: loopback only",
            )
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        for server in self._servers:
            server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
                answer = self._answer(*parse_head(head[:-4]))
            except (BadRequest, asyncio.LimitOverrunError, asyncio.IncompleteReadError) as exc:
                if isinstance(exc, asyncio.IncompleteReadError) and not exc.partial:
                    return  # connected and closed: nothing to answer
                answer = _json(400, {"error": "bad request"})
            except TimeoutError:
                answer = _json(400, {"error": "request head not received in time"})
            writer.write(answer)
            await writer.drain()
        except (OSError, asyncio.CancelledError):  # a reset, a failed TLS read
            pass
        except Exception:  # a bug here must not take the broker down
            log.exception("HTTP endpoint: internal error")
            with contextlib.suppress(Exception):
                writer.write(_json(500, {"error": "internal error"}))
                await writer.drain()
        finally:
            self._handlers.discard(task)
            writer.close()

    def _answer(self, method: str, path: str, headers: dict[str, str]) -> bytes:
        head_only = method == "HEAD"
        if method not in ("GET", "HEAD"):
            return _json(405, {"error": f"{method} not allowed"}, extra={"Allow": "GET, HEAD"})
        if self.token is not None and not self._authorized(headers.get("authorization", "")):
            return _json(
                401,
                {"error": "a valid Authorization: Bearer token is required"},
                head_only=head_only,
                extra={"WWW-Authenticate": 'Bearer realm="headwater"'},
            )
        if path == "/metrics":
            return response_bytes(
                200, generate_latest(self.registry), CONTENT_TYPE_LATEST, head_only=head_only
            )
        if path == "/v1/clients":
            now = time.time()
            clients = [c.describe(now) for c in self.clients().values()]
            return _json(200, {"clients": clients}, head_only=head_only)
        if path == "/v1/health":
            health = self.health()
            return _json(200 if health["ready"] else 503, health, head_only=head_only)
        return _json(404, {"error": f"no such path: {path}"}, head_only=head_only)

    def _authorized(self, authorization: str) -> bool:
        scheme, _, credential = authorization.partition(" ")
        assert self.token is not None
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credential.strip().encode(), self.token.encode()
        )

    def health(self) -> dict[str, object]:
        log_dirs = []
        for path in self.state.config.log_dirs:
            try:
                usage = shutil.disk_usage(path)
            except OSError as exc:
                log_dirs.append({"path": str(path), "error": exc.strerror})
                continue
            log_dirs.append(
                {"path": str(path), "free_bytes": usage.free, "total_bytes": usage.total}
            )
        return {
            "ready": self.ready,
            "node_id": self.state.node_id,
            "cluster_id": self.state.cluster_id,
            "uptime_seconds": round(time.time() - self.started, 3),
            "offline_partitions": len(self.state.offline_partitions),
            "log_dirs": log_dirs,
        }
