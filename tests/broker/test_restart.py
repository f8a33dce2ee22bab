"""Records and topics survive a broker restart: clean (SIGTERM) and crash (SIGKILL).

Only acknowledged records are promised after a crash; acks=all means the broker has
written them to the OS before answering, so a killed process loses none of them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

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
