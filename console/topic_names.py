"""Kafka's rules for topic names (``org.apache.kafka.common.internals.Topic.validate``)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

MAX_NAME_LENGTH = 249
_LEGAL = re.compile(r"[a-zA-Z0-9._-]+")


def validate_topic_name(name: str) -> None:
    """Raise ``ValidationError`` unless Kafka would accept ``name`` as a topic name."""
    if not name:
        raise ValidationError("A topic name cannot be empty.", code="empty")
    if name in (".", ".."):
        raise ValidationError("A topic name cannot be '.' or '..'.", code="reserved")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            "A topic name can be at most %(max)d characters long (this one has %(length)d).",
            code="too_long",
            params={"max": MAX_NAME_LENGTH, "length": len(name)},
        )
    if not _LEGAL.fullmatch(name):
        raise ValidationError(
            "A topic name may contain only ASCII letters, digits, '.', '_' and '-'.",
            code="illegal_chars",
        )
