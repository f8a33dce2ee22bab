"""Kafka message schemas, by API key and version, from kio (generated from Kafka's JSON).

Every request and response body is one of kio's frozen dataclasses; this module finds
the right class for an (api_key, version), decodes and encodes bodies, and builds
version-appropriate entities from keyword arguments. No per-version structs here.
"""

from __future__ import annotations

import dataclasses
import io
import os
from functools import cache
from types import ModuleType
from typing import Any

from kio.index import load_payload_module, load_request_schema, load_response_schema
from kio.schema.index import api_key_map, schema_name_map
from kio.serial import entity_reader, entity_writer
from kio.serial._introspect import EntityField, EntityTupleField, classify_field
from kio.static.constants import EntityType
from kio.static.protocol import Entity

from broker.errors import ProtocolViolation
from broker.protocol import legacy_produce
from broker.protocol.guard import check_lengths, is_nullable

API_VERSIONS_KEY = 18


def api_name(api_key: int) -> str:
    """Kafka's API name in snake_case (``produce``, ``api_versions`` ...)."""
    return api_key_map.get(api_key, f"api_{api_key}")


PRODUCE_KEY = 0


@cache
def schema_versions(api_key: int) -> tuple[int, ...]:
    """Versions of an API whose schemas the codec knows (empty for an unknown key);
    Produce also v0-2, derived from v3 (:mod:`broker.protocol.legacy_produce`)."""
    name = api_key_map.get(api_key)
    if name is None:
        return ()
    versions = set(schema_name_map[name])
    if api_key == PRODUCE_KEY:
        versions.update(legacy_produce.VERSIONS)
    return tuple(sorted(versions))


def _legacy(api_key: int, version: int) -> bool:
    return api_key == PRODUCE_KEY and version in legacy_produce.VERSIONS


@cache
def request_type(api_key: int, version: int) -> type[Entity]:
    if _legacy(api_key, version):
        return legacy_produce.request_type(version)
    return load_request_schema(api_key, version)


@cache
def response_type(api_key: int, version: int) -> type[Entity]:
    if _legacy(api_key, version):
        return legacy_produce.response_type(version)
    return load_response_schema(api_key, version)


@cache
def response_module(api_key: int, version: int) -> ModuleType:
    """The kio module holding a response version's nested entity classes."""
    if _legacy(api_key, version):
        return legacy_produce.response_module(version)
    return load_payload_module(api_key, version, EntityType.response)


@cache
def request_module(api_key: int, version: int) -> ModuleType:
    if _legacy(api_key, version):
        return legacy_produce.request_module(version)
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


def decode_request(api_key: int, version: int, frame: bytes | memoryview, offset: int) -> Entity:
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


SPLICE_MIN_BYTES = 32 * 1024


class _Gather:
    """A write target for kio's writers that keeps each byte string of at least
    ``splice_min_bytes`` (a record set: kio writes it with one ``write``, right after
    its length) as a buffer of its own, and joins everything between them."""

    __slots__ = ("_small", "_splice_min", "parts")

    def __init__(self, head: bytes, splice_min_bytes: int) -> None:
        self.parts: list[bytes | memoryview] = []
        self._small = bytearray(head)
        self._splice_min = splice_min_bytes

    def write(self, data: bytes | memoryview) -> int:
        if len(data) >= self._splice_min:
            if self._small:
                self.parts.append(bytes(self._small))
                self._small.clear()
            self.parts.append(data)
        else:
            self._small += data
        return len(data)

    def finish(self) -> list[bytes | memoryview]:
        if self._small or not self.parts:
            self.parts.append(bytes(self._small))
        return self.parts


def encode_body_buffers(
    entity: Entity, head: bytes = b"", *, splice_min_bytes: int = SPLICE_MIN_BYTES
) -> list[bytes | memoryview]:
    """``head + encode_body(entity)`` as consecutive buffers in which every byte string
    of at least ``splice_min_bytes`` (record sets) is the entity's own object, not a
    copy: the same bytes, for a transport to write one by one."""
    gather = _Gather(head, splice_min_bytes)
    _writer(type(entity))(gather, entity)
    return gather.finish()


@cache
def has_records(entity_type: type) -> bool:
    """Does the entity (or any entity nested in it) carry a ``records`` field?"""
    for field in dataclasses.fields(entity_type):
        if field.metadata.get("kafka_type") == "records":
            return True
        kind = classify_field(field)
        if isinstance(kind, EntityField | EntityTupleField) and has_records(kind.type_):
            return True
    return False


def encode_request_body(entity: Entity) -> bytes:
    """Same as :func:`encode_body`; named for client-side callers (tests, tools)."""
    return encode_body(entity)


@cache
def _field_names(entity_type: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(entity_type))


@cache
def _not_nullable(entity_type: type) -> frozenset[str]:
    """Fields of this version that may not be None (tagged fields may: None omits them)."""
    return frozenset(
        f.name
        for f in dataclasses.fields(entity_type)
        if not is_nullable(f) and "tag" not in f.metadata
    )


STRICT_BUILD = os.environ.get("HEADWATER_STRICT_BUILD", "") not in ("", "0")
"""``HEADWATER_STRICT_BUILD=1`` (the test suite sets it): :func:`build` refuses None for
a field the schema says is not nullable, so a handler bug is caught where the response
is built, naming the field, instead of as a TypeError deep in the encoder."""


def build(entity_type: type[Any], /, **values: Any) -> Any:
    """Construct ``entity_type`` from the values this version of the schema has.

    Handlers describe a response once with every field any version carries; fields a
    version lacks are dropped here, so the same handler code serves every version.
    """
    names = _field_names(entity_type)
    kept = {k: v for k, v in values.items() if k in names}
    if STRICT_BUILD:
        nulls = sorted(k for k in _not_nullable(entity_type) if k in kept and kept[k] is None)
        if nulls:
            raise TypeError(
                f"{entity_type.__module__}.{entity_type.__qualname__}: None for "
                f"{', '.join(nulls)}, which the schema says cannot be null"
            )
    return entity_type(**kept)


def has_field(entity_type: type[Any], name: str) -> bool:
    return name in _field_names(entity_type)
