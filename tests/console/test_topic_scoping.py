"""Topic pages and the live tail show a member only its tenants' topics; another
tenant's topic answers exactly like a topic that does not exist."""

from __future__ import annotations

import uuid

import pytest
from channels.testing import WebsocketCommunicator
from confluent_kafka.admin import AdminClient, NewTopic
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from console.models import Membership, Plan, Tenant
from tests.support.broker import BrokerProcess


@pytest.fixture
def topics(cluster: BrokerProcess) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    names = {"acme": f"acme.orders-{suffix}", "globex": f"globex.orders-{suffix}"}
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    for future in admin.create_topics([NewTopic(n, 1, 1) for n in names.values()]).values():
        future.result(15)
    return names


@pytest.fixture
def viewer_client(db: None, client: Client) -> Client:
    plan = Plan.objects.create(name="basic")
    for slug in ("acme", "globex"):
        Tenant.objects.create(name=slug, slug=slug, plan=plan)
    viewer = User.objects.create_user("viewer")
    Membership.objects.create(user=viewer, tenant=Tenant.objects.get(slug="acme"), role="viewer")
    client.force_login(viewer)
    return client


def test_a_viewer_lists_only_its_tenants_topics(
    viewer_client: Client, topics: dict[str, str]
) -> None:
    suffix = topics["acme"].rpartition("-")[2]  # the list pages by 50: search for ours
    page = viewer_client.get(reverse("topic-list"), {"q": suffix}).content.decode()
    assert topics["acme"] in page
    assert topics["globex"] not in page and "globex" not in page


@pytest.mark.parametrize("view", ["topic-detail", "topic-delete"])
def test_another_tenants_topic_is_not_found(
    viewer_client: Client, topics: dict[str, str], view: str
) -> None:
    assert viewer_client.get(reverse(view, args=[topics["globex"]])).status_code == 404
    assert viewer_client.get(reverse(view, args=[topics["acme"]])).status_code in (200, 403)


def test_the_operator_sees_every_topic(operator_client: Client, topics: dict[str, str]) -> None:
    suffix = topics["acme"].rpartition("-")[2]  # the list pages by 50: search for ours
    page = operator_client.get(reverse("topic-list"), {"q": suffix}).content.decode()
    assert topics["acme"] in page and topics["globex"] in page


def test_the_live_tail_refuses_another_tenants_topic(
    viewer_client: Client, topics: dict[str, str]
) -> None:
    from asgiref.sync import async_to_sync

    from console.asgi import application

    cookie = f"sessionid={viewer_client.cookies['sessionid'].value}"
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"),
               (b"cookie", cookie.encode())]  # fmt: skip

    async def connects(topic: str) -> bool:
        socket = WebsocketCommunicator(application, f"/ws/topics/{topic}/tail/", headers=headers)
        connected, _ = await socket.connect(timeout=15)
        if connected:
            await socket.disconnect()
        return connected

    assert async_to_sync(connects)(topics["globex"]) is False
    assert async_to_sync(connects)(topics["acme"]) is True
