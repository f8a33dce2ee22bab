from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.broker import BrokerProcess
from tests.support.wire import KafkaWire


@pytest.fixture
def wire(shared_broker: BrokerProcess) -> Iterator[KafkaWire]:
    with KafkaWire("127.0.0.1", shared_broker.port) as connection:
        yield connection


@pytest.fixture
def topic_name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"
