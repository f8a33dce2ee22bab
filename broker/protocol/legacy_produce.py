"""Produce v0-v2: schemas kio no longer ships, derived from v3's, to answer them properly.

Kafka 4.0 removed Produce v0-v2 (KIP-896: they carry message format v0/v1, which a
RecordBatch v2 log cannot hold), so kio, generated from Kafka 4's JSON, has no classes
for them. Yet ApiVersions must keep advertising Produce from v0: librdkafka turns
compression off when Produce's advertised minimum is above 0 (KAFKA-18659; Kafka 4
advertises 0 for the same reason, ``ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION``).
Kafka 4 then closes the connection of a client that sends v0-v2. Headwater answers
instead, in the version's own format, with UNSUPPORTED_VERSION for every partition
(``broker/handlers/produce.py``): what it advertises, it serves, and an old client
reads a clear error rather than a dropped connection.

The layouts differ from v3 only by fields v3 added, so each class here is v3's with
those fields dropped (Kafka's ProduceRequest/ProduceResponse.json: "Version 1 and 2 are
the same as version 0" for requests; v1 responses add throttle_time_ms, v2 add
log_append_time_ms, and v3 is the same as v2):

- request v0-v2: v3 without ``transactional_id``;
- response v0: v3 without ``log_append_time`` and ``throttle_time``;
  v1: without ``log_append_time``; v2: exactly v3.

The derived classes are ordinary kio-style frozen dataclasses (same field metadata), so
kio's reader and writer, the request guard and :func:`broker.protocol.messages.build`
treat them like every other schema.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from types import ModuleType
from typing import Any

from kio.schema.produce.v3 import request as request_v3
from kio.schema.produce.v3 import response as response_v3
from kio.static.primitive import i16

VERSIONS = (0, 1, 2)
_REQUEST_DROPS: dict[int, frozenset[str]] = dict.fromkeys(VERSIONS, frozenset({"transactional_id"}))
_RESPONSE_DROPS: dict[int, frozenset[str]] = {
    0: frozenset({"log_append_time", "throttle_time"}),
    1: frozenset({"log_append_time"}),
    2: frozenset(),
}
_CLASS_VARS = ("__type__", "__flexible__", "__api_key__", "__header_schema__")


def _derive(entity: type, version: int, drop: frozenset[str], nested: dict[type, type]) -> type:
    """``entity`` at ``version``: its fields minus ``drop``, nested types replaced."""
    fields = []
    for f in dataclasses.fields(entity):
        if f.name in drop:
            continue
        kind: Any = f.type
        for old, new in nested.items():
            if kind == tuple[old, ...]:  # type: ignore[valid-type]
                kind = tuple[new, ...]  # type: ignore[valid-type]
        spec = dataclasses.field(metadata=f.metadata)
        if f.default is not dataclasses.MISSING:
            spec = dataclasses.field(metadata=f.metadata, default=f.default)
        fields.append((f.name, kind, spec))
    namespace: dict[str, Any] = {name: getattr(entity, name) for name in _CLASS_VARS}
    namespace["__version__"] = i16(version)
    derived = dataclasses.make_dataclass(
        entity.__name__, fields, namespace=namespace, frozen=True, slots=True, kw_only=True
    )
    derived.__module__ = f"{__name__}.v{version}"
    return derived


def _module(name: str, classes: list[type]) -> ModuleType:
    module = ModuleType(name)
    for cls in classes:
        setattr(module, cls.__name__, cls)
    return module


@cache
def request_module(version: int) -> ModuleType:
    drop = _REQUEST_DROPS[version]
    partition = _derive(request_v3.PartitionProduceData, version, drop, {})
    topic = _derive(
        request_v3.TopicProduceData, version, drop, {request_v3.PartitionProduceData: partition}
    )
    request = _derive(
        request_v3.ProduceRequest, version, drop, {request_v3.TopicProduceData: topic}
    )
    return _module(f"{__name__}.v{version}.request", [partition, topic, request])


@cache
def response_module(version: int) -> ModuleType:
    drop = _RESPONSE_DROPS[version]
    partition = _derive(response_v3.PartitionProduceResponse, version, drop, {})
    topic = _derive(
        response_v3.TopicProduceResponse,
        version,
        drop,
        {response_v3.PartitionProduceResponse: partition},
    )
    response = _derive(
        response_v3.ProduceResponse, version, drop, {response_v3.TopicProduceResponse: topic}
    )
    return _module(f"{__name__}.v{version}.response", [partition, topic, response])


def request_type(version: int) -> type:
    return request_module(version).ProduceRequest  # type: ignore[no-any-return]


def response_type(version: int) -> type:
    return response_module(version).ProduceResponse  # type: ignore[no-any-return]
