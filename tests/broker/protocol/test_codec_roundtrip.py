"""Hypothesis round trips through the sans-IO codec, for every API version the broker serves.

The (api, version) pairs come from the handler registry, so a new handler or version is
covered without editing this file. Requests go in the way a client sends them (header v1
or v2, fed in arbitrary chunks, sometimes with trailing bytes as librdkafka sends) and
must come out equal; responses must encode to a frame a client decodes back to the same
entity; and arbitrary bytes must never raise anything but ProtocolViolation (anything
else would escape the connection handler instead of closing one connection cleanly).
"""

from __future__ import annotations

import datetime
import io
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import Records, i16, i32, i64Timedelta

from broker.errors import ProtocolViolation
from broker.handlers import REGISTRY
from broker.protocol import messages
from broker.protocol.connection import KafkaConnection, RequestHeader

# Record batches are opaque bytes to the message codec (broker.protocol.records parses them)
st.register_type_strategy(Records, st.binary(max_size=200))
# kio's native reader overflows on i64 millisecond durations near timedelta's limits
# (~2**63 ms) and loses precision far below; real ones (session_lifetime_ms) are small.
st.register_type_strategy(
    i64Timedelta,
    st.integers(-(2**40), 2**40).map(
        lambda ms: i64Timedelta.parse(datetime.timedelta(milliseconds=ms))
    ),
)

SERVED = [
    pytest.param(handler.api_key, version, id=f"{handler.name}-v{version}")
    for handler in REGISTRY
    for version in range(handler.min_version, handler.max_version + 1)
    if handler.serves(version)
]
MAX_FRAME = 1 << 20
REPO_ROOT = Path(__file__).resolve().parents[3]
# ~60 (api, version) pairs x 2 directions: few examples each keeps this file at a few
# seconds; neighbouring versions share most fields, so coverage adds up across them.
PER_VERSION = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=300, deadline=None)


def _connection() -> KafkaConnection:
    return KafkaConnection(max_request_size=MAX_FRAME, is_served=REGISTRY.serves)


def _client_frame(
    api_key: int,
    version: int,
    correlation_id: int,
    client_id: str | None,
    body: Any,
    trailing: bytes,
) -> bytes:
    """A request frame as a client writes it: header v2 for flexible versions, else v1."""
    flexible = messages.is_flexible(api_key, version)
    header_type = RequestHeaderV2 if flexible else RequestHeaderV1
    buffer = io.BytesIO()
    entity_writer(header_type)(
        buffer,
        header_type(
            request_api_key=i16(api_key),
            request_api_version=i16(version),
            correlation_id=i32(correlation_id),
            client_id=client_id,
        ),
    )
    entity_writer(type(body))(buffer, body)
    payload = buffer.getvalue() + trailing
    return struct.pack(">i", len(payload)) + payload


def test_registry_serves_versions_the_codec_knows() -> None:
    assert SERVED, "the handler registry serves nothing"


@pytest.mark.parametrize(("api_key", "version"), SERVED)
@PER_VERSION
@given(data=st.data())
def test_connection_decodes_every_served_request_fed_in_any_chunking(
    api_key: int, version: int, data: st.DataObject
) -> None:
    body = data.draw(st.from_type(messages.request_type(api_key, version)), label="body")
    correlation_id = data.draw(st.integers(-(2**31), 2**31 - 1), label="correlation_id")
    client_id = data.draw(st.none() | st.text(max_size=30), label="client_id")
    trailing = data.draw(st.sampled_from([b"", b"\x00", b"\x00\x00\x00\x07trail"]), label="trail")
    chunk = data.draw(st.integers(min_value=1, max_value=64), label="chunk")
    wire = _client_frame(api_key, version, correlation_id, client_id, body, trailing)

    connection = _connection()
    received = []
    for start in range(0, len(wire), chunk):
        connection.receive_data(wire[start : start + chunk])
        while (request := connection.next_request()) is not None:
            received.append(request)

    (request,) = received
    assert request.header == RequestHeader(api_key, version, correlation_id, client_id)
    assert request.body == body
    assert connection.buffered == 0


@pytest.mark.parametrize(("api_key", "version"), SERVED)
@PER_VERSION
@given(data=st.data())
def test_connection_encodes_every_served_response_so_a_client_decodes_it(
    api_key: int, version: int, data: st.DataObject
) -> None:
    response_type = messages.response_type(api_key, version)
    response = data.draw(st.from_type(response_type), label="response")
    correlation_id = data.draw(st.integers(-(2**31), 2**31 - 1), label="correlation_id")
    header = RequestHeader(api_key, version, correlation_id, "client")

    encoded = KafkaConnection.send(header, response)
    wire = encoded if isinstance(encoded, bytes) else b"".join(encoded)

    (size,) = struct.unpack_from(">i", wire, 0)
    payload = wire[4:]
    assert size == len(payload)
    assert struct.unpack_from(">i", payload, 0) == (correlation_id,)
    offset = 4
    # response header v1 (an empty tagged-field section) for flexible versions, except
    # ApiVersions, whose response header is always v0 so any client can read it
    if response_type.__flexible__ and api_key != messages.API_VERSIONS_KEY:
        assert payload[4] == 0
        offset = 5
    decoded, consumed = entity_reader(response_type)(payload, offset)
    assert decoded == response
    assert offset + consumed == len(payload)


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


@st.composite
def _frames_with_garbage_bodies(draw: st.DrawFn) -> bytes:
    """A well-formed header of a served API, then a body that is random or that opens
    with a huge array/string length (compact uvarint or legacy int32)."""
    api_key, version = draw(st.sampled_from([(p.values[0], p.values[1]) for p in SERVED]))
    flexible = messages.is_flexible(api_key, version)
    header = struct.pack(">hhih", api_key, version, 1, 4) + b"test" + (b"\x00" if flexible else b"")
    length = draw(st.integers(min_value=0, max_value=2**32 - 1))
    prefix = draw(st.sampled_from([b"", _uvarint(length), struct.pack(">I", length)]))
    body = prefix + draw(st.binary(max_size=300))
    return struct.pack(">i", len(header) + len(body)) + header + body


def fuzz_connection_with_garbage(last_input: str) -> None:
    """Feed garbage to a connection; only ProtocolViolation may come out.

    Runs in a child process (see the test below): a crash in native decoding code would
    otherwise take the whole test run down with it. Each input is written to
    ``last_input`` first so a crash can be reported with the bytes that caused it.
    """

    @FUZZ
    @given(st.binary(max_size=400) | _frames_with_garbage_bodies())
    def run(wire: bytes) -> None:
        Path(last_input).write_bytes(wire)
        connection = _connection()
        connection.receive_data(wire)
        try:
            while connection.next_request() is not None:
                pass
        except ProtocolViolation:
            pass

    run()


def test_connection_rejects_garbage_only_with_protocol_violation(tmp_path: Path) -> None:
    """Garbage must close one connection (ProtocolViolation), never crash the broker.

    The fuzzing runs in a child process: a native abort (e.g. the decoder trying to
    allocate an array whose declared length the frame cannot hold) kills the process
    the same way it would kill the broker, and is reported here with its input.
    """
    last_input = tmp_path / "last-input"
    child = (
        "import runpy, sys; "
        f"runpy.run_path({str(Path(__file__))!r})['fuzz_connection_with_garbage']({str(last_input)!r})"
    )
    result = subprocess.run(
        [sys.executable, "-c", child],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RUST_BACKTRACE": "0"},
    )
    if result.returncode < 0:
        crashing = last_input.read_bytes().hex() if last_input.exists() else "?"
        pytest.fail(
            f"decoding killed the process with signal {-result.returncode}; input (hex): "
            f"{crashing}\n{result.stderr[-1500:]}"
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
