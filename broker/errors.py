"""Kafka's error codes and the broker's internal exceptions.

``ErrorCode`` is kio's IntEnum: Kafka's numbers and (snake_case) names, one table for the
whole broker. Business failures travel as error codes in responses; only a
:class:`ProtocolViolation` ends a connection.
"""

from __future__ import annotations

from kio.schema.errors import ErrorCode

__all__ = ["BrokerError", "ErrorCode", "ProtocolViolation"]


class ProtocolViolation(Exception):
    """The peer broke the wire protocol; the connection carrying it is closed."""


class BrokerError(Exception):
    """A request failed with a Kafka error code (and an optional message for the client)."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        super().__init__(message or code.name)
        self.code = code
        self.message = message
