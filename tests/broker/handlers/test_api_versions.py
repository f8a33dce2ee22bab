from __future__ import annotations

from kio.schema.api_versions.v3 import request as api_versions_v3
from kio.schema.errors import ErrorCode

from broker.handlers import REGISTRY
from broker.protocol import messages
from tests.support.wire import KafkaWire


def test_api_versions_advertises_exactly_the_handler_registry(wire: KafkaWire) -> None:
    response = wire.request(
        api_versions_v3.ApiVersionsRequest(
            client_software_name="wire-test", client_software_version="1"
        )
    )
    assert response.error_code == ErrorCode.none
    advertised = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}
    assert advertised == {h.api_key: (h.min_version, h.max_version) for h in REGISTRY}
    assert advertised[0][0] == 0  # Produce from v0: librdkafka needs it to compress (KAFKA-18659)


def test_every_advertised_version_is_served() -> None:
    """What ApiVersions advertises, the broker decodes and answers: Produce v0-2 too
    (their schemas derived from v3's; they are answered with UNSUPPORTED_VERSION)."""
    for handler in REGISTRY:
        for version in range(handler.min_version, handler.max_version + 1):
            assert handler.serves(version), (handler.name, version)
            assert version in messages.schema_versions(handler.api_key), (handler.name, version)
