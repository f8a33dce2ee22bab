"""Browser events the console publishes on the channel layer after a write succeeds.

A websocket consumer watching a topic joins :func:`topic_group_name`; services send
events whose ``type`` (``topic.deleted``) maps to the consumer's handler method
(``topic_deleted``), as Channels dispatches them.
"""

from __future__ import annotations

import hashlib
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# Channels group names: ASCII letters, digits, '-', '_', '.', shorter than 100 chars.
_MAX_GROUP_NAME = 99


def topic_group_name(topic: str) -> str:
    """The channel-layer group of everyone watching ``topic``.

    Topic names use the group-name alphabet already; long ones are hashed to fit.
    """
    name = f"topic.{topic}"
    if len(name) <= _MAX_GROUP_NAME:
        return name
    return f"topic.sha1.{hashlib.sha1(topic.encode()).hexdigest()}"


def publish_topic_deleted(*, topic: str) -> None:
    """Tell open pages of ``topic`` that it is gone. Best effort: never fails the write."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            topic_group_name(topic), {"type": "topic.deleted", "topic": topic}
        )
    except Exception:  # a down Redis must not turn a completed delete into an error page
        logger.warning("could not publish topic.deleted for %r", topic, exc_info=True)
