from __future__ import annotations

import pytest
from kio.index import load_entity_schema
from kio.schema.index import schema_name_map
from kio.static.constants import EntityType

from broker.errors import ProtocolViolation
from broker.protocol import messages
from broker.protocol.guard import check_lengths, entity_guard

ALL_REQUEST_SCHEMAS = [
    (name, version)
    for name, versions in schema_name_map.items()
    for version, entities in versions.items()
    if EntityType.request in entities
]


def test_guard_compiles_for_every_request_schema_kio_knows() -> None:
    for name, version in ALL_REQUEST_SCHEMAS:
        entity_guard(load_entity_schema(name, version, EntityType.request))


@pytest.mark.parametrize(
    ("api_key", "version", "body"),
    [
        # Metadata v9: compact array claiming 2**32 - 2 topics in a 6-byte body
        (3, 9, b"\xff\xff\xff\xff\x0f\x00"),
        # Metadata v1: legacy array claiming 2**31 - 1 topics
        (3, 1, b"\x7f\xff\xff\xff"),
        # Produce v3: a records field claiming 1 GiB
        (
            0,
            3,
            b"\xff\xff\x00\x01\x00\x00\x03\xe8\x00\x00\x00\x01\x00\x01t\x00\x00\x00\x01\x00\x00\x00\x00\x40\x00\x00\x00",
        ),
    ],
)
def test_guard_rejects_lengths_the_frame_cannot_hold_before_decoding(
    api_key: int, version: int, body: bytes
) -> None:
    with pytest.raises(ProtocolViolation):
        check_lengths(messages.request_type(api_key, version), body, 0)
    with pytest.raises(ProtocolViolation):
        messages.decode_request(api_key, version, body, 0)
