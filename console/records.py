"""Kafka records as JSON a browser can show safely, whatever bytes they carry: the one
renderer of the live tail (``streams/tail.py``) and the messages page
(``console/selectors/messages.py``, through :func:`format_bytes`).

Keys, values and header values are arbitrary bytes. Each becomes a small object:
``{"encoding": "utf-8", "text": ...}`` when it is printable UTF-8 text, else
``{"encoding": "hex", "text": "00 ff ..."}``; both with ``size`` (bytes) and
``truncated`` (only the first :data:`MAX_SHOWN_BYTES` are shown). ``None`` stays
``null`` (a null key, or a tombstone value). The page inserts ``text`` as text,
never as HTML.
"""

from __future__ import annotations

import base64
import json
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


# -- the messages page's formats (console.selectors.messages): one renderer for both ----

FORMATS = ("json", "text", "hex", "base64")
"""How the messages page shows a key, value or header value; ``auto`` picks per field."""


def detect_format(data: bytes) -> str:
    """``json`` for a JSON object or array, ``text`` for other printable UTF-8, else
    ``hex`` (the same test as :func:`render_bytes`, on the shown bytes)."""
    shown = data[:MAX_SHOWN_BYTES]
    text = _as_text(shown, truncated=len(data) > len(shown))
    if text is None:
        return "hex"
    if len(data) <= MAX_SHOWN_BYTES and text.lstrip()[:1] in ("{", "["):
        try:
            json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested beyond Python's stack
            return "text"
        return "json"
    return "text"


def format_bytes(data: bytes | None, fmt: str = "auto") -> dict[str, Any] | None:
    """One key, value or header value in ``fmt`` (``auto``: :func:`detect_format`):
    ``{"format", "text", "size", "truncated"}``; None stays None. A format the bytes
    cannot take (JSON that does not parse, text that is not UTF-8) falls back to the
    detected one, so the page always shows something true."""
    if data is None:
        return None
    detected = detect_format(data)
    if fmt not in FORMATS or (fmt == "json" and detected != "json"):
        fmt = detected
    shown = data[:MAX_SHOWN_BYTES]
    truncated = len(data) > len(shown)
    if fmt == "text":
        text = _as_text(shown, truncated=truncated)
        if text is None:
            fmt, text = "hex", shown.hex(" ")
    elif fmt == "json":
        text = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
    elif fmt == "base64":
        text = base64.b64encode(shown).decode()
    else:
        text = shown.hex(" ")
    return {"format": fmt, "text": text, "size": len(data), "truncated": truncated}
