"""Services validate by Kafka's rules before any request reaches the cluster."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from console import broker_admin, services


@pytest.fixture
def no_broker_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(broker_admin, "create_topic", lambda **kw: calls.append("create"))
    monkeypatch.setattr(broker_admin, "delete_topic", lambda **kw: calls.append("delete"))
    return calls


@pytest.mark.parametrize(
    ("name", "partitions", "replication_factor"),
    [
        ("bad name", 1, 1),
        ("ok", 0, 1),
        ("ok", -1, 1),
        ("ok", 10_001, 1),
        ("ok", 1, 0),
        ("ok", 1, -2),
        ("ok", 1, 40_000),
        ("..", 1, 1),
    ],
)
def test_topic_create_rejects_bad_values_without_calling_the_broker(
    no_broker_calls: list[str],
    operator: User,
    name: str,
    partitions: int,
    replication_factor: int,
) -> None:
    with pytest.raises(ValidationError):
        services.topic_create(
            actor=operator,
            name=name,
            partitions=partitions,
            replication_factor=replication_factor,
        )
    assert no_broker_calls == []


def test_topic_delete_rejects_illegal_name_without_calling_the_broker(
    no_broker_calls: list[str], operator: User
) -> None:
    with pytest.raises(ValidationError):
        services.topic_delete(actor=operator, name="a/b")
    assert no_broker_calls == []


def test_topic_delete_publishes_topic_deleted_to_the_topics_group(
    no_broker_calls: list[str], operator: User
) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from console.events import topic_group_name

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(topic_group_name("gone"), channel)
    services.topic_delete(actor=operator, name="gone")
    assert no_broker_calls == ["delete"]
    assert async_to_sync(layer.receive)(channel) == {"type": "topic.deleted", "topic": "gone"}


def test_topic_group_name_fits_channels_limits_for_the_longest_topic_name() -> None:
    from console.events import topic_group_name

    assert topic_group_name("orders") == "topic.orders"
    long_name = topic_group_name("x" * 249)
    assert len(long_name) < 100
    assert long_name != topic_group_name("x" * 248 + "y")
