"""A length and nullability guard run on every request body before the decoder sees it.

kio's native decoder preallocates for whatever element count an array claims, so a
21-byte request claiming 2**32 entries aborts the whole process (an allocation
failure cannot be caught). This guard walks the same schema without building
objects and rejects any array, string or bytes length that exceeds what is left of the
frame (every array element takes at least one byte).

It also enforces the schemas' nullability: a null (length -1, compact 0) is accepted
only where that version's schema says the field is nullable (Kafka's
``nullableVersions``, which kio turns into an ``X | None`` type in that version's
class). kio's decoder returns None for any null array, so without this a client could
hand a handler None where the schema promises a list. Handlers therefore never need a
None check for a field the schema declares non-nullable. Array elements are never
null (Kafka has no nullable array elements). Tagged fields are read as non-nullable,
as kio reads and writes them.

Every violation raises :class:`ProtocolViolation`, which ends only the offending
connection, as Kafka closes a connection whose request does not parse.

The walk is compiled once per request type into closures; for the hot APIs (Produce,
Fetch) it costs a few microseconds a request.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable
from functools import cache
from types import NoneType, UnionType
from typing import Union, get_args, get_origin

from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    PrimitiveTupleField,
    classify_field,
    get_field_tag,
    get_schema_field_type,
)

from broker.errors import ProtocolViolation

# (data, position, end) -> position after the value
Step = Callable[[bytes, int, int], int]

FIXED_SIZES = {  # bytes of each fixed-width kio type (the fuzzer uses them too)
    "int8": 1,
    "bool": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "timedelta_i32": 4,
    "int64": 8,
    "uint64": 8,
    "float64": 8,
    "timedelta_i64": 8,
    "datetime_i64": 8,
    "uuid": 16,
    "error_code": 2,
}
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")


def _fail(what: str) -> ProtocolViolation:
    return ProtocolViolation(f"request body: {what}")


def read_uvarint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """An unsigned varint at ``pos``, not reading at or past ``end``."""
    result = shift = 0
    while True:
        if pos >= end:
            raise _fail("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 28:
            raise _fail("varint too long")


def _fixed(size: int) -> Step:
    def step(data: bytes, pos: int, end: int) -> int:
        pos += size
        if pos > end:
            raise _fail("truncated field")
        return pos

    return step


def _length_prefixed(flexible: bool, wide: bool, nullable: bool) -> Step:
    """strings (i16 length), bytes/records (i32 length), or compact (uvarint length+1)."""

    def step(data: bytes, pos: int, end: int) -> int:
        if flexible:
            length, pos = read_uvarint(data, pos, end)
            length -= 1
        elif wide:
            if pos + 4 > end:
                raise _fail("truncated length")
            length = _I32.unpack_from(data, pos)[0]
            pos += 4
        else:
            if pos + 2 > end:
                raise _fail("truncated length")
            length = _I16.unpack_from(data, pos)[0]
            pos += 2
        if length < 0:
            if length < -1:
                raise _fail(f"negative length {length}")
            if not nullable:
                raise _fail("null in a field that is not nullable")
        elif length > 0:
            pos += length
            if pos > end:
                raise _fail(f"length {length} exceeds the frame")
        return pos

    return step


def _array(flexible: bool, element: Step, fixed_size: int | None, nullable: bool) -> Step:
    def step(data: bytes, pos: int, end: int) -> int:
        if flexible:
            count, pos = read_uvarint(data, pos, end)
            count -= 1
        else:
            if pos + 4 > end:
                raise _fail("truncated array length")
            count = _I32.unpack_from(data, pos)[0]
            pos += 4
        if count < 0:
            if count < -1:
                raise _fail(f"negative array length {count}")
            if not nullable:
                raise _fail("null array in a field that is not nullable")
            return pos
        if count > end - pos:
            raise _fail(f"array of {count} elements cannot fit in {end - pos} bytes")
        if fixed_size is not None:
            pos += count * fixed_size
            if pos > end:
                raise _fail("truncated array")
            return pos
        for _ in range(count):
            pos = element(data, pos, end)
        return pos

    return step


def _nullable_entity(inner: Step) -> Step:
    def step(data: bytes, pos: int, end: int) -> int:
        if pos >= end:
            raise _fail("truncated nullable struct marker")
        marker = data[pos]
        pos += 1
        return pos if marker == 0xFF else inner(data, pos, end)

    return step


def is_nullable(field: dataclasses.Field) -> bool:  # type: ignore[type-arg]
    """May the field itself be null in this version (``X | None`` at the top level)?

    kio's ``is_optional`` looks inside a tuple's element type for arrays; Kafka's
    nullability is the array's own, so this reads only the outer type."""
    return get_origin(field.type) in (UnionType, Union) and NoneType in get_args(field.type)


def _field_step(field: dataclasses.Field, flexible: bool, is_tag: bool) -> Step:  # type: ignore[type-arg]
    kind = classify_field(field)
    nullable = is_nullable(field) and not is_tag
    if isinstance(kind, EntityTupleField):
        return _array(flexible, entity_guard(kind.type_), None, nullable)
    if isinstance(kind, EntityField):
        inner = entity_guard(kind.type_)
        return _nullable_entity(inner) if nullable else inner
    kafka_type = get_schema_field_type(field)
    is_array = isinstance(kind, PrimitiveTupleField)
    fixed = FIXED_SIZES.get(kafka_type)
    if fixed is not None:
        element = _fixed(fixed)
    elif kafka_type in ("string", "bytes", "records"):
        wide = kafka_type != "string"
        element = _length_prefixed(flexible, wide, nullable=nullable and not is_array)
    else:
        raise TypeError(f"no guard for kafka_type {kafka_type!r}")
    if is_array:
        return _array(flexible, element, fixed, nullable)
    return element


@cache
def entity_guard(entity_type: type) -> Step:
    """A step that walks one encoded ``entity_type`` and checks every length in it."""
    flexible = bool(entity_type.__flexible__)
    steps: list[Step] = []
    tagged: dict[int, Step] = {}
    for field in dataclasses.fields(entity_type):
        tag = get_field_tag(field)
        if tag is None:
            steps.append(_field_step(field, flexible, is_tag=False))
        else:
            tagged[int(tag)] = _field_step(field, flexible, is_tag=True)

    def step(data: bytes, pos: int, end: int) -> int:
        for field_step in steps:
            pos = field_step(data, pos, end)
        if flexible:
            count, pos = read_uvarint(data, pos, end)
            if count > end - pos:
                raise _fail(f"{count} tagged fields cannot fit")
            for _ in range(count):
                tag, pos = read_uvarint(data, pos, end)
                size, pos = read_uvarint(data, pos, end)
                if pos + size > end:
                    raise _fail(f"tagged field {tag} of {size} bytes exceeds the frame")
                known = tagged.get(tag)
                if known is not None:
                    known(data, pos, pos + size)
                pos += size
        return pos

    return step


def check_lengths(entity_type: type, data: bytes, offset: int) -> None:
    """Raise ProtocolViolation if any length in the encoded body exceeds the frame, or a
    field the schema says is not nullable is null."""
    entity_guard(entity_type)(data, offset, len(data))
