"""Kafka message schemas, by API key and version, from kio (generated from Kafka's JSON).

Every request and response body is one of kio's frozen dataclasses; this module finds
the right class for an (api_key, version), decodes and encodes bodies, and builds
version-appropriate entities from keyword arguments. No per-version structs here.
"""

from __future__ import annotations

import dataclasses
import io
from functools import cache
from types import ModuleType
from typing import Any

from kio.index import load_payload_module, load_request_schema, load_response_schema
from kio.schema.index import api_key_map, schema_name_map
from kio.serial import entity_reader, entity_writer
from kio.static.constants import EntityType
from kio.static.protocol import Entity

from broker.errors import ProtocolViolation
from broker.protocol.guard import check_lengths

API_VERSIONS_KEY = 18


def api_name(api_key: int) -> str:
    """Kafka's API name in snake_case (``produce``, ``api_versions`` ...)."""
    return api_key_map.get(api_key, f"api_{api_key}")


@cache
def schema_versions(api_key: int) -> tuple[int, ...]:
    """Versions of an API whose schemas the codec knows (empty for an unknown key)."""
    name = api_key_map.get(api_key)
    if name is None:
        return ()
    return tuple(sorted(schema_name_map[name]))


@cache
def request_type(api_key: int, version: int) -> type[Entity]:
    return load_request_schema(api_key, version)


@cache
def response_type(api_key: int, version: int) -> type[Entity]:
    return load_response_schema(api_key, version)


@cache
def response_module(api_key: int, version: int) -> ModuleType:
    """The kio module holding a response version's nested entity classes."""
    return load_payload_module(api_key, version, EntityType.response)


@cache
def request_module(api_key: int, version: int) -> ModuleType:
    return load_payload_module(api_key, version, EntityType.request)


@cache
def is_flexible(api_key: int, version: int) -> bool:
    """KIP-482 flexible version (compact strings, tagged fields, header v2/v1)?"""
    return bool(request_type(api_key, version).__flexible__)


@cache
def _reader(entity_type: type[Entity]) -> Any:
    return entity_reader(entity_type)


@cache
def _writer(entity_type: type[Entity]) -> Any:
    return entity_writer(entity_type)


def decode_request(api_key: int, version: int, frame: bytes, offset: int) -> Entity:
    """Decode a request body starting at ``offset``; trailing bytes are ignored (clients
    such as librdkafka send some)."""
    entity_type = request_type(api_key, version)
    check_lengths(entity_type, frame, offset)  # before kio: it preallocates claimed sizes
    try:
        body, _size = _reader(entity_type)(frame, offset)
    except Exception as exc:  # kio raises a variety of errors on malformed input
        raise ProtocolViolation(
            f"cannot decode {api_name(api_key)} v{version} request body: {exc}"
        ) from exc
    return body


def encode_body(entity: Entity) -> bytes:
    buffer = io.BytesIO()
    _writer(type(entity))(buffer, entity)
    return buffer.getvalue()


def encode_request_body(entity: Entity) -> bytes:
    """Same as :func:`encode_body`; named for client-side callers (tests, tools)."""
    return encode_body(entity)


@cache
def _field_names(entity_type: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(entity_type))


def build(entity_type: type[Any], /, **values: Any) -> Any:
    """Construct ``entity_type`` from the values this version of the schema has.

    Handlers describe a response once with every field any version carries; fields a
    version lacks are dropped here, so the same handler code serves every version.
    """
    names = _field_names(entity_type)
    return entity_type(**{k: v for k, v in values.items() if k in names})


def has_field(entity_type: type[Any], name: str) -> bool:
    return name in _field_names(entity_type)
