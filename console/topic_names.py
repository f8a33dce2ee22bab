"""Kafka's topic-name rules for forms and services, as Django ``ValidationError``s.

The rules themselves live once, in the broker's pure module
:mod:`broker.common.topic_names` (no IO, nothing of the server); this wrapper only
turns its errors into form errors whose ``code`` names the rule broken.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from broker.common.topic_names import (
    INTERNAL_TOPICS,
    MAX_TOPIC_NAME_LENGTH,
    InvalidTopicName,
    colliding_topic,
    collision_message,
    is_internal,
)
from broker.common.topic_names import validate_topic_name as _validate

MAX_NAME_LENGTH = MAX_TOPIC_NAME_LENGTH

__all__ = [
    "INTERNAL_TOPICS",
    "MAX_NAME_LENGTH",
    "is_internal",
    "validate_no_collision",
    "validate_topic_name",
]


def validate_topic_name(name: str) -> None:
    """Raise ``ValidationError`` (with Kafka's message) unless Kafka accepts ``name``.

    A name that is too long also says how long it is: a browser field that silently cut
    it would otherwise leave the user guessing.
    """
    try:
        _validate(name)
    except InvalidTopicName as exc:
        message = str(exc)
        if exc.reason == "too_long":
            message = f"{message} (this one has {len(name)})"
        raise ValidationError(message, code=exc.reason) from exc


def validate_no_collision(name: str, existing: Iterable[str]) -> None:
    """Raise ``ValidationError`` (Kafka's INVALID_TOPIC_EXCEPTION message) if ``name``
    collides with an existing topic once '.' and '_' are treated alike."""
    other = colliding_topic(name, existing)
    if other is not None:
        raise ValidationError(collision_message(name, other), code="collision")
