"""A broker tuned for group tests: no initial rebalance delay, short sessions allowed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import BrokerProcess

GROUP_OVERRIDES = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
}


@pytest.fixture(scope="module")
def group_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    proc = BrokerProcess(tmp_path_factory.mktemp("group-broker"), overrides=GROUP_OVERRIDES)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def kip848_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """Short KIP-848 sessions and heartbeats, so membership changes show quickly."""
    overrides = {
        **GROUP_OVERRIDES,
        "group.consumer.session.timeout.ms": "6000",
        "group.consumer.heartbeat.interval.ms": "500",
    }
    proc = BrokerProcess(tmp_path_factory.mktemp("kip848-broker"), overrides=overrides)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def restartable_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    """A broker of this test's own, which the test may restart."""
    proc = BrokerProcess(tmp_path / "broker", overrides=GROUP_OVERRIDES)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def names() -> tuple[str, str]:
    """A fresh (topic, group) pair."""
    suffix = uuid.uuid4().hex[:10]
    return f"topic-{suffix}", f"group-{suffix}"
