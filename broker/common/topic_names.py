"""Kafka's rules for topic names, as pure functions (no IO): the one copy of them.

The broker (CreateTopics, Metadata auto-creation, config resources) and the console
(its forms and services, which may import pure broker modules) both check names here,
so the two can never disagree. Messages are Kafka's own
(``org.apache.kafka.common.internals.Topic``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from broker.errors import BrokerError, ErrorCode

MAX_TOPIC_NAME_LENGTH = 249
"""Kafka's limit: a partition directory is ``<topic>-<partition>`` and must fit in 255."""

INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})
"""Kafka's internal topics: created by the broker, never deleted by clients."""

_LEGAL = re.compile(r"[a-zA-Z0-9._-]+")


class InvalidTopicName(BrokerError):
    """INVALID_TOPIC_EXCEPTION with Kafka's message; ``reason`` names the rule broken
    (``empty``, ``reserved``, ``too_long``, ``illegal_chars``) for callers that map it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(ErrorCode.invalid_topic_exception, message)
        self.reason = reason


def validate_topic_name(name: str) -> None:
    """Raise :class:`InvalidTopicName` unless Kafka accepts ``name`` as a topic name."""
    if not name:
        raise InvalidTopicName("empty", "Topic name is illegal, it can't be empty")
    if name in (".", ".."):
        raise InvalidTopicName("reserved", 'Topic name cannot be "." or ".."')
    if len(name) > MAX_TOPIC_NAME_LENGTH:
        raise InvalidTopicName(
            "too_long",
            f"Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters",
        )
    if not _LEGAL.fullmatch(name):
        raise InvalidTopicName(
            "illegal_chars",
            f'Topic name "{name}" is illegal, it contains a character other than '
            "ASCII alphanumerics, '.', '_' and '-'",
        )


def is_internal(name: str) -> bool:
    return name in INTERNAL_TOPICS


def _metric_name(name: str) -> str:
    """How metrics systems see a topic name: '.' and '_' are the same character there."""
    return name.replace(".", "_")


def colliding_topic(name: str, existing: Iterable[str]) -> str | None:
    """The existing topic ``name`` would collide with, or None.

    Kafka refuses a topic whose name differs from an existing one only by '.' versus '_'
    (``my.metrics`` and ``my_metrics``): their metric names would be the same. A name equal
    to an existing one is not a collision but TOPIC_ALREADY_EXISTS, and '-' is a character
    of its own (``my-metrics`` collides with neither). When several collide, the least name
    is returned, so the message is the same every time.
    """
    wanted = _metric_name(name)
    found = [other for other in existing if other != name and _metric_name(other) == wanted]
    return min(found) if found else None


def collision_message(name: str, existing: str) -> str:
    """Kafka's INVALID_TOPIC_EXCEPTION message for a colliding name (KRaft controller)."""
    return f"Topic '{name}' collides with existing topic: {existing}"
