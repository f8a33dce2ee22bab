"""A topic's messages: browse a page (the messages page's parameters: partition, where
to start, a cursor from a previous page, page size, format, a filter) and produce one
record. Parsing only; console.selectors.messages pages, console.services.messages
produces.

A cursor is ``<direction>:<partition>:<offset>,...`` (``fwd:0:12,1:40``), as a page
answers it in ``next_cursor`` / ``previous_cursor``; it overrides ``start``. Keys, values
and header values in a request are text (UTF-8) or, with ``encoding: base64``, bytes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import AfterValidator, Field

from console.api.schemas import INT32_MAX, INT64_MAX, Text, responses
from console.records import FORMATS
from console.selectors import messages as selectors
from console.selectors.messages import Cursor, Filter, MessagePage, MessageRow, Start
from console.services import messages as services
from console.services._common import field_error

router = Router(tags=["messages"])

Format = Literal[("auto", *FORMATS)]  # type: ignore[valid-type]


def _utf8(value: str) -> str:
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("not UTF-8 text (a lone surrogate)") from None
    return value


Utf8 = Annotated[str, AfterValidator(_utf8)]


class FieldOut(Schema):
    """A key, value or header value as the page shows it."""

    format: str = Field(description="json, text, hex or base64")
    text: str
    size: int = Field(description="bytes")
    truncated: bool = Field(description="text shows only the first bytes")


class HeaderOut(Schema):
    key: str
    value: FieldOut | None


class RecordOut(Schema):
    partition: int
    offset: int
    timestamp: int | None = Field(description="ms since the epoch")
    timestamp_type: str | None
    key: FieldOut | None
    value: FieldOut | None
    headers: list[HeaderOut]


class WatermarkOut(Schema):
    partition: int
    log_start_offset: int
    high_watermark: int


class MessagePageOut(Schema):
    topic: str
    direction: str = Field(description="fwd (oldest first) or back (from the newest)")
    watermarks: list[WatermarkOut]
    records: list[RecordOut]
    next_cursor: str | None = Field(description="newer records; null: none (yet)")
    previous_cursor: str | None = Field(description="older records; null: none")
    scanned: int = Field(description="records a filter examined")
    stopped: str = Field(description="why a read stopped early: limit, budget, deadline or ''")


class HeaderIn(Schema):
    key: Text(32767)
    value: Utf8 = ""


class ProduceIn(Schema):
    key: Utf8 | None = Field(None, description="null: a null key")
    value: Utf8 | None = Field(None, description="null: a tombstone")
    headers: list[HeaderIn] = Field(default_factory=list, max_length=1000)
    partition: int | None = Field(
        None, ge=0, le=INT32_MAX, description="null: by key (the default partitioner)"
    )
    encoding: Literal["utf-8", "base64"] = Field("utf-8", description="of key, value, headers")


class ProducedOut(Schema):
    partition: int
    offset: int
    timestamp: int | None


def row_out(row: MessageRow) -> dict[str, Any]:
    return {
        "partition": row.partition, "offset": row.offset, "timestamp": row.timestamp,
        "timestamp_type": row.timestamp_type, "key": row.key, "value": row.value,
        "headers": [{"key": name, "value": value} for name, value in row.headers],
    }  # fmt: skip


def page_out(page: MessagePage) -> dict[str, Any]:
    return {
        "topic": page.topic, "direction": page.direction,
        "watermarks": [
            {"partition": p, "log_start_offset": low, "high_watermark": high}
            for p, (low, high) in sorted(page.watermarks.items())
        ],
        "records": [row_out(row) for row in page.rows],
        "next_cursor": f"fwd:{page.newer_query}" if page.newer else None,
        "previous_cursor": f"back:{page.older_query}" if page.older else None,
        "scanned": page.scanned, "stopped": page.stopped,
    }  # fmt: skip


def parse_cursor(text: str) -> Cursor:
    direction, _, positions = text.partition(":")
    if direction not in ("fwd", "back"):
        raise field_error("cursor", "A cursor starts with fwd: or back:.", "cursor")
    try:
        return Cursor(direction, selectors.parse_positions(positions))
    except ValueError as exc:
        raise field_error("cursor", f"Not a cursor: {exc}.", "cursor") from None


def parse_start(start: str, offset: int | None, timestamp: str) -> Start:
    """The messages page's rules (console.forms.messages.BrowseForm), by field."""
    timestamp_ms = None
    if timestamp.strip():
        try:
            timestamp_ms = selectors.parse_timestamp(timestamp)
        except (ValueError, OverflowError, OSError):
            raise field_error(
                "timestamp",
                f"Not a timestamp: {timestamp[:60]!r}. Use 2026-12-08T00:50:00 (UTC), with Z "
                "or +hh:mm for another zone, or milliseconds since the epoch.",
                "timestamp",
            ) from None
    if start == "offset" and offset is None:
        raise field_error("offset", "Give the offset to start from.", "required")
    if start == "timestamp" and timestamp_ms is None:
        raise field_error("timestamp", "Give the timestamp to start from.", "required")
    return Start(start, offset, timestamp_ms)


def _bytes(text: str | None, encoding: str, name: str) -> bytes | None:
    if text is None:
        return None
    if encoding == "utf-8":
        return text.encode()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise field_error(name, "Not base64.", "base64") from None


@router.get("/{name}/messages", response=responses(MessagePageOut),
            summary="Browse a topic's messages")  # fmt: skip
def message_list(
    request: HttpRequest,
    name: str,
    partition: int | None = Query(None, ge=0, le=INT32_MAX, description="empty: all"),
    start: Literal["newest", "earliest", "offset", "timestamp"] = Query("newest"),
    offset: int | None = Query(None, ge=0, le=INT64_MAX, description="start=offset"),
    timestamp: str = Query(
        "", max_length=64, description="start=timestamp: ISO 8601 (UTC unless given) or ms"
    ),
    cursor: str = Query("", max_length=100_000, description="a page's next/previous cursor"),
    size: int = Query(selectors.DEFAULT_PAGE_SIZE, ge=1, le=selectors.MAX_PAGE_SIZE),
    format: Format = Query("auto", description="how keys and values are shown"),
    q: str = Query("", max_length=1000, description="filter: bytes to find (case-sensitive)"),
    q_in: Literal["any", "key", "value", "header"] = Query("any", description="where q is"),
    limit: int = Query(selectors.DEFAULT_SCAN_LIMIT, ge=1, le=selectors.MAX_SCAN_LIMIT,
                       description="records a filter scans at most"),
) -> dict[str, Any]:  # fmt: skip
    """One page, oldest first; partitions merged by timestamp. With ``q`` the server
    scans (``scanned``) until the page is full, ``limit`` or its time budget
    (``stopped``); ``next_cursor`` continues the scan."""
    page = selectors.message_page(
        actor=request.auth, topic=name, partition=partition,
        start=parse_start(start, offset, timestamp),
        cursor=parse_cursor(cursor) if cursor else None, page_size=size, fmt=format,
        filter=Filter(q, q_in, limit) if q else None,
    )  # fmt: skip
    return page_out(page)


@router.post("/{name}/messages", response=responses(ProducedOut, 201),
             summary="Produce a record")  # fmt: skip
def message_produce(request: HttpRequest, name: str, payload: ProduceIn) -> Status[Any]:
    """The broker judges the record: beyond ``max.message.bytes`` is 422
    MESSAGE_TOO_LARGE."""
    produced = services.message_produce(
        actor=request.auth, topic=name, partition=payload.partition,
        key=_bytes(payload.key, payload.encoding, "key"),
        value=_bytes(payload.value, payload.encoding, "value"),
        headers=[
            (h.key, _bytes(h.value, payload.encoding, "headers") or b"") for h in payload.headers
        ],
    )  # fmt: skip
    return Status(
        201,
        {"partition": produced.partition, "offset": produced.offset,
         "timestamp": produced.timestamp},
    )  # fmt: skip
