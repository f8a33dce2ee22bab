"""The live tail websocket, through the console's real ASGI stack (auth, origin, routing).

Each scenario runs under ``async_to_sync`` so the session lookup (ORM) runs back on the
test's thread and sees its transaction. Records are produced with confluent-kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from console.asgi import application
from console.events import topic_group_name
from streams import consumers
from streams.tail import TopicTail
from tests.support.broker import BrokerProcess
from tests.support.console import create_topic, produce, unique_topic

TIMEOUT = 15.0


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


def tail_socket(topic: str, cookie: str | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, f"/ws/topics/{topic}/tail/", headers=headers)


async def next_event(socket: WebsocketCommunicator, wanted: str) -> dict[str, Any]:
    """The next event of type ``wanted``, within the deadline."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            event = await socket.receive_json_from(timeout=TIMEOUT)
            if event["type"] == wanted:
                return event


async def open_tail(topic: str, cookie: str) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    socket = tail_socket(topic, cookie)
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    return socket, await next_event(socket, "tail.started")


def test_tail_rejects_anonymous_users(db: None) -> None:
    async def scenario() -> None:
        socket = tail_socket("any-topic", cookie=None)
        connected, _ = await socket.connect(timeout=TIMEOUT)
        assert not connected

    run(scenario)


def test_tail_rejects_illegal_topic_names(session_cookie: str) -> None:
    async def scenario() -> None:
        connected, _ = await tail_socket("bad%20name", session_cookie).connect(timeout=TIMEOUT)
        assert not connected

    run(scenario)


def test_tail_receives_record_produced_by_confluent_kafka(
    session_cookie: str, cluster: BrokerProcess
) -> None:
    topic = unique_topic("tail")
    create_topic(cluster.bootstrap, topic, partitions=3)
    produce(cluster.bootstrap, topic, b"before the tail", partition=0)

    async def scenario() -> None:
        socket, started = await open_tail(topic, session_cookie)
        assert started["partitions"] == {"0": 1, "1": 0, "2": 0}
        await sync_to_async(produce)(
            cluster.bootstrap, topic, b"\x00\xffbinary", key=b"user-7", partition=2,
            headers=[("trace-id", b"abc123")],
        )  # fmt: skip
        event = await next_event(socket, "topic.records")
        [record] = event["records"]
        assert (record["partition"], record["offset"]) == (2, 0)
        assert record["key"]["text"] == "user-7"
        assert record["value"] == {
            "encoding": "hex", "text": "00 ff 62 69 6e 61 72 79", "size": 8, "truncated": False,
        }  # fmt: skip
        assert record["headers"] == [
            {"key": "trace-id", "value": {
                "encoding": "utf-8", "text": "abc123", "size": 6, "truncated": False,
            }},
        ]  # fmt: skip
        assert record["timestamp"] > 0
        await sync_to_async(produce)(cluster.bootstrap, topic, b"second", partition=0)
        event = await next_event(socket, "topic.records")
        assert [(r["partition"], r["offset"]) for r in event["records"]] == [(0, 1)]
        await socket.disconnect()

    run(scenario)


def test_tail_closes_its_kafka_consumer_when_the_socket_disconnects(
    session_cookie: str, cluster: BrokerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    tails: list[TopicTail] = []

    class RecordedTail(TopicTail):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            tails.append(self)

    monkeypatch.setattr(consumers, "TopicTail", RecordedTail)
    topic = unique_topic("tail")
    create_topic(cluster.bootstrap, topic)

    async def scenario() -> None:
        socket, _ = await open_tail(topic, session_cookie)
        [tail] = tails
        assert not tail.closed
        await socket.disconnect()
        assert tail.closed

    run(scenario)


def test_tail_of_unknown_topic_reports_error_and_closes(
    session_cookie: str, cluster: BrokerProcess
) -> None:
    async def scenario() -> None:
        socket = tail_socket(unique_topic("missing"), session_cookie)
        connected, _ = await socket.connect(timeout=TIMEOUT)
        assert connected
        error = await next_event(socket, "tail.error")
        assert "does not exist" in error["message"]
        closed = await socket.receive_output(timeout=TIMEOUT)
        assert closed == {"type": "websocket.close", "code": consumers.CLOSE_TAIL_FAILED}

    run(scenario)


def test_tail_closes_when_the_console_deletes_the_topic(
    session_cookie: str, cluster: BrokerProcess
) -> None:
    topic = unique_topic("tail")
    create_topic(cluster.bootstrap, topic)

    async def scenario() -> None:
        socket, _ = await open_tail(topic, session_cookie)
        layer = get_channel_layer()
        await layer.group_send(topic_group_name(topic), {"type": "topic.deleted", "topic": topic})
        assert await next_event(socket, "topic.deleted") == {
            "type": "topic.deleted",
            "topic": topic,
        }
        closed = await socket.receive_output(timeout=TIMEOUT)
        assert closed == {"type": "websocket.close", "code": consumers.CLOSE_TOPIC_DELETED}
        await socket.disconnect()

    run(scenario)
