"""Malformed input closes only the offending connection; everyone else is still served.

A Kafka port on a network sees port scanners, HTTP health checks and half-written
frames. Kafka's answer is to close that one socket and log it; a broker that dies,
stalls other clients or stays silent in its log is an outage waiting to happen.
"""

from __future__ import annotations

import contextlib
import re
import struct
import subprocess
from collections.abc import Callable, Iterator

import pytest
from kio.schema.api_versions.v0.response import ApiVersionsResponse as ApiVersionsResponseV0
from kio.schema.api_versions.v3.request import ApiVersionsRequest as ApiVersionsRequestV3
from kio.schema.api_versions.v3.response import ApiVersionsResponse as ApiVersionsResponseV3
from kio.schema.errors import ErrorCode

from tests.support.broker import BrokerProcess
from tests.support.clients import (
    confluent_consume_all,
    confluent_create_topic,
    confluent_produce,
    make_records,
)
from tests.support.net import wait_until
from tests.support.raw_wire import (
    RawConnection,
    api_versions_v0,
    encode_header_only,
    frame,
)

REQUEST_MAX_BYTES = 1024 * 1024
API_VERSIONS = 18

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def abused_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """One broker for the module, with a small socket.request.max.bytes to exceed."""
    proc = BrokerProcess(
        tmp_path_factory.mktemp("abused-broker"),
        overrides={"socket.request.max.bytes": str(REQUEST_MAX_BYTES)},
    )
    proc.start()
    yield proc
    proc.stop()


def _connect(broker: BrokerProcess) -> RawConnection:
    return RawConnection("127.0.0.1", broker.port)


def _assert_log_mentions(broker: BrokerProcess, log_offset: int, port: int) -> None:
    """A new broker log line names the offending client (its port) so operators can act."""
    pattern = re.compile(rf"\b{port}\b")

    def logged() -> bool:
        return any(pattern.search(line) for line in broker.log()[log_offset:].splitlines())

    try:
        wait_until(logged, timeout=5, what=f"a broker log line about client port {port}")
    except TimeoutError:
        pytest.fail(
            f"broker logged nothing naming the client 127.0.0.1:{port}; new log lines:\n"
            + broker.log()[log_offset:][-3000:]
        )


def _fail_if_dead(broker: BrokerProcess) -> None:
    if broker.alive():
        return
    assert broker.proc is not None
    # the log's own lines, without native/Python stack frames
    lines = [line for line in broker.log().splitlines() if line[:1].strip()]
    pytest.fail(
        f"broker died (exit status {broker.proc.returncode}); last log lines:\n"
        + "\n".join(lines[-15:])
    )


def _assert_still_serving(broker: BrokerProcess, bystander: RawConnection) -> None:
    try:
        # a connection opened before the bad one is untouched ...
        assert api_versions_v0(bystander).error_code == ErrorCode.none
        # ... and new connections are accepted and served
        with _connect(broker) as fresh:
            assert api_versions_v0(fresh).error_code == ErrorCode.none
    except OSError:
        if broker.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                broker.proc.wait(5)  # a dying broker may still be writing its crash report
        _fail_if_dead(broker)
        raise
    _fail_if_dead(broker)


BAD_FRAMES: dict[str, Callable[[], bytes]] = {
    # an HTTP probe: "GET " read as a size is 1,195,725,856 bytes
    "http_request": lambda: b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    # a well-sized frame whose header claims a 500-byte client id in a 6-byte remainder
    "malformed_header": lambda: frame(struct.pack(">hhih", 3, 1, 7, 500) + b"abcdef"),
    "negative_size": lambda: struct.pack(">i", -1) + b"\x00" * 8,
    # only the size is sent: the broker must refuse it without waiting for the body
    "size_over_socket_request_max_bytes": lambda: struct.pack(">i", REQUEST_MAX_BYTES + 1),
    "unknown_api_key": lambda: encode_header_only(api_key=32000, api_version=0, correlation_id=1),
    # Metadata exists, version 999 does not; only ApiVersions answers unknown versions
    "unsupported_metadata_version": lambda: encode_header_only(
        api_key=3, api_version=999, correlation_id=1
    ),
}


@pytest.mark.parametrize("bad_frame", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_broker_closes_only_the_connection_that_sent_bad_input(
    abused_broker: BrokerProcess, bad_frame: Callable[[], bytes]
) -> None:
    with _connect(abused_broker) as bystander, _connect(abused_broker) as offender:
        assert api_versions_v0(bystander).error_code == ErrorCode.none
        log_offset = len(abused_broker.log())

        offender.send(bad_frame())

        assert offender.closed_by_peer(timeout=5), "broker kept the bad connection open"
        _assert_still_serving(abused_broker, bystander)
        _assert_log_mentions(abused_broker, log_offset, offender.local_port)


def test_broker_keeps_serving_while_a_client_sends_half_a_frame(
    abused_broker: BrokerProcess,
) -> None:
    """A size of 100 then 10 bytes: the broker waits for that client alone, then copes
    when it disconnects mid-frame."""
    with _connect(abused_broker) as bystander:
        assert api_versions_v0(bystander).error_code == ErrorCode.none
        log_offset = len(abused_broker.log())
        partial = _connect(abused_broker)
        partial_port = partial.local_port
        partial.send(struct.pack(">i", 100) + b"\x00" * 10)

        _assert_still_serving(abused_broker, bystander)  # no head-of-line blocking

        partial.close()
        _assert_log_mentions(abused_broker, log_offset, partial_port)
        _assert_still_serving(abused_broker, bystander)


def test_broker_serves_real_clients_after_bad_connections(abused_broker: BrokerProcess) -> None:
    for make in BAD_FRAMES.values():
        with _connect(abused_broker) as offender:
            offender.send(make())
            offender.closed_by_peer(timeout=5)
    topic = "after-bad-input"
    records = make_records(200)

    confluent_create_topic(abused_broker.bootstrap, topic, 2)
    delivered = confluent_produce(abused_broker.bootstrap, topic, records)
    consumed = confluent_consume_all(abused_broker.bootstrap, topic, 2)

    stored = {(c.partition, c.offset): c.record for c in consumed}
    assert [stored.get(position) for position in delivered] == records
    assert abused_broker.alive()


def _api_versions_range(response: ApiVersionsResponseV0 | ApiVersionsResponseV3) -> range:
    (entry,) = [k for k in response.api_keys if k.api_key == API_VERSIONS]
    return range(entry.min_version, entry.max_version + 1)


@pytest.mark.parametrize("too_new", ["max_plus_one", "127"])
def test_api_versions_newer_than_supported_gets_unsupported_version_in_v0_format(
    abused_broker: BrokerProcess, too_new: str
) -> None:
    """Clients open with their newest ApiVersions; the broker must answer error 35 in the
    v0 body with its range, on the same connection, so the client can retry lower."""
    with _connect(abused_broker) as conn:
        supported = _api_versions_range(api_versions_v0(conn))
        assert 3 in supported, f"ApiVersions v3 (librdkafka's first) unsupported: {supported}"
        version = supported.stop if too_new == "max_plus_one" else 127
        request = ApiVersionsRequestV3(
            client_software_name="headwater-tests", client_software_version="1.0"
        )

        correlation_id, response = conn.request(request, ApiVersionsResponseV0, api_version=version)

        assert correlation_id == 2
        assert response.error_code == ErrorCode.unsupported_version
        assert _api_versions_range(response) == supported
        # the connection stays usable: the client's retry at a supported version works
        correlation_id, retried = conn.request(request, ApiVersionsResponseV3)
        assert correlation_id == 3
        assert retried.error_code == ErrorCode.none
        assert _api_versions_range(retried) == supported


def test_broker_survives_an_array_length_the_frame_cannot_hold(broker: BrokerProcess) -> None:
    """Metadata v9 whose topics (compact array) claim 2**32 - 2 entries in a 6-byte body.

    The decoder must notice the body is too short rather than allocate for the claim:
    21 bytes from anyone who can reach the port must not take the broker down.
    (Its own broker: if this kills the broker, the other tests here are unaffected.)
    """
    header_v2 = struct.pack(">hhih", 3, 9, 1, 4) + b"test" + b"\x00"
    body = b"\xff\xff\xff\xff\x0f" + b"\x00"  # uvarint 2**32 - 1 = (count + 1)
    with _connect(broker) as bystander, _connect(broker) as offender:
        assert api_versions_v0(bystander).error_code == ErrorCode.none
        log_offset = len(broker.log())

        offender.send(frame(header_v2 + body))

        assert offender.closed_by_peer(timeout=5)
        _assert_still_serving(broker, bystander)
        _assert_log_mentions(broker, log_offset, offender.local_port)
