"""Responses written as a list of buffers (Fetch: record sets spliced in, never copied)
must be byte for byte the frame the plain encoding gives, for every version served."""

from __future__ import annotations

import datetime
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kio.serial import entity_reader
from kio.static.primitive import Records

from broker.errors import ErrorCode
from broker.handlers import REGISTRY
from broker.protocol import messages
from broker.protocol.connection import KafkaConnection, RequestHeader
from broker.protocol.framing import frame, frame_buffers
from broker.protocol.messages import build

st.register_type_strategy(Records, st.binary(max_size=300))

FETCH = REGISTRY.get(1)
assert FETCH is not None
FETCH_VERSIONS = [v for v in range(FETCH.min_version, FETCH.max_version + 1) if FETCH.serves(v)]
SERVED = [
    pytest.param(handler.api_key, version, id=f"{handler.name}-v{version}")
    for handler in REGISTRY
    for version in range(handler.min_version, handler.max_version + 1)
    if handler.serves(version)
]
LARGE = messages.SPLICE_MIN_BYTES
OUT_OF_RANGE = ErrorCode.offset_out_of_range


def plain_frame(header: RequestHeader, response: object) -> bytes:
    """What KafkaConnection.send produced before it returned buffers."""
    prefix = struct.pack(">i", header.correlation_id)
    if response.__flexible__:  # type: ignore[attr-defined]
        prefix += b"\x00"
    return frame(prefix + messages.encode_body(response))  # type: ignore[arg-type]


def fetch_response(version: int, topics: list[tuple[str, list[tuple[int, object]]]]) -> object:
    module = messages.response_module(1, version)
    return build(
        messages.response_type(1, version),
        throttle_time=datetime.timedelta(0),
        error_code=ErrorCode.none,
        session_id=0,
        responses=tuple(
            build(
                module.FetchableTopicResponse,
                topic=name,
                partitions=tuple(
                    build(
                        module.PartitionData,
                        partition_index=index,
                        error_code=ErrorCode.none if data is not None else OUT_OF_RANGE,
                        high_watermark=100,
                        last_stable_offset=100,
                        log_start_offset=0,
                        aborted_transactions=None,
                        preferred_read_replica=-1,
                        records=data,
                    )
                    for index, data in partitions
                ),
            )
            for name, partitions in topics
        ),
    )


def decode(version: int, wire: bytes) -> object:
    response_type = messages.response_type(1, version)
    (size,) = struct.unpack_from(">i", wire, 0)
    assert size == len(wire) - 4
    offset = 4 + 4 + (1 if response_type.__flexible__ else 0)
    decoded, consumed = entity_reader(response_type)(wire, offset)
    assert offset + consumed == len(wire)
    return decoded


def record_sets() -> dict[str, object]:
    big = bytes(range(256)) * (LARGE // 256 + 3)
    backing = b"\xff" * 100 + big + b"\xee" * 100
    return {
        "none": None,
        "empty": b"",
        "small": b"\x01" * 100,
        "large": big,
        "large view": memoryview(backing)[100 : 100 + len(big)],
        "exactly the threshold": b"\x02" * LARGE,
    }


@pytest.mark.parametrize("version", FETCH_VERSIONS)
def test_fetch_response_buffers_equal_the_plain_encoding_and_decode_with_kio(
    version: int,
) -> None:
    sets = record_sets()
    layouts = {
        "no topics": [],
        "one empty partition": [("t", [(0, b"")])],
        **{f"one partition, {name}": [("t", [(0, data)])] for name, data in sets.items()},
        "many topics and partitions": [
            ("a", [(i, data) for i, data in enumerate(sets.values())]),
            ("b", [(0, sets["large"]), (1, sets["small"]), (2, sets["large view"])]),
            ("c", []),
        ],
    }
    header = RequestHeader(1, version, 1234, "client")
    for name, layout in layouts.items():
        response = fetch_response(version, layout)
        buffers = KafkaConnection.send(header, response)  # type: ignore[arg-type]
        assert isinstance(buffers, list), name
        wire = b"".join(buffers)
        assert wire == plain_frame(header, response), name
        assert decode(version, wire) == response, name
        # the large record sets went out as the handler's own objects: not copied
        for _topic, partitions in layout:
            for _index, data in partitions:
                if data is not None and len(data) >= LARGE:  # type: ignore[arg-type]
                    assert any(part is data for part in buffers), name


@pytest.mark.parametrize(("api_key", "version"), SERVED)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_response_encodes_to_the_same_bytes_as_buffers(
    api_key: int, version: int, data: st.DataObject
) -> None:
    response = data.draw(st.from_type(messages.response_type(api_key, version)), label="response")
    head = data.draw(st.binary(max_size=8), label="head")
    splice_min = data.draw(st.integers(min_value=1, max_value=64), label="splice_min")
    buffers = messages.encode_body_buffers(response, head, splice_min_bytes=splice_min)
    assert b"".join(buffers) == head + messages.encode_body(response)
    framed = frame_buffers(buffers)
    assert b"".join(framed) == frame(head + messages.encode_body(response))


def test_frame_buffers_does_not_copy_a_large_first_part() -> None:
    large = b"x" * 10_000
    parts = frame_buffers([large, b"tail"])
    assert parts[0] == struct.pack(">i", 10_004) and parts[1] is large
    assert frame_buffers([]) == [struct.pack(">i", 0)]
