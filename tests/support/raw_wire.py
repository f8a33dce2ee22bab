"""Exact bytes on one Kafka connection, for tests of how the broker treats bad input.

Requests are built from kio's schema dataclasses (never pasted hex), so a test states
*which* API and version it sends, and may put a different version in the header than
the body's (what a newer client's request looks like to us). Malformed input is built
with ``struct`` from the framing rules (int32 size prefix, then the request header), so
it is clear *how* it is malformed. (``tests.support.wire`` is the broker's own
well-formed request client; this module is about the connection's edge cases.)
"""

from __future__ import annotations

import io
import socket
import struct
import time
from typing import Any, TypeVar

from kio.schema.api_versions.v0.request import ApiVersionsRequest as ApiVersionsRequestV0
from kio.schema.api_versions.v0.response import ApiVersionsResponse as ApiVersionsResponseV0
from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import i16, i32

E = TypeVar("E")

CLIENT_ID = "headwater-tests"


def frame(payload: bytes) -> bytes:
    """A Kafka frame: big-endian int32 size, then the payload."""
    return struct.pack(">i", len(payload)) + payload


def encode_request(
    request: Any, *, correlation_id: int, api_version: int | None = None, client_id: str = CLIENT_ID
) -> bytes:
    """Frame ``request`` with the header its schema uses (v1, or v2 when flexible).

    ``api_version`` overrides the version written in the header; the body stays in
    the entity's own format.
    """
    header_type = type(request).__header_schema__
    header = header_type(
        request_api_key=request.__api_key__,
        request_api_version=i16(request.__version__ if api_version is None else api_version),
        correlation_id=i32(correlation_id),
        client_id=client_id,
    )
    buffer = io.BytesIO()
    entity_writer(header_type)(buffer, header)
    entity_writer(type(request))(buffer, request)
    return frame(buffer.getvalue())


def encode_header_only(api_key: int, api_version: int, correlation_id: int) -> bytes:
    """A frame holding just a v1 request header (for APIs no schema describes)."""
    buffer = io.BytesIO()
    entity_writer(RequestHeaderV1)(
        buffer,
        RequestHeaderV1(
            request_api_key=i16(api_key),
            request_api_version=i16(api_version),
            correlation_id=i32(correlation_id),
            client_id=CLIENT_ID,
        ),
    )
    return frame(buffer.getvalue())


class ConnectionClosed(ConnectionError):
    """The broker closed the connection (EOF or reset) while we expected bytes."""


class RawConnection:
    """One TCP connection to a broker; reads whole frames, with socket timeouts."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self._correlation_id = 0

    @property
    def local_port(self) -> int:
        return int(self.sock.getsockname()[1])

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv_exactly(self, size: int) -> bytes:
        chunks = []
        while size:
            try:
                chunk = self.sock.recv(size)
            except ConnectionResetError as exc:
                raise ConnectionClosed("connection reset by broker") from exc
            if not chunk:
                raise ConnectionClosed("broker closed the connection")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def read_frame(self) -> bytes:
        (size,) = struct.unpack(">i", self._recv_exactly(4))
        return self._recv_exactly(size)

    def request(
        self, request: Any, response_type: type[E], *, api_version: int | None = None
    ) -> tuple[int, E]:
        """Send ``request``; decode the reply as ``response_type`` after a v0 header.

        Returns (correlation id echoed by the broker, decoded body). Only for responses
        whose header is v0 (a bare correlation id), as ApiVersions' always is.
        """
        self._correlation_id += 1
        self.send(
            encode_request(request, correlation_id=self._correlation_id, api_version=api_version)
        )
        payload = self.read_frame()
        (correlation_id,) = struct.unpack_from(">i", payload, 0)
        body, _ = entity_reader(response_type)(payload, 4)
        return correlation_id, body

    def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True once the broker has closed this connection (EOF/reset) within ``timeout``.

        Bytes the broker sends before closing are read and ignored.
        """
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
        finally:
            self.sock.settimeout(self.timeout)
        return False

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def api_versions_v0(connection: RawConnection) -> ApiVersionsResponseV0:
    """The simplest request every Kafka broker must answer: ApiVersions v0."""
    _, response = connection.request(ApiVersionsRequestV0(), ApiVersionsResponseV0)
    return response
