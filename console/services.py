"""Console writes: small, typed, keyword-only functions named ``<entity>_<action>``.

Views, forms, tasks and websocket consumers call these and nothing lower. Each one
validates its input by Kafka's rules, raising ``ValidationError`` keyed by the field at
fault (``name``, ``partitions``...) so a form shows it where the user typed; performs
the write through :mod:`console.broker_admin` (whose ``BrokerAdminError`` subclasses
propagate, carrying the broker's own message); and publishes the browser event once the
broker has confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError

from broker.common.limits import INT16_MAX, MAX_PARTITIONS_PER_REQUEST
from console import broker_admin, events
from console.topic_names import is_internal, validate_no_collision, validate_topic_name

DEFAULT_REPLICATION_FACTOR = -1  # CreateTopics: the broker's default.replication.factor


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def topic_create(
    *,
    name: str,
    partitions: int,
    replication_factor: int = DEFAULT_REPLICATION_FACTOR,
    configs: Mapping[str, str] | None = None,
) -> None:
    """Create topic ``name`` with ``partitions`` partitions and topic ``configs``.

    Refused before any request: an illegal name, a partition count outside 1 to
    Kafka's per-request cap, a replication factor outside 1 to INT16 (-1 is the
    broker's default), and a name that
    collides with an existing topic (Kafka's '.'/'_' rule, checked against Metadata).
    The broker may still refuse (its own limits, a config value its catalog does not
    accept, a race): its answer propagates, and nothing is created.
    """
    try:
        validate_topic_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from exc
    if partitions < 1:
        raise _field_error("partitions", "A topic needs at least one partition.", "min_value")
    if partitions > MAX_PARTITIONS_PER_REQUEST:
        raise _field_error(
            "partitions",
            f"At most {MAX_PARTITIONS_PER_REQUEST} partitions: Kafka refuses more in one "
            f"request (this asks for {partitions}).",
            "max_value",
        )
    if (
        replication_factor != DEFAULT_REPLICATION_FACTOR
        and not 1 <= replication_factor <= INT16_MAX
    ):
        raise _field_error(
            "replication_factor",
            f"The replication factor must be from 1 to {INT16_MAX} (or -1 for the "
            "cluster's default).",
            "replication",
        )
    try:
        validate_no_collision(name, broker_admin.describe_topics())
    except ValidationError as exc:
        raise ValidationError({"name": exc}) from exc
    broker_admin.create_topic(
        name=name,
        num_partitions=partitions,
        replication_factor=replication_factor,
        configs=dict(configs or {}),
    )


def internal_topic_message(name: str) -> str:
    """Why an internal topic cannot be deleted, for pages and errors."""
    return (
        f"Topic {name} is a Kafka internal topic and cannot be deleted: the brokers keep "
        "consumer groups' committed offsets and transactions' state in it."
    )


def topic_delete(*, name: str) -> None:
    """Delete topic ``name`` and tell anyone watching it. Internal topics are refused."""
    validate_topic_name(name)
    if is_internal(name):
        raise ValidationError(internal_topic_message(name), code="internal")
    broker_admin.delete_topic(name=name)
    events.publish_topic_deleted(topic=name)
