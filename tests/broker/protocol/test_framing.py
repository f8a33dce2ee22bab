from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.errors import ProtocolViolation
from broker.protocol.framing import FrameBuffer, frame


@given(st.lists(st.binary(max_size=300), max_size=8), st.integers(min_value=1, max_value=64))
def test_frame_buffer_reassembles_frames_fed_in_any_chunking(
    payloads: list[bytes], chunk: int
) -> None:
    stream = b"".join(frame(p) for p in payloads)
    buffer = FrameBuffer(max_frame_size=1024)
    out = []
    for start in range(0, len(stream), chunk):
        buffer.feed(stream[start : start + chunk])
        while (item := buffer.next_frame()) is not None:
            out.append(item)
    assert out == payloads
    assert len(buffer) == 0


def test_frame_buffer_waits_for_a_partial_frame_without_error() -> None:
    buffer = FrameBuffer(max_frame_size=1024)
    buffer.feed(struct.pack(">i", 100) + b"x" * 10)
    assert buffer.next_frame() is None
    buffer.feed(b"y" * 90)
    assert buffer.next_frame() == b"x" * 10 + b"y" * 90


@pytest.mark.parametrize("size", [-1, 1025, 2**31 - 1])
def test_frame_buffer_rejects_negative_or_oversized_frames(size: int) -> None:
    buffer = FrameBuffer(max_frame_size=1024)
    buffer.feed(struct.pack(">i", size))
    with pytest.raises(ProtocolViolation):
        buffer.next_frame()
