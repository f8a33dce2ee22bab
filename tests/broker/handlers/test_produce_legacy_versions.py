"""Produce v0-v2: advertised (KAFKA-18659), answered in their own format, never stored.

Kafka 4.0 removed Produce v0-v2 (KIP-896) but advertises Produce from v0, because
librdkafka disables compression when the advertised minimum is above 0. Headwater does
the same, and answers a v0-v2 request with UNSUPPORTED_VERSION per partition in that
version's format (on main before this change, such a request closed the connection).
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from kio.schema.errors import ErrorCode

from broker.protocol import legacy_produce, messages, records
from tests.support.broker import BrokerProcess
from tests.support.clients import (
    confluent_create_topic,
    confluent_end_offsets,
    confluent_produce,
    make_records,
)
from tests.support.net import wait_until
from tests.support.raw_wire import RawConnection, api_versions_v0, encode_request
from tests.support.wire import record_batch

pytestmark = pytest.mark.timeout(120)


def _legacy_request(version: int, topic: str, *, acks: int = 1) -> object:
    module = legacy_produce.request_module(version)
    return module.ProduceRequest(
        acks=acks,
        timeout=datetime.timedelta(seconds=5),
        topic_data=(
            module.TopicProduceData(
                name=topic,
                partition_data=tuple(
                    module.PartitionProduceData(index=index, records=record_batch([(b"k", b"v")]))
                    for index in (0, 1)
                ),
            ),
        ),
    )


def test_api_versions_advertises_produce_from_v0(shared_broker: BrokerProcess) -> None:
    with RawConnection("127.0.0.1", shared_broker.port) as conn:
        (produce,) = [k for k in api_versions_v0(conn).api_keys if k.api_key == 0]
    assert produce.min_version == 0


@pytest.mark.parametrize("version", legacy_produce.VERSIONS)
def test_produce_v0_to_v2_gets_unsupported_version_in_its_own_format(
    shared_broker: BrokerProcess, version: int
) -> None:
    topic = f"legacy-produce-v{version}"
    confluent_create_topic(shared_broker.bootstrap, topic, 2)
    with RawConnection("127.0.0.1", shared_broker.port) as conn:
        correlation_id, response = conn.request(
            _legacy_request(version, topic), messages.response_type(0, version)
        )
        assert correlation_id == 1
        (answer,) = response.responses  # type: ignore[attr-defined]
        assert answer.name == topic
        assert [(p.index, p.error_code, p.base_offset) for p in answer.partition_responses] == [
            (0, ErrorCode.unsupported_version, -1),
            (1, ErrorCode.unsupported_version, -1),
        ]
        # the whole frame was this version's layout (nothing left over), and the
        # connection goes on serving
        assert api_versions_v0(conn).error_code == ErrorCode.none
    assert confluent_end_offsets(shared_broker.bootstrap, topic, 2) == [0, 0]


def test_produce_v0_with_acks_0_closes_the_connection_with_one_log_line(
    shared_broker: BrokerProcess,
) -> None:
    """acks=0 gets no response, so the refusal is a closed connection (Kafka closes an
    acks=0 connection on any produce error)."""
    topic = "legacy-produce-acks0"
    confluent_create_topic(shared_broker.bootstrap, topic, 2)
    with RawConnection("127.0.0.1", shared_broker.port) as conn:
        log_offset = len(shared_broker.log())
        conn.send(encode_request(_legacy_request(0, topic, acks=0), correlation_id=1))
        assert conn.closed_by_peer(timeout=5)
        port = re.compile(rf"\b{conn.local_port}\b")

        def logged() -> list[str]:
            return [ln for ln in shared_broker.log()[log_offset:].splitlines() if port.search(ln)]

        (line,) = wait_until(logged, timeout=5, what="the broker's line about the connection")
        assert "KIP-896" in line
    assert confluent_end_offsets(shared_broker.bootstrap, topic, 2) == [0, 0]


def _stored_codecs(broker: BrokerProcess, topic: str) -> set[int]:
    return {
        header.compression
        for segment in (broker.log_dir / f"{topic}-0").glob("*.log")
        for header in records.iter_batches(Path(segment).read_bytes())
    }


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_librdkafka_still_compresses_confluent_kafka_and_debian_kcat(
    shared_broker: BrokerProcess, codec: str
) -> None:
    """KAFKA-18659: with Produce advertised from v0, librdkafka keeps compression on;
    confluent-kafka 2.x and Debian's kcat (librdkafka 2.0.2) both store compressed
    batches."""
    codec_id = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}[codec]
    topic = f"legacy-compress-confluent-{codec}"
    confluent_create_topic(shared_broker.bootstrap, topic, 1)
    confluent_produce(
        shared_broker.bootstrap,
        topic,
        make_records(200, binary=False),
        **{"compression.type": codec},
    )
    assert _stored_codecs(shared_broker, topic) == {codec_id}

    kcat = shutil.which("kcat")
    assert kcat, "kcat not found: install the Debian package `kcat` (.ci/run does)"
    topic = f"legacy-compress-kcat-{codec}"
    confluent_create_topic(shared_broker.bootstrap, topic, 1)
    lines = b"".join(b"value %d %s\n" % (i, b"x" * 50) for i in range(200))
    subprocess.run(
        [kcat, "-b", shared_broker.bootstrap, "-P", "-t", topic, "-p", "0", "-z", codec],
        input=lines,
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert confluent_end_offsets(shared_broker.bootstrap, topic, 1) == [200]
    assert _stored_codecs(shared_broker, topic) == {codec_id}
