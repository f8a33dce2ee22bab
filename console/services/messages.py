"""Producing a record from the console: ``message.produce`` inside the actor's tenant.

The record goes through :func:`console.message_client.produce` (the producer's default
partitioner when no partition is given); the broker judges it (``max.message.bytes``:
MESSAGE_TOO_LARGE, with Kafka's message). Audited as ``message.produce`` with the
partition, offset, sizes and header names, never the key or value.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from console import broker_admin, message_client
from console.message_client import Produced
from console.roles import Action
from console.services._common import audit, field_error
from console.services.topics import topic_tenant
from console.tenancy import Actor


def parse_headers(text: str) -> list[tuple[str, bytes]]:
    """``name=value`` lines (blank lines skipped; a value may contain ``=``)."""
    headers = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise field_error(
                "headers", f"Line {number} is not name=value: {line.strip()[:80]!r}.", "header"
            )
        headers.append((name.strip(), value.encode()))
    return headers


def message_produce(
    *,
    actor: Actor,
    topic: str,
    value: bytes | None,
    key: bytes | None = None,
    partition: int | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> Produced:
    """Produce one record to ``topic``; its partition and offset. A topic outside the
    actor's tenants is NotFound, a role without ``message.produce`` PermissionDenied, a
    partition the topic lacks a ValidationError; the broker's refusal propagates as
    ``RequestRejected`` (its ``error_name`` Kafka's)."""
    tenant = topic_tenant(actor=actor, name=topic, action=Action.MESSAGE_PRODUCE)
    metadata = broker_admin.describe_topics().get(topic)
    if metadata is None:
        raise broker_admin.UnknownTopic(f"topic {topic!r}: no such topic")
    count = len(metadata.partitions)
    if partition is not None and not 0 <= partition < count:
        raise ValidationError(
            {"partition": f"Topic {topic} has partitions 0 to {count - 1}; there is no "
                          f"partition {partition}."}
        )  # fmt: skip
    produced = message_client.produce(
        topic, value=value, key=key, partition=partition, headers=headers
    )
    audit(
        actor=actor, action="message.produce", tenant=tenant, resource_type="topic",
        resource_name=topic,
        after={
            "partition": produced.partition, "offset": produced.offset,
            "key_bytes": None if key is None else len(key),
            "value_bytes": None if value is None else len(value),
            "headers": [name for name, _ in headers or []],
        },
    )  # fmt: skip
    return produced
