"""Kafka's topic-name rules for forms and services, as Django ``ValidationError``s.

The rules themselves live once, in the broker's pure module
:mod:`broker.common.topic_names` (no IO, nothing of the server); this wrapper only
turns its error into a form error whose ``code`` names the rule broken.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from broker.common.topic_names import (
    INTERNAL_TOPICS,
    MAX_TOPIC_NAME_LENGTH,
    InvalidTopicName,
    is_internal,
)
from broker.common.topic_names import validate_topic_name as _validate

MAX_NAME_LENGTH = MAX_TOPIC_NAME_LENGTH

__all__ = ["INTERNAL_TOPICS", "MAX_NAME_LENGTH", "is_internal", "validate_topic_name"]


def validate_topic_name(name: str) -> None:
    """Raise ``ValidationError`` (with Kafka's message) unless Kafka accepts ``name``."""
    try:
        _validate(name)
    except InvalidTopicName as exc:
        raise ValidationError(exc.message, code=exc.reason) from exc
