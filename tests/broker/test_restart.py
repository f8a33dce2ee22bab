"""Records and topics survive a broker restart: clean (SIGTERM) and crash (SIGKILL).

Only acknowledged records are promised after a crash; acks=all means the broker has
written them to the OS before answering, so a killed process loses none of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from tests.support.broker import BrokerProcess
from tests.support.clients import (
    Consumed,
    assert_round_trip,
    confluent_consume_all,
    confluent_create_topic,
    confluent_end_offsets,
    confluent_partition_count,
    confluent_produce,
    make_records,
)

PARTITIONS = 3

pytestmark = pytest.mark.timeout(120)


def _sigterm_restart(broker: BrokerProcess) -> None:
    broker.restart()


def _sigkill_restart(broker: BrokerProcess) -> None:
    broker.kill()
    broker.start()


@pytest.mark.parametrize(
    "restart",
    [
        pytest.param(_sigterm_restart, id="sigterm"),
        pytest.param(_sigkill_restart, id="sigkill"),
    ],
)
def test_broker_restart_keeps_acknowledged_records_and_topic(
    broker: BrokerProcess, restart: Callable[[BrokerProcess], None]
) -> None:
    topic = "survives-restart"
    empty_topic = "empty-survives-restart"
    records = make_records(3_000)
    confluent_create_topic(broker.bootstrap, topic, PARTITIONS)
    confluent_create_topic(broker.bootstrap, empty_topic, 2)
    delivered = confluent_produce(broker.bootstrap, topic, records, acks="all")

    restart(broker)

    assert confluent_partition_count(broker.bootstrap, topic) == PARTITIONS
    assert confluent_partition_count(broker.bootstrap, empty_topic) == 2
    consumed = confluent_consume_all(broker.bootstrap, topic, PARTITIONS)
    assert_round_trip(records, consumed, partitions=PARTITIONS, delivered=delivered)


@pytest.mark.parametrize(
    "restart",
    [
        pytest.param(_sigterm_restart, id="sigterm"),
        pytest.param(_sigkill_restart, id="sigkill"),
    ],
)
def test_broker_restart_continues_offsets_after_the_last_record(
    broker: BrokerProcess, restart: Callable[[BrokerProcess], None]
) -> None:
    """A restarted broker must never hand out an offset twice (consumers would skip data)."""
    topic = "offsets-continue"
    before = make_records(500)
    confluent_create_topic(broker.bootstrap, topic, PARTITIONS)
    confluent_produce(broker.bootstrap, topic, before, acks="all")
    ends_before = confluent_end_offsets(broker.bootstrap, topic, PARTITIONS)

    restart(broker)

    assert confluent_end_offsets(broker.bootstrap, topic, PARTITIONS) == ends_before
    after = make_records(500, distinct_keys=101)
    delivered = confluent_produce(broker.bootstrap, topic, after, acks="all")
    for partition, offset in delivered:
        assert offset >= ends_before[partition], (
            f"partition {partition}: new record got offset {offset}, log ended at "
            f"{ends_before[partition]} before the restart"
        )
    consumed = confluent_consume_all(broker.bootstrap, topic, PARTITIONS)
    stored = {(c.partition, c.offset): c.record for c in consumed}
    for record, position in zip(after, delivered, strict=True):
        assert stored[position] == record
    assert len(consumed) == len(before) + len(after)
    _assert_no_duplicate_positions(consumed)


def _assert_no_duplicate_positions(consumed: list[Consumed]) -> None:
    positions = [(c.partition, c.offset) for c in consumed]
    assert len(set(positions)) == len(positions)


def test_broker_sigterm_while_a_consumer_long_polls_exits_cleanly(broker: BrokerProcess) -> None:
    """An operator's stop with consumers attached (the normal case) exits 0, promptly,
    and logs no errors or tracebacks that would page someone."""
    topic = "idle-topic"
    confluent_create_topic(broker.bootstrap, topic, 1)
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": "headwater-tests-unused",
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 10_000,  # every Fetch waits for data that never comes
        }
    )
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        assert consumer.poll(1.0) is None
        log_offset = len(broker.log())
        started = time.monotonic()

        returncode = broker.stop(timeout=8)

        assert time.monotonic() - started < 8, "broker did not stop within 8 s of SIGTERM"
        assert returncode == 0
        shutdown_log = broker.log()[log_offset:]
        assert "Traceback" not in shutdown_log and " ERROR " not in shutdown_log, shutdown_log
    finally:
        consumer.close()
