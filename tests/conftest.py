"""Fixtures shared by the whole suite: real servers on loopback, started per test run."""

from __future__ import annotations

import os

# Responses are checked against their schema's nullability where handlers build them,
# in this process and in every broker subprocess the tests start (broker.protocol.messages).
os.environ["HEADWATER_STRICT_BUILD"] = "1"

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import BrokerProcess
from tests.support.servers import MissingServerBinary, PostgresServer, RedisServer


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


def _serving(server: PostgresServer | RedisServer) -> Iterator[str]:
    """Start ``server``, yield its URL, stop it. A missing server binary fails the tests
    that need it (naming the Debian package): a broken environment, not a reason to skip."""
    try:
        server.start()
    except MissingServerBinary as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    except BaseException:
        server.stop()
        raise
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgres://user:pass@127.0.0.1:PORT/db`` of a private PostgreSQL for this run.

    A missing server binary fails the tests that need it (naming the Debian package):
    it is a broken environment, not a reason to skip.
    """
    yield from _serving(PostgresServer())


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a private, non-persistent redis-server for this run."""
    yield from _serving(RedisServer())


@pytest.fixture(scope="session")
def django_db_modify_db_settings_tox_suffix(postgres_url: str) -> None:
    """pytest-django's database tests run on the session's real PostgreSQL, as the
    console does in production (``DATABASE_URL``), not on SQLite. This is the first of
    pytest-django's settings hooks, so its xdist suffix still applies after it."""
    import dj_database_url
    from asgiref.local import Local
    from django.conf import settings
    from django.db import connections

    default = settings.DATABASES["default"]
    default.clear()
    default.update(dj_database_url.parse(postgres_url, conn_max_age=0))
    # Django configured its connections from SQLite at start-up: configure them again.
    connections.close_all()
    connections.__dict__.pop("settings", None)
    connections._settings = None
    connections._connections = Local(connections.thread_critical)
