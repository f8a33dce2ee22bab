"""Incremental framing of Kafka's size-prefixed frames.

Each frame on the wire is a big-endian ``int32`` size followed by that many bytes.
:class:`FrameBuffer` accumulates bytes as they arrive and hands out whole frames only;
a partial frame stays buffered ("need more data"), never an error.
"""

from __future__ import annotations

import struct

from broker.errors import ProtocolViolation

_SIZE = struct.Struct(">i")


class FrameBuffer:
    """Bytes in, whole frames out. Not thread-safe (one per connection)."""

    def __init__(self, max_frame_size: int) -> None:
        self._buffer = bytearray()
        self._max_frame_size = max_frame_size

    @property
    def max_frame_size(self) -> int:
        return self._max_frame_size

    @max_frame_size.setter
    def max_frame_size(self, size: int) -> None:
        self._max_frame_size = size

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def __len__(self) -> int:
        return len(self._buffer)

    def next_frame(self) -> bytes | None:
        """The next whole frame's payload, or None until enough bytes have arrived.

        Raises :class:`ProtocolViolation` for a size that is negative or larger than
        ``socket.request.max.bytes``, as soon as the size prefix is readable.
        """
        if len(self._buffer) < 4:
            return None
        (size,) = _SIZE.unpack_from(self._buffer, 0)
        if size < 0 or size > self._max_frame_size:
            raise ProtocolViolation(
                f"frame size {size} outside 0..{self._max_frame_size} (socket.request.max.bytes)"
            )
        end = 4 + size
        if len(self._buffer) < end:
            return None
        frame = bytes(self._buffer[4:end])
        del self._buffer[:end]
        return frame


def frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its size."""
    return _SIZE.pack(len(payload)) + payload
