"""The handler registry: one entry per Kafka API, each declaring its versions.

ApiVersions answers from this registry, so what the broker advertises is exactly what
it serves. A handler's version range is also checked against the codec's schemas at
import time, so a handler cannot claim a version that cannot be decoded (Produce v0-2,
advertised per KAFKA-18659, have schemas derived from v3's:
:mod:`broker.protocol.legacy_produce`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kio.static.protocol import Entity

from broker.handlers.context import RequestContext
from broker.protocol import messages


@dataclass(frozen=True, slots=True)
class Deferred:
    """A response that completes later (after a group-commit fsync, say). The request's
    effects are applied when the handler returns; the connection goes on with later
    requests and writes this answer, in order, once ``response`` resolves."""

    response: Awaitable[Entity | None]


Handle = Callable[[RequestContext, Any], Awaitable[Entity | Deferred | None]]


@dataclass(frozen=True, slots=True)
class ApiHandler:
    api_key: int
    min_version: int
    max_version: int
    handle: Handle

    @property
    def name(self) -> str:
        return messages.api_name(self.api_key)

    def serves(self, version: int) -> bool:
        return (
            self.min_version <= version <= self.max_version
            and version in messages.schema_versions(self.api_key)
        )


class HandlerRegistry:
    def __init__(self, handlers: Iterable[ApiHandler]) -> None:
        self._handlers: dict[int, ApiHandler] = {}
        for handler in handlers:
            if handler.api_key in self._handlers:
                raise ValueError(f"two handlers for {handler.name}")
            known = messages.schema_versions(handler.api_key)
            missing = set(range(handler.min_version, handler.max_version + 1)) - set(known)
            if missing:
                raise ValueError(f"{handler.name} v{sorted(missing)} have no schema")
            self._handlers[handler.api_key] = handler

    def get(self, api_key: int) -> ApiHandler | None:
        return self._handlers.get(api_key)

    def serves(self, api_key: int, version: int) -> bool:
        handler = self._handlers.get(api_key)
        return handler is not None and handler.serves(version)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self._handlers.values(), key=lambda h: h.api_key))


def api(*, key: int, min_version: int, max_version: int) -> Callable[[Handle], ApiHandler]:
    """Decorator turning ``async def handle(ctx, request)`` into a registered handler."""

    def wrap(handle: Handle) -> ApiHandler:
        return ApiHandler(key, min_version, max_version, handle)

    return wrap
