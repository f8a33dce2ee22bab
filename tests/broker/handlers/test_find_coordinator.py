from __future__ import annotations

from kio.schema.errors import ErrorCode
from kio.schema.find_coordinator.v1 import request as find_v1
from kio.schema.find_coordinator.v4 import request as find_v4

from tests.support.broker import BrokerProcess
from tests.support.wire import KafkaWire


def test_this_broker_coordinates_groups(shared_broker: BrokerProcess, wire: KafkaWire) -> None:
    response = wire.request(find_v1.FindCoordinatorRequest(key="orders-service", key_type=0))
    assert response.error_code == ErrorCode.none
    assert (response.node_id, response.host, response.port) == (1, "127.0.0.1", shared_broker.port)


def test_batched_lookup_answers_every_key_and_transactions_are_not_available(
    wire: KafkaWire,
) -> None:
    groups = wire.request(find_v4.FindCoordinatorRequest(key_type=0, coordinator_keys=("a", "b")))
    assert [(c.key, c.error_code) for c in groups.coordinators] == [
        ("a", ErrorCode.none),
        ("b", ErrorCode.none),
    ]
    txn = wire.request(find_v4.FindCoordinatorRequest(key_type=1, coordinator_keys=("tx",)))
    assert txn.coordinators[0].error_code == ErrorCode.coordinator_not_available
