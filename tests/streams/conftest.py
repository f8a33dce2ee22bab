"""Streams fixtures: a session cookie for the websocket handshake, the console's cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from tests.support.broker import BrokerProcess


@pytest.fixture
def session_cookie(client: Client, db: None) -> str:
    """``sessionid=...`` of a logged-in operator, as a browser would send it."""
    client.force_login(User.objects.create_user("operator", password="pw", is_staff=True))
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def cluster(settings: Settings, shared_broker: BrokerProcess) -> Iterator[BrokerProcess]:
    settings.HEADWATER_BOOTSTRAP_SERVERS = shared_broker.bootstrap
    yield shared_broker
