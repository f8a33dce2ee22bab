"""Kafka records as JSON a browser can show safely, whatever bytes they carry.

Keys, values and header values are arbitrary bytes. Each becomes a small object:
``{"encoding": "utf-8", "text": ...}`` when it is printable UTF-8 text, else
``{"encoding": "hex", "text": "00 ff ..."}``; both with ``size`` (bytes) and
``truncated`` (only the first :data:`MAX_SHOWN_BYTES` are shown). ``None`` stays
``null`` (a null key, or a tombstone value). The page inserts ``text`` as text,
never as HTML.
"""

from __future__ import annotations

from typing import Any, Protocol

MAX_SHOWN_BYTES = 4096
_WHITESPACE = frozenset("\t\n\r")
# confluent_kafka.TIMESTAMP_CREATE_TIME / TIMESTAMP_LOG_APPEND_TIME
_TIMESTAMP_TYPES = {1: "CreateTime", 2: "LogAppendTime"}


class KafkaMessage(Protocol):
    """The parts of ``confluent_kafka.Message`` used here."""

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def timestamp(self) -> tuple[int, int]: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...
    def headers(self) -> list[tuple[str, bytes | None]] | None: ...


def _as_text(shown: bytes, *, truncated: bool) -> str | None:
    """``shown`` decoded, if it is printable UTF-8 (a character cut at the end is fine)."""
    try:
        text = shown.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut_at_end = truncated and exc.reason == "unexpected end of data"
        if not cut_at_end:
            return None
        text = shown[: exc.start].decode("utf-8")
    if all(ch.isprintable() or ch in _WHITESPACE for ch in text):
        return text
    return None


def render_bytes(data: bytes | str | None) -> dict[str, Any] | None:
    """One key, value or header value for display (see the module docstring)."""
    if data is None:
        return None
    if isinstance(data, str):
        data = data.encode()
    shown = data[:MAX_SHOWN_BYTES]
    truncated = len(data) > len(shown)
    text = _as_text(shown, truncated=truncated)
    if text is None:
        return {
            "encoding": "hex",
            "text": shown.hex(" "),
            "size": len(data),
            "truncated": truncated,
        }
    return {"encoding": "utf-8", "text": text, "size": len(data), "truncated": truncated}


def render_record(message: KafkaMessage) -> dict[str, Any]:
    """One consumed record: partition, offset, timestamp, key, value and headers."""
    timestamp_type, timestamp = message.timestamp()
    return {
        "partition": message.partition(),
        "offset": message.offset(),
        "timestamp": timestamp if timestamp_type in _TIMESTAMP_TYPES else None,
        "timestamp_type": _TIMESTAMP_TYPES.get(timestamp_type),
        "key": render_bytes(message.key()),
        "value": render_bytes(message.value()),
        "headers": [
            {"key": key, "value": render_bytes(value)} for key, value in message.headers() or []
        ],
    }
