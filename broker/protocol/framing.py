"""Incremental framing of Kafka's size-prefixed frames.

Each frame on the wire is a big-endian ``int32`` size followed by that many bytes.
:class:`FrameBuffer` accumulates bytes as they arrive and hands out whole frames only;
a partial frame stays buffered ("need more data"), never an error.

Copies: a frame that arrived inside one chunk is handed out as a ``memoryview`` of that
chunk (no copy); a frame spread over several chunks is joined once, when its last byte
has arrived. Chunks are immutable ``bytes``, so a view handed out stays valid whatever
arrives later. On the way out, :func:`frame_buffers` prefixes a response that is a list
of buffers without joining them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from broker.errors import ProtocolViolation

_SIZE = struct.Struct(">i")

Buffer = bytes | bytearray | memoryview


class FrameBuffer:
    """Bytes in, whole frames out. Not thread-safe (one per connection)."""

    def __init__(self, max_frame_size: int) -> None:
        self._chunk = b""  # the chunk frames are cut from
        self._start = 0  # where its unread bytes begin
        self._later: list[bytes] = []  # chunks that arrived after it, not yet joined
        self._later_size = 0
        self._max_frame_size = max_frame_size

    @property
    def max_frame_size(self) -> int:
        return self._max_frame_size

    @max_frame_size.setter
    def max_frame_size(self, size: int) -> None:
        self._max_frame_size = size

    def feed(self, data: Buffer) -> None:
        if not data:
            return
        chunk = data if type(data) is bytes else bytes(data)
        if self._start == len(self._chunk) and not self._later:
            self._chunk, self._start = chunk, 0
        else:
            self._later.append(chunk)
            self._later_size += len(chunk)

    def __len__(self) -> int:
        return len(self._chunk) - self._start + self._later_size

    def _join(self) -> None:
        """Make every buffered byte one chunk (a frame straddles chunk boundaries)."""
        self._chunk = b"".join([memoryview(self._chunk)[self._start :], *self._later])
        self._start = 0
        self._later = []
        self._later_size = 0

    def next_frame_size(self) -> int | None:
        """The size of the frame at the head of the buffer, prefix included, as soon as
        its prefix has arrived (None before). Raises :class:`ProtocolViolation` for a
        size that is negative or larger than ``socket.request.max.bytes``. Nothing is
        allocated for the announced size: its bytes are held only as they arrive."""
        if len(self) < 4:
            return None
        if len(self._chunk) - self._start < 4:
            self._join()
        (size,) = _SIZE.unpack_from(self._chunk, self._start)
        if size < 0 or size > self._max_frame_size:
            raise ProtocolViolation(
                f"frame size {size} outside 0..{self._max_frame_size} (socket.request.max.bytes)"
            )
        return 4 + size

    def next_frame(self) -> memoryview | None:
        """The next whole frame's payload, or None until enough bytes have arrived.

        The view stays valid after later calls. Raises :class:`ProtocolViolation` for
        a size that is negative or larger than ``socket.request.max.bytes``, as soon as
        the size prefix is readable.
        """
        available = len(self)
        total = self.next_frame_size()
        if total is None:
            return None
        size = total - 4
        if available < 4 + size:
            return None
        end = self._start + 4 + size
        if end > len(self._chunk):
            self._join()
            end = 4 + size
        view = memoryview(self._chunk)[self._start + 4 : end]
        self._start = end
        return view


def frame(payload: Buffer) -> bytes:
    """Prefix ``payload`` with its size."""
    return _SIZE.pack(len(payload)) + payload


def frame_buffers(parts: Sequence[Buffer]) -> list[Buffer]:
    """Prefix a payload given as consecutive buffers with its size, copying none of the
    large ones: the size joins the first part when that is small (a response header)."""
    size = _SIZE.pack(sum(len(part) for part in parts))
    if not parts or len(parts[0]) > 4096:
        return [size, *parts]
    return [size + parts[0], *parts[1:]]
