"""A hostile client's requests: refused as protocol errors, one log line each, never a
traceback, and a well-behaved client keeps being served meanwhile.

The fuzzer (tests/support/fuzz.py) sends every (API, version) the broker advertises:
valid requests and mutations of them (nulls in every field, truncations at field
boundaries, huge lengths, random bytes, bad tagged fields, wrong header versions). On
main before this change, 40,000 such frames gave ~600 tracebacks from 36 code sites.
``bench/fuzz.py`` runs the same for 100,000 frames (docs/benchmarks.md).
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator

import pytest
from kio.schema.errors import ErrorCode

from broker.handlers import REGISTRY
from broker.protocol import messages
from tests.support.broker import BrokerProcess
from tests.support.clients import (
    confluent_consume_all,
    confluent_create_topic,
    confluent_produce,
    make_records,
)
from tests.support.fuzz import (
    FrameFactory,
    FrameSender,
    RequestGenerator,
    encode_body,
    encode_header,
    layout,
    vm_rss_kib,
    with_null,
)
from tests.support.net import wait_until
from tests.support.raw_wire import RawConnection, api_versions_v0, frame

pytestmark = pytest.mark.timeout(180)

FUZZ_FRAMES = 4000
FUZZ_SEED = 20261207
RSS_GROWTH_LIMIT_KIB = 150 * 1024


@pytest.fixture(scope="module")
def hostile_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    proc = BrokerProcess(tmp_path_factory.mktemp("hostile"))
    proc.start()
    yield proc
    proc.stop()


def _tracebacks(log: str) -> list[str]:
    lines = log.splitlines()
    return [
        "\n".join(lines[index : index + 12])
        for index, line in enumerate(lines)
        if line.startswith("Traceback")
    ]


def _null_request(api_key: int, version: int) -> bytes | None:
    """A frame of a valid request with its first non-nullable length prefix nulled
    (None if every length prefix of the request is nullable)."""
    request_type = messages.request_type(api_key, version)
    generator = RequestGenerator(random.Random(api_key))
    for _ in range(20):
        body = encode_body(generator.entity(request_type))
        for prefix in layout(request_type, body).prefixes:
            if not prefix.nullable:
                nulled = with_null(body, prefix)
                flexible = messages.is_flexible(api_key, version)
                return frame(encode_header(api_key, version, 7, flexible=flexible) + nulled)
    return None


NULL_REQUESTS = {
    f"{handler.name}-v{handler.max_version}": request
    for handler in REGISTRY
    if (request := _null_request(handler.api_key, handler.max_version)) is not None
}


@pytest.mark.parametrize("request_name", NULL_REQUESTS)
def test_a_null_where_the_schema_forbids_it_closes_only_that_connection_with_one_log_line(
    hostile_target: BrokerProcess, request_name: str
) -> None:
    """Every API with a non-nullable string, bytes or array field (the newest version),
    that field sent as null: on main, handlers iterated None and logged a traceback."""
    bad = NULL_REQUESTS[request_name]
    with (
        RawConnection("127.0.0.1", hostile_target.port) as bystander,
        RawConnection("127.0.0.1", hostile_target.port) as offender,
    ):
        assert api_versions_v0(bystander).error_code == ErrorCode.none
        log_offset = len(hostile_target.log())

        offender.send(bad)

        assert offender.closed_by_peer(timeout=5), "broker kept the connection open"
        port = re.compile(rf"\b{offender.local_port}\b")

        def logged() -> list[str]:
            new = hostile_target.log()[log_offset:].splitlines()
            return [line for line in new if port.search(line)]

        (line,) = wait_until(logged, timeout=5, what="the broker's line about the offender")
        assert "not nullable" in line, line
        assert _tracebacks(hostile_target.log()[log_offset:]) == []
        assert api_versions_v0(bystander).error_code == ErrorCode.none  # untouched


def test_metadata_v10_topic_by_id_gets_invalid_request_not_an_internal_error(
    hostile_target: BrokerProcess,
) -> None:
    """v10-11 carry a topic ID and a nullable name, but Kafka serves topic IDs only
    from v12: a null name is INVALID_REQUEST (name answered as ""), as in Kafka."""
    from kio.schema.metadata.v10 import request as v10
    from kio.schema.metadata.v10 import response as v10_response

    from tests.support.wire import KafkaWire

    request = v10.MetadataRequest(
        topics=(v10.MetadataRequestTopic(topic_id=None, name=None),),
        allow_auto_topic_creation=False,
        include_cluster_authorized_operations=False,
        include_topic_authorized_operations=False,
    )
    log_offset = len(hostile_target.log())
    with KafkaWire("127.0.0.1", hostile_target.port) as wire:
        response = wire.request(request)
    assert isinstance(response, v10_response.MetadataResponse)
    (topic,) = response.topics
    assert topic.error_code == ErrorCode.invalid_request
    assert topic.name == ""
    assert _tracebacks(hostile_target.log()[log_offset:]) == []


def _advertised(port: int) -> dict[int, range]:
    with RawConnection("127.0.0.1", port) as conn:
        response = api_versions_v0(conn)
    return {k.api_key: range(k.min_version, k.max_version + 1) for k in response.api_keys}


def test_fuzzed_frames_of_every_advertised_api_cause_no_traceback_and_spare_a_real_client(
    hostile_target: BrokerProcess,
) -> None:
    topic = "fuzz-bystander"
    confluent_create_topic(hostile_target.bootstrap, topic, 1)
    assert hostile_target.proc is not None
    pid = hostile_target.proc.pid
    rss_start = vm_rss_kib(pid)
    log_offset = len(hostile_target.log())
    factory = FrameFactory(_advertised(hostile_target.port), FUZZ_SEED)
    sent_during: list[tuple[int, int]] = []
    failures: list[BaseException] = []

    def well_behaved() -> None:
        try:
            for _ in range(3):
                sent_during.extend(confluent_produce(hostile_target.bootstrap, topic, records))
        except BaseException as exc:
            failures.append(exc)

    records = make_records(100)
    client = threading.Thread(target=well_behaved)
    client.start()
    sender = FrameSender(hostile_target.port)
    rss_peak = rss_start
    for _ in range(FUZZ_FRAMES // 1000):
        sender.send(factory.frames(1000))
        rss_peak = max(rss_peak, vm_rss_kib(pid))
    client.join(timeout=120)

    stats = sender.stats
    assert stats.frames == FUZZ_FRAMES
    assert set(stats.by_mutation) >= {"null", "truncate", "huge_length", "random_bytes"}
    assert stats.closed_by_broker > 0 and stats.responses > 0
    assert _tracebacks(hostile_target.log()[log_offset:]) == []
    assert "internal error" not in hostile_target.log()[log_offset:]
    assert not failures, failures
    # ... and after: every record produced during the fuzzing, and more, are there
    after = confluent_produce(hostile_target.bootstrap, topic, records)
    consumed = confluent_consume_all(hostile_target.bootstrap, topic, 1)
    assert len(consumed) == len(sent_during) + len(after) == 4 * len(records)
    assert [c.record for c in consumed] == records * 4
    assert rss_peak - rss_start < RSS_GROWTH_LIMIT_KIB, (rss_start, rss_peak)
    assert hostile_target.alive()
