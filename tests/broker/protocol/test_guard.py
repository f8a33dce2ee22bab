from __future__ import annotations

import dataclasses
import random

import pytest
from kio.index import load_entity_schema
from kio.schema.index import schema_name_map
from kio.serial._introspect import get_field_tag
from kio.static.constants import EntityType

from broker.errors import ProtocolViolation
from broker.handlers import REGISTRY
from broker.protocol import messages
from broker.protocol.guard import check_lengths, entity_guard, is_nullable
from tests.support.fuzz import RequestGenerator, encode_body, layout, with_null

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


# --- nullability: what the schema says may be null, and nothing else ---------------------

SERVED = [
    pytest.param(handler.api_key, version, id=f"{handler.name}-v{version}")
    for handler in REGISTRY
    for version in range(handler.min_version, handler.max_version + 1)
    if handler.serves(version)
]


def _nulls_where_forbidden(entity: object, path: str = "") -> list[str]:
    """Paths of fields holding None although this version's schema says not nullable."""
    found = []
    for f in dataclasses.fields(entity):  # type: ignore[arg-type]
        value = getattr(entity, f.name)
        where = f"{path}{f.name}"
        if value is None:
            if not is_nullable(f) and get_field_tag(f) is None:
                found.append(where)
            continue
        items = value if isinstance(value, tuple) else (value,)
        for index, item in enumerate(items):
            if item is None:
                found.append(f"{where}[{index}]")
            elif dataclasses.is_dataclass(item):
                found += _nulls_where_forbidden(item, f"{where}[{index}].")
    return found


@pytest.mark.parametrize(("api_key", "version"), SERVED)
def test_decoder_refuses_a_null_in_every_field_the_schema_says_is_not_nullable(
    api_key: int, version: int
) -> None:
    """Each length prefix of a valid request in turn replaced by null (-1, compact 0):
    where this version's schema says the field is not nullable, the decoder refuses the
    request (a protocol violation, which closes the connection); where it is nullable,
    the request decodes. A handler never sees None where the schema promises a value
    (on main, handlers iterating such Nones logged thousands of tracebacks)."""
    request_type = messages.request_type(api_key, version)
    generator = RequestGenerator(random.Random(api_key * 100 + version))
    for _ in range(4):
        body = encode_body(generator.entity(request_type))
        for prefix in layout(request_type, body).prefixes:
            nulled = with_null(body, prefix)
            if prefix.nullable:
                decoded = messages.decode_request(api_key, version, nulled, 0)
                assert _nulls_where_forbidden(decoded) == [], decoded
            else:
                with pytest.raises(ProtocolViolation, match="not nullable"):
                    messages.decode_request(api_key, version, nulled, 0)


def test_decoder_accepts_null_where_the_schema_allows_it() -> None:
    """Metadata v1+: a null topics array means all topics (nullableVersions 1+); v0 has
    no null (an empty array means all there), so v0 refuses it."""
    assert messages.decode_request(3, 1, b"\xff\xff\xff\xff", 0).topics is None
    assert messages.decode_request(3, 9, b"\x00\x01\x00\x00\x00", 0).topics is None
    with pytest.raises(ProtocolViolation, match="not nullable"):
        messages.decode_request(3, 0, b"\xff\xff\xff\xff", 0)
