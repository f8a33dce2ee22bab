"""consumer_byte_rate, request_percentage and controller_mutation_rate, enforced on real
clients and raw requests. The broker keeps 2 one-second windows (quota.window.num=2), so
a quota's burst is 2 s worth and throttling starts soon."""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from kio.schema.create_topics.v5 import request as create_v5
from kio.schema.metadata.v4 import request as metadata_v4

from tests.support.broker import BrokerProcess
from tests.support.clients import Record, confluent_create_topic, confluent_produce
from tests.support.quotas import alter_quotas
from tests.support.wire import KafkaWire, create_topics

THROTTLING_QUOTA_EXCEEDED = 89


@pytest.fixture(scope="module")
def quota_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    proc = BrokerProcess(
        Path(tmp_path_factory.mktemp("quota-broker")),
        overrides={"quota.window.num": "2", "quota.window.size.seconds": "1"},
    )
    proc.start()
    yield proc
    proc.stop()


def _set_quota(broker: BrokerProcess, client_id: str, key: str, value: float) -> None:
    with KafkaWire("127.0.0.1", broker.port) as wire:
        assert alter_quotas(wire, {"client-id": client_id}, {key: value}).error_code == 0


def test_consumer_byte_rate_holds_a_consumer_near_its_quota(quota_broker: BrokerProcess) -> None:
    quota = 512 * 1024
    topic = f"cq-{uuid.uuid4().hex[:8]}"
    confluent_create_topic(quota_broker.bootstrap, topic, 1)
    value = b"v" * 8_000
    count = 512
    total = count * len(value)  # 4 MB: 2 MB of burst, then ~4 s at the quota
    # 64 KB batches: a Fetch returns whole batches, so they set the grain of the measure.
    confluent_produce(
        quota_broker.bootstrap, topic, [Record(None, value)] * count, **{"batch.size": 65_536}
    )
    _set_quota(quota_broker, "slow-consumer", "consumer_byte_rate", quota)
    consumer = Consumer(
        {
            "bootstrap.servers": quota_broker.bootstrap,
            "group.id": f"g-{uuid.uuid4().hex[:8]}",
            "client.id": "slow-consumer",
            "auto.offset.reset": "earliest",
            "fetch.max.bytes": 131_072,
            "message.max.bytes": 131_072,
            "max.partition.fetch.bytes": 131_072,
        }
    )
    consumer.subscribe([topic])
    received = 0
    burst_done_at = None
    burst = 2 * quota  # quota.window.num x quota.window.size.seconds worth
    deadline = time.monotonic() + 60
    try:
        while received < total and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            received += len(msg.value())
            if burst_done_at is None and received >= burst:
                burst_done_at, received_then = time.monotonic(), received
        finished_at = time.monotonic()
    finally:
        consumer.close()
    assert received >= total, f"consumed only {received} bytes before the deadline"
    assert burst_done_at is not None
    rate = (received - received_then) / (finished_at - burst_done_at)
    # After the burst the consumer gets the quota: 64 KB batches in 128 KB fetches make
    # it coarse, hence ±25% (unthrottled, this consumer reads tens of MB/s).
    assert 0.75 * quota <= rate <= 1.25 * quota, rate


def test_request_percentage_throttles_a_busy_client(quota_broker: BrokerProcess) -> None:
    # 1% of a thread, 2 windows: 20 ms of handler time, then throttle_time_ms > 0.
    _set_quota(quota_broker, "busy-client", "request_percentage", 1.0)
    request = metadata_v4.MetadataRequest(topics=None, allow_auto_topic_creation=False)
    deadline = time.monotonic() + 30
    throttle = datetime.timedelta(0)
    with KafkaWire("127.0.0.1", quota_broker.port, client_id="busy-client") as wire:
        while throttle == datetime.timedelta(0) and time.monotonic() < deadline:
            throttle = wire.request(request).throttle_time
    assert throttle > datetime.timedelta(0)
    with KafkaWire("127.0.0.1", quota_broker.port, client_id="idle-client") as other:
        assert other.request(request).throttle_time == datetime.timedelta(0)


def test_controller_mutation_rate_is_strict_from_create_topics_v6(
    quota_broker: BrokerProcess,
) -> None:
    _set_quota(quota_broker, "mutator", "controller_mutation_rate", 1.0)  # burst: 2 partitions
    first, second, third = (f"m-{uuid.uuid4().hex[:8]}" for _ in range(3))
    with KafkaWire("127.0.0.1", quota_broker.port, client_id="mutator") as wire:
        # Accepted while within the quota, even though it overshoots: 5 partitions.
        response = create_topics(wire, first, 5)
        assert response.topics[0].error_code == 0
        assert response.throttle_time > datetime.timedelta(0)
    with KafkaWire("127.0.0.1", quota_broker.port, client_id="mutator") as wire:
        response = create_topics(wire, second, 1)
        assert response.topics[0].error_code == THROTTLING_QUOTA_EXCEEDED
        assert response.topics[0].error_message == "The throttling quota has been exceeded."
        assert response.throttle_time > datetime.timedelta(0)
    with KafkaWire("127.0.0.1", quota_broker.port, client_id="mutator") as wire:
        # v5 predates THROTTLING_QUOTA_EXCEEDED: permissive, only throttle_time_ms says so.
        response = wire.request(
            create_v5.CreateTopicsRequest(
                topics=(
                    create_v5.CreatableTopic(
                        name=third,
                        num_partitions=1,
                        replication_factor=-1,
                        assignments=(),
                        configs=(),
                    ),
                ),
                validate_only=False,
            )
        )
        assert response.topics[0].error_code == 0
        assert response.throttle_time > datetime.timedelta(0)
