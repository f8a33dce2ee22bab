"""Console fixtures: a logged-in operator and the console pointed at a real broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.support.broker import BrokerProcess
from tests.support.net import free_port


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user(
        "operator", password="correct horse battery staple", is_staff=True
    )


@pytest.fixture
def operator_client(client: Client, operator: User) -> Client:
    client.force_login(operator)
    return client


@pytest.fixture
def cluster(settings: SettingsWrapper, shared_broker: BrokerProcess) -> Iterator[BrokerProcess]:
    """The console configured to manage the session's shared broker."""
    settings.HEADWATER_BOOTSTRAP_SERVERS = shared_broker.bootstrap
    yield shared_broker


@pytest.fixture
def cluster_down(settings: SettingsWrapper) -> str:
    """The console configured for a cluster address where nothing listens."""
    bootstrap = f"127.0.0.1:{free_port()}"
    settings.HEADWATER_BOOTSTRAP_SERVERS = bootstrap
    settings.HEADWATER_ADMIN_TIMEOUT = 0.5
    return bootstrap
