"""Fixtures shared by the whole suite: real servers on loopback, started per test run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import BrokerProcess


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    """A fresh broker subprocess with its own data directory (per test)."""
    proc = BrokerProcess(tmp_path / "broker")
    proc.start()
    yield proc
    proc.stop()
    assert proc.proc is not None


@pytest.fixture(scope="session")
def shared_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """One broker for tests that only need topics of their own (faster than per-test)."""
    proc = BrokerProcess(tmp_path_factory.mktemp("shared-broker"))
    proc.start()
    yield proc
    proc.stop()
