"""A sans-IO Kafka server connection: bytes in, requests out; responses in, bytes out.

Modelled on h11's ``Connection``: the asyncio server calls :meth:`receive_data` with
whatever the socket gave, then :meth:`next_request` until it returns None (need more
data). Responses go through :meth:`send`, which returns the bytes to write. Request
headers are parsed here (v1, or v2 for flexible versions); bodies are decoded by the
schema codec when the broker serves that version.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from kio.static.protocol import Entity

from broker.errors import ProtocolViolation
from broker.protocol import messages
from broker.protocol.framing import Buffer, FrameBuffer, frame, frame_buffers
from broker.protocol.guard import read_uvarint

_HEADER = struct.Struct(">hhih")
_CORRELATION = struct.Struct(">i")

Outgoing = bytes | list[Buffer]
"""An encoded response frame: one ``bytes``, or consecutive buffers to write in order."""


@dataclass(frozen=True, slots=True)
class RequestHeader:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None


@dataclass(frozen=True, slots=True)
class Request:
    """A request whose header is parsed; ``body`` is None when its version is unsupported
    (only ApiVersions is answered then, as Kafka does)."""

    header: RequestHeader
    body: Entity | None
    size: int


def skip_tagged_fields(data: Buffer, offset: int) -> int:
    end = len(data)
    count, offset = read_uvarint(data, offset, end)
    for _ in range(count):
        _tag, offset = read_uvarint(data, offset, end)
        size, offset = read_uvarint(data, offset, end)
        offset += size
    if offset > len(data):
        raise ProtocolViolation("truncated tagged fields")
    return offset


def parse_request_header(data: Buffer) -> tuple[RequestHeader, int]:
    """Parse a request header; returns it and the offset where the body starts.

    For a version the codec does not know, only the v1 part is parsed (enough to answer
    ApiVersions with UNSUPPORTED_VERSION).
    """
    if len(data) < _HEADER.size:
        raise ProtocolViolation(f"request of {len(data)} bytes is shorter than a header")
    api_key, api_version, correlation_id, client_id_len = _HEADER.unpack_from(data, 0)
    offset = _HEADER.size
    client_id: str | None = None
    if client_id_len >= 0:
        end = offset + client_id_len
        if end > len(data):
            raise ProtocolViolation("truncated client_id in request header")
        client_id = str(data[offset:end], "utf-8", "replace")
        offset = end
    elif client_id_len != -1:
        raise ProtocolViolation(f"invalid client_id length {client_id_len}")
    header = RequestHeader(api_key, api_version, correlation_id, client_id)
    if api_version in messages.schema_versions(api_key) and messages.is_flexible(
        api_key, api_version
    ):
        offset = skip_tagged_fields(data, offset)
    return header, offset


class KafkaConnection:
    """Protocol state of one client connection. Not thread-safe."""

    def __init__(self, *, max_request_size: int, is_served: Callable[[int, int], bool]) -> None:
        self._frames = FrameBuffer(max_request_size)
        self._is_served = is_served

    def receive_data(self, data: bytes) -> None:
        self._frames.feed(data)

    @property
    def buffered(self) -> int:
        return len(self._frames)

    def limit_request_size(self, max_request_size: int) -> None:
        """Change the largest frame accepted from now on (SASL listeners accept only
        small frames until the client has authenticated, as Kafka does)."""
        self._frames.max_frame_size = max_request_size

    def next_frame_size(self) -> int | None:
        """Bytes of the next frame (size prefix included) once its prefix has arrived;
        the server grants them from ``queued.max.request.bytes`` before reading on."""
        return self._frames.next_frame_size()

    def next_frame(self) -> bytes | None:
        """The next whole frame, unparsed: a raw SASL token after SaslHandshake v0."""
        token = self._frames.next_frame()
        return None if token is None else bytes(token)

    def next_request(self) -> Request | None:
        """The next whole request, or None until more data arrives.

        Raises :class:`ProtocolViolation` for malformed frames, unknown API keys and
        unsupported versions of APIs other than ApiVersions.
        """
        data = self._frames.next_frame()
        if data is None:
            return None
        header, offset = parse_request_header(data)
        if not self._is_served(header.api_key, header.api_version):
            if header.api_key == messages.API_VERSIONS_KEY:
                return Request(header, None, len(data))
            raise ProtocolViolation(
                f"unsupported request {messages.api_name(header.api_key)} "
                f"(key {header.api_key}) v{header.api_version}"
            )
        body = messages.decode_request(header.api_key, header.api_version, data, offset)
        return Request(header, body, len(data))

    @staticmethod
    def send(header: RequestHeader, response: Entity) -> Outgoing:
        """Encode a response frame. ApiVersions always uses response header v0.

        A response carrying record sets (Fetch) comes back as a list of consecutive
        buffers in which the record sets are the very objects the handler read from the
        log, never copied; anything else as one ``bytes``."""
        prefix = _CORRELATION.pack(header.correlation_id)
        if response.__flexible__ and header.api_key != messages.API_VERSIONS_KEY:
            prefix += b"\x00"  # response header v1: no tagged fields
        if messages.has_records(type(response)):
            return frame_buffers(messages.encode_body_buffers(response, prefix))
        return frame(prefix + messages.encode_body(response))
