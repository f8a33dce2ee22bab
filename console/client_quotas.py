"""DescribeClientQuotas and AlterClientQuotas (KIP-546) for the console's reconciler.

confluent-kafka (the console's client stack) has no client-quota API, so these two
requests go through kafka-python's connection and message classes, which handle SASL
and TLS, as ``headwater quotas`` does. Only :mod:`console.broker_admin` calls this
module; its settings are the same librdkafka-named ones (``HEADWATER_KAFKA_CLIENT_CONFIG``)
translated to kafka-python's. A connection is made per call: the reconciler asks a few
times per run, and a long-lived one would need its own reconnect logic.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from broker.common.client_properties import kafka_python_settings

USER = "user"
MATCH_TYPE_EXACT = 0


class QuotaRequestFailed(Exception):
    """``unreachable``: no connection; otherwise the broker's error name and message."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def _settings() -> dict[str, Any]:
    timeout_ms = int(float(settings.HEADWATER_ADMIN_TIMEOUT) * 1000)
    config: dict[str, Any] = {
        "bootstrap_servers": settings.HEADWATER_BOOTSTRAP_SERVERS.split(","),
        "request_timeout_ms": timeout_ms,
        "client_id": "headwater-console",
    }
    return config | kafka_python_settings(settings.HEADWATER_KAFKA_CLIENT_CONFIG)


def _error(code: int, message: str | None) -> str:
    from kafka.errors import for_code

    name = for_code(code).__name__.removesuffix("Error")
    return f"{name}: {message}" if message else name


def _send(request: Any) -> Any:
    from kafka.errors import KafkaError
    from kafka.net.compat import KafkaNetClient

    logging.getLogger("kafka").setLevel(logging.ERROR)  # it chats at INFO, retries at WARNING
    config = _settings()
    try:
        client = KafkaNetClient(**config)
    except (KafkaError, ValueError, TypeError, OSError) as exc:
        raise QuotaRequestFailed(str(exc), unreachable=True) from exc
    try:
        try:
            client.check_version(timeout_ms=config["request_timeout_ms"])
            node = client.least_loaded_node()
        except (KafkaError, OSError) as exc:
            raise QuotaRequestFailed(str(exc), unreachable=True) from exc
        try:
            return client.send_and_receive(node, request, timeout_ms=config["request_timeout_ms"])
        except (KafkaError, OSError) as exc:
            raise QuotaRequestFailed(str(exc), unreachable=True) from exc
    finally:
        client.close()


def describe_user_quotas() -> dict[str, dict[str, float]]:
    """Every quota set on a named user entity (alone, without a client-id): user -> keys."""
    from kafka.protocol.admin import DescribeClientQuotasRequest

    component = DescribeClientQuotasRequest.ComponentData
    response = _send(
        DescribeClientQuotasRequest(
            components=[component(entity_type=USER, match_type=2, match=None)], strict=True
        )
    )
    if response.error_code:
        raise QuotaRequestFailed(_error(response.error_code, response.error_message))
    quotas: dict[str, dict[str, float]] = {}
    for entry in response.entries or []:
        parts = {e.entity_type: e.entity_name for e in entry.entity}
        if set(parts) == {USER} and parts[USER] is not None:
            quotas[parts[USER]] = {v.key: v.value for v in entry.values}
    return quotas


def alter_user_quotas(changes: Mapping[str, Mapping[str, float | None]]) -> dict[str, str]:
    """Set (a number) or remove (None) quota keys per user, in one request; the users
    the broker refused, with its reason."""
    from kafka.protocol.admin import AlterClientQuotasRequest

    if not changes:
        return {}
    entry = AlterClientQuotasRequest.EntryData
    response = _send(
        AlterClientQuotasRequest(
            entries=[
                entry(
                    entity=[entry.EntityData(entity_type=USER, entity_name=user)],
                    ops=[
                        entry.OpData(key=key, value=value or 0.0, remove=value is None)
                        for key, value in sorted(ops.items())
                    ],
                )
                for user, ops in changes.items()
            ],
            validate_only=False,
        )
    )
    refused = {}
    for result in response.entries:
        if result.error_code:
            user = next((e.entity_name for e in result.entity), "?")
            refused[user] = _error(result.error_code, result.error_message)
    return refused
