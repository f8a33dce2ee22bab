"""librdkafka's client property names and kafka-python's for the same settings.

The headwater tools and the console take librdkafka-named settings everywhere; the
client-quota APIs, which confluent-kafka lacks, go through kafka-python, so both
``headwater quotas`` and the console's reconciler translate with this one table.
"""

from __future__ import annotations

from collections.abc import Mapping

KAFKA_PYTHON_NAMES = {
    "security.protocol": "security_protocol",
    "sasl.mechanism": "sasl_mechanism",
    "sasl.mechanisms": "sasl_mechanism",
    "sasl.username": "sasl_plain_username",
    "sasl.password": "sasl_plain_password",
    "ssl.ca.location": "ssl_cafile",
    "ssl.certificate.location": "ssl_certfile",
    "ssl.key.location": "ssl_keyfile",
    "ssl.key.password": "ssl_password",
    "client.id": "client_id",
}
"""librdkafka property -> kafka-python keyword."""


def kafka_python_setting(key: str, value: str) -> tuple[str, str] | None:
    """The kafka-python keyword and value for one librdkafka property; None when the
    property has no kafka-python counterpart here."""
    name = KAFKA_PYTHON_NAMES.get(key)
    if name is None:
        return None
    return name, value.upper() if key == "security.protocol" else value


def kafka_python_settings(props: Mapping[str, str]) -> dict[str, str]:
    """Every translatable property of ``props`` (the others are left out)."""
    return dict(t for k, v in props.items() if (t := kafka_python_setting(k, v)) is not None)
