"""Console writes: small, typed, keyword-only functions named ``<entity>_<action>``.

Views, forms, tasks and websocket consumers call these and nothing lower. Each one
validates its input by Kafka's rules (``ValidationError``), performs the write through
:mod:`console.broker_admin` (whose ``BrokerAdminError`` subclasses propagate), and
publishes the browser event once the broker has confirmed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from console import broker_admin, events
from console.topic_names import validate_topic_name


def topic_create(*, name: str, partitions: int, replication_factor: int = 1) -> None:
    """Create topic ``name`` with ``partitions`` partitions."""
    validate_topic_name(name)
    if partitions < 1:
        raise ValidationError("A topic needs at least one partition.", code="partitions")
    if replication_factor < 1:
        raise ValidationError("The replication factor must be at least 1.", code="replication")
    broker_admin.create_topic(
        name=name, num_partitions=partitions, replication_factor=replication_factor
    )


def topic_delete(*, name: str) -> None:
    """Delete topic ``name`` and tell anyone tailing it."""
    validate_topic_name(name)
    broker_admin.delete_topic(name=name)
    events.publish_topic_deleted(topic=name)
