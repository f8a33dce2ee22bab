"""Produce and Fetch at the protocol level: acks, long polling, errors."""

from __future__ import annotations

import datetime
import threading

from kio.schema.errors import ErrorCode
from kio.schema.fetch.v12 import request as fetch_v12
from kio.schema.metadata.v12 import request as metadata_v12

from broker.protocol import records
from tests.broker.handlers.test_topics_admin import create
from tests.support.broker import BrokerProcess
from tests.support.wire import KafkaWire, produce_request, record_batch


def fetch(wire: KafkaWire, topic: str, offset: int, max_wait_ms: int, min_bytes: int = 1):
    """Fetch v12 of partition 0 from ``offset``."""
    return wire.request(
        fetch_request(topic, [0], offset=offset, max_wait_ms=max_wait_ms, min_bytes=min_bytes)
    )


def fetch_request(
    topic: str,
    partitions: list[int],
    *,
    offset: int = 0,
    max_wait_ms: int = 0,
    min_bytes: int = 1,
    max_bytes: int = 1 << 20,
    partition_max_bytes: int = 1 << 20,
) -> fetch_v12.FetchRequest:
    return fetch_v12.FetchRequest(
        replica_id=-1,
        max_wait=datetime.timedelta(milliseconds=max_wait_ms),
        min_bytes=min_bytes,
        max_bytes=max_bytes,
        isolation_level=0,
        session_id=0,
        session_epoch=-1,
        topics=(
            fetch_v12.FetchTopic(
                topic=topic,
                partitions=tuple(
                    fetch_v12.FetchPartition(
                        partition=p,
                        current_leader_epoch=-1,
                        fetch_offset=offset,
                        last_fetched_epoch=-1,
                        log_start_offset=-1,
                        partition_max_bytes=partition_max_bytes,
                    )
                    for p in partitions
                ),
            ),
        ),
        forgotten_topics_data=(),
        rack_id="",
    )


def fetch_at_version(version: int, topic: str, partitions: list[int]) -> object:
    """A Fetch request of any version, from offset 0 of ``partitions``."""
    from broker.protocol import messages

    module = messages.request_module(1, version)
    return messages.build(
        messages.request_type(1, version),
        replica_id=-1,
        max_wait=datetime.timedelta(0),
        min_bytes=1,
        max_bytes=1 << 24,
        isolation_level=0,
        session_id=0,
        session_epoch=-1,
        topics=(
            messages.build(
                module.FetchTopic,
                topic=topic,
                partitions=tuple(
                    messages.build(
                        module.FetchPartition,
                        partition=p,
                        current_leader_epoch=-1,
                        fetch_offset=0,
                        last_fetched_epoch=-1,
                        log_start_offset=-1,
                        partition_max_bytes=1 << 22,
                    )
                    for p in partitions
                ),
            ),
        ),
        forgotten_topics_data=(),
        rack_id="",
    )


def ensure_topic(wire: KafkaWire, topic: str) -> None:
    wire.request(
        metadata_v12.MetadataRequest(
            topics=(metadata_v12.MetadataRequestTopic(topic_id=None, name=topic),),
            allow_auto_topic_creation=True,
            include_topic_authorized_operations=False,
        )
    )


def test_fetch_long_poll_is_woken_by_an_append(
    shared_broker: BrokerProcess, wire: KafkaWire, topic_name: str
) -> None:
    ensure_topic(wire, topic_name)
    result: dict[str, object] = {}

    def long_poll() -> None:
        with KafkaWire("127.0.0.1", shared_broker.port) as consumer:
            result["response"] = fetch(consumer, topic_name, 0, max_wait_ms=60_000)

    poller = threading.Thread(target=long_poll)
    poller.start()
    assert wire.produce(topic_name, record_batch([(b"k", b"wake up")])).error_code == ErrorCode.none
    poller.join(timeout=30)  # far below the 60 s max_wait: only the append can end it
    assert not poller.is_alive(), "the fetch was not woken by the append"
    partition = result["response"].responses[0].partitions[0]  # type: ignore[attr-defined]
    assert partition.high_watermark == 1
    assert [h.record_count for h in records.iter_batches(partition.records)] == [1]


def test_fetch_with_nothing_new_returns_empty_after_max_wait(
    wire: KafkaWire, topic_name: str
) -> None:
    ensure_topic(wire, topic_name)
    partition = fetch(wire, topic_name, 0, max_wait_ms=100).responses[0].partitions[0]
    assert partition.error_code == ErrorCode.none
    assert partition.records == b"" and partition.high_watermark == 0


def test_fetch_beyond_the_log_end_is_offset_out_of_range(wire: KafkaWire, topic_name: str) -> None:
    ensure_topic(wire, topic_name)
    partition = fetch(wire, topic_name, 5, max_wait_ms=0).responses[0].partitions[0]
    assert partition.error_code == ErrorCode.offset_out_of_range


def test_produce_acks_zero_gets_no_response_but_is_stored(wire: KafkaWire, topic_name: str) -> None:
    ensure_topic(wire, topic_name)
    wire._correlation += 1
    from tests.support.raw_wire import encode_request

    request = produce_request(topic_name, record_batch([(b"k", b"fire")]), acks=0)
    wire.send_raw(encode_request(request, correlation_id=wire._correlation))
    # The next response on this connection must be the fetch's, not a produce ack.
    partition = fetch(wire, topic_name, 0, max_wait_ms=5000).responses[0].partitions[0]
    assert partition.high_watermark == 1


def test_produce_reports_partition_errors_without_closing_the_connection(
    wire: KafkaWire, topic_name: str
) -> None:
    ensure_topic(wire, topic_name)
    corrupt = bytearray(record_batch([(b"k", b"v")]))
    corrupt[-1] ^= 1
    assert wire.produce(topic_name, bytes(corrupt)).error_code == ErrorCode.corrupt_message
    missing = wire.produce(topic_name + "-missing", record_batch([(b"k", b"v")]))
    assert missing.error_code == ErrorCode.unknown_topic_or_partition
    assert wire.produce(topic_name, record_batch([(b"k", b"v")])).base_offset == 0


def fetch_partitions(
    wire: KafkaWire, topic: str, partitions: list[int], *, max_bytes: int, partition_max_bytes: int
):
    request = fetch_request(
        topic, partitions, max_bytes=max_bytes, partition_max_bytes=partition_max_bytes
    )
    return wire.request(request).responses[0].partitions


def produce_to(wire: KafkaWire, topic: str, partition: int, batch: bytes) -> None:
    assert wire.produce(topic, batch, partition=partition).error_code == ErrorCode.none


def test_fetch_honours_partition_and_request_max_bytes_in_whole_batches(
    wire: KafkaWire, topic_name: str
) -> None:
    create(wire, topic_name, partitions=2)
    batch = record_batch([(b"k", b"x" * 1000)])
    for partition in (0, 1):
        for _ in range(5):
            produce_to(wire, topic_name, partition, batch)
    size = len(batch)

    # Per partition: as many whole batches as fit, never a partial one.
    p0, p1 = fetch_partitions(
        wire, topic_name, [0, 1], max_bytes=1 << 20, partition_max_bytes=size * 2 + 10
    )
    assert [len(list(records.iter_batches(p.records))) for p in (p0, p1)] == [2, 2]
    assert len(p0.records) == 2 * size

    # A limit smaller than one batch still returns that whole batch: consumers progress.
    (tiny,) = fetch_partitions(wire, topic_name, [0], max_bytes=1 << 20, partition_max_bytes=10)
    assert len(tiny.records) == size

    # The request budget is shared: the first partition may exceed it, then nothing more.
    p0, p1 = fetch_partitions(
        wire, topic_name, [0, 1], max_bytes=size // 2, partition_max_bytes=1 << 20
    )
    assert len(p0.records) == size and p1.records == b""
    assert p1.high_watermark == 5  # still reported, so the consumer knows there is more


def test_fetch_below_v10_is_refused_zstd_data_it_could_not_read(
    wire: KafkaWire, topic_name: str
) -> None:
    from broker.protocol import compression, record_codec

    ensure_topic(wire, topic_name)
    zstd_batch = record_codec.encode_batch(
        [record_codec.Record(0, 0, b"k", b"v" * 100)], base_timestamp=0, codec=compression.ZSTD
    )
    produce_to(wire, topic_name, 0, zstd_batch)

    old = wire.request(fetch_at_version(9, topic_name, [0]))
    assert old.responses[0].partitions[0].error_code == ErrorCode.unsupported_compression_type
    (current,) = fetch_partitions(
        wire, topic_name, [0], max_bytes=1 << 20, partition_max_bytes=1 << 20
    )
    assert current.error_code == ErrorCode.none
    # the same batch, but for the broker-assigned base offset and leader epoch (bytes 0-16)
    assert current.records[16:] == zstd_batch[16:]


def test_large_multi_partition_fetches_arrive_intact_in_every_version(
    wire: KafkaWire, topic_name: str
) -> None:
    """Record sets this large are written to the socket as buffers of their own (not
    copied into the response): every version must still frame and decode exactly."""
    create(wire, topic_name, partitions=3)
    produced = {}
    for partition in range(3):
        batches = [
            record_batch([(b"k", bytes([partition, 7]) * 30_000)]),
            record_batch([(b"k", b"small")]),
        ]
        for batch in batches:
            produce_to(wire, topic_name, partition, batch)
        produced[partition] = batches
    for version in range(4, 13):
        response = wire.request(fetch_at_version(version, topic_name, [0, 1, 2, 3]))
        (topic,) = response.responses  # type: ignore[attr-defined]
        *found, missing = topic.partitions
        assert missing.error_code == ErrorCode.unknown_topic_or_partition
        for partition in found:
            assert partition.error_code == ErrorCode.none, version
            got = [
                partition.records[h.position : h.position + h.size]
                for h in records.iter_batches(partition.records)
            ]
            expected = produced[partition.partition_index]
            assert [b[16:] for b in got] == [b[16:] for b in expected], version
            assert [h.base_offset for h in records.iter_batches(partition.records)] == [0, 1]
