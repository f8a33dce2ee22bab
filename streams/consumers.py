"""Websocket consumers. Thin: authenticate, manage the subscription, forward events.

Kafka reading lives in :mod:`streams.tail`; this module only ties a tail's lifetime
to a socket's and forwards events, each dispatched by its ``type`` to the handler of
the same name (``topic.records`` -> ``topic_records``), as the channel layer does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError

from console.events import topic_group_name
from console.selectors import topic_visible
from console.topic_names import validate_topic_name
from streams.tail import TopicTail

logger = logging.getLogger(__name__)

# Close codes the page understands (4000-4999 are for applications).
CLOSE_TOPIC_DELETED = 4404
CLOSE_TAIL_FAILED = 4500


class TopicTailConsumer(AsyncJsonWebsocketConsumer):
    """``ws/topics/<topic>/tail/``: records of ``topic`` as they arrive, for logged-in users.

    ``connect`` rejects anonymous users, joins the topic's group (console events such as
    ``topic.deleted``) and starts a :class:`TopicTail`; ``disconnect`` leaves the group
    and stops the tail, which closes its Kafka consumer.
    """

    topic: str = ""
    group_name: str | None = None
    tail: TopicTail | None = None
    forwarder: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        self.topic = self.scope["url_route"]["kwargs"]["topic"]
        try:
            validate_topic_name(self.topic)
        except ValidationError:
            await self.close()
            return
        if not await database_sync_to_async(topic_visible)(actor=user, name=self.topic):
            await self.close()  # another tenant's topic: refused like a missing one
            return
        self.group_name = topic_group_name(self.topic)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        self.tail = TopicTail(
            topic=self.topic,
            bootstrap_servers=settings.HEADWATER_BOOTSTRAP_SERVERS,
            client_config=settings.HEADWATER_KAFKA_CLIENT_CONFIG,
        )
        self.forwarder = asyncio.create_task(self._forward(self.tail))

    async def disconnect(self, code: int) -> None:
        if self.group_name is not None:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
        if self.forwarder is not None:
            self.forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.forwarder
        if self.tail is not None:
            await self.tail.stop()

    async def _forward(self, tail: TopicTail) -> None:
        try:
            await tail.start()
            async for event in tail.events():
                await getattr(self, get_handler_name(event))(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("forwarding the tail of %r failed", self.topic)
        await self.close(code=CLOSE_TAIL_FAILED)  # the tail stopped on its own

    async def _send_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event)

    tail_started = tail_partitions = tail_error = topic_records = _send_event
    tail_disconnected = tail_connected = topic_offsets = _send_event

    async def topic_deleted(self, event: dict[str, Any]) -> None:
        """From the console's ``topic_delete`` service, through the channel layer."""
        await self.send_json(event)
        await self.close(code=CLOSE_TOPIC_DELETED)
