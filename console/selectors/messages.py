"""Reads for ``/topics/<name>/messages/``: a page of records, browsed or filtered.

A page is a direction and per-partition positions. Forward (``fwd``): records at or
after each position, oldest first; backward (``back``, "from newest"): records before
each position. Partitions are merged by timestamp (a k-way merge of each partition's
records in offset order), so a page always holds a prefix (forward) or suffix
(backward) of every partition's range and the next page's positions follow exactly
from what it shows: paging never skips or repeats a record. The page's links carry
those positions (``dir=...&pos=0:12,1:40``).

A filter scans on the server: forward from the positions until the page is full, the
scan limit is reached or the time budget is spent (the positions then say where the
scan stopped, so "next" continues it); backward it scans the last ``scan_limit``
records before the positions (shared among the partitions) and keeps the newest
matches. Everything here but :func:`message_page` is pure.
"""

from __future__ import annotations

import heapq
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from console import broker_admin, message_client
from console.message_client import Record
from console.records import format_bytes
from console.roles import Action
from console.services._common import field_error
from console.services.topics import topic_tenant
from console.tenancy import Actor

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
DEFAULT_SCAN_LIMIT = 10_000
MAX_SCAN_LIMIT = 100_000
FILTER_TIME_BUDGET_S = 10.0
"""Seconds a filtered page may scan before it answers with what it found."""
FILTER_FIELDS = ("any", "key", "value", "header")
START_MODES = ("newest", "earliest", "offset", "timestamp")
Positions = dict[int, int]
_LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


@dataclass(frozen=True, slots=True)
class Start:
    """Where a first page starts: ``newest``, ``earliest``, an ``offset`` or a
    ``timestamp`` (ms since the epoch)."""

    mode: str = "newest"
    offset: int | None = None
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    direction: str  # "fwd" or "back"
    positions: Positions


@dataclass(frozen=True, slots=True)
class Filter:
    text: str
    field: str = "any"
    scan_limit: int = DEFAULT_SCAN_LIMIT


# -- pure helpers ------------------------------------------------------------------


def format_positions(positions: Mapping[int, int]) -> str:
    return ",".join(f"{p}:{o}" for p, o in sorted(positions.items()))


def parse_positions(text: str) -> Positions:
    """``"0:12,1:40"`` -> ``{0: 12, 1: 40}``; ValueError for anything else."""
    positions: Positions = {}
    for item in text.split(","):
        partition, colon, offset = item.strip().partition(":")
        if not colon or not partition.isdigit() or not offset.isdigit():
            raise ValueError(f"not a partition:offset pair: {item.strip()!r}")
        positions[int(partition)] = int(offset)
    return positions


def matches(record: Record, needle: bytes, where: str) -> bool:
    """Whether ``needle`` is a substring of the record's key, value or a header
    (``name=value``), as bytes (case-sensitive)."""
    if where in ("any", "key") and record.key is not None and needle in record.key:
        return True
    if where in ("any", "value") and record.value is not None and needle in record.value:
        return True
    if where in ("any", "header"):
        return any(needle in name.encode() + b"=" + (v or b"") for name, v in record.headers)
    return False


def _by_partition(records: Iterable[Record]) -> dict[int, list[Record]]:
    lists: dict[int, list[Record]] = {}
    for record in records:
        lists.setdefault(record.partition, []).append(record)
    for items in lists.values():
        items.sort(key=lambda r: r.offset)
    return lists


def _ts(record: Record) -> int:
    return record.timestamp if record.timestamp is not None else 0


def merge_forward(records: Iterable[Record], limit: int) -> list[Record]:
    """The first ``limit`` records by timestamp, each partition's records in offset
    order (so a prefix of every partition)."""
    lists = _by_partition(records).values()
    merged = heapq.merge(*lists, key=lambda r: (_ts(r), r.partition))
    return [record for _, record in zip(range(limit), merged, strict=False)]


def merge_backward(records: Iterable[Record], limit: int) -> list[Record]:
    """The last ``limit`` records by timestamp (a suffix of every partition), oldest
    first."""
    lists = [items[::-1] for items in _by_partition(records).values()]
    merged = heapq.merge(*lists, key=lambda r: (-_ts(r), -r.partition))
    newest = [record for _, record in zip(range(limit), merged, strict=False)]
    return newest[::-1]


def backward_links(
    shown: list[Record], ends: Positions, window_starts: Positions, read: set[int]
) -> tuple[Positions, Positions]:
    """(older page's ends, newer page's starts) around a backward page that shows
    ``shown`` out of windows ``window_starts[p] .. ends[p]``; ``read``: the partitions
    with records read in their window (shown or not)."""
    lowest: Positions = {}
    highest: Positions = {}
    for record in shown:
        p = record.partition
        lowest[p] = min(lowest.get(p, record.offset), record.offset)
        highest[p] = max(highest.get(p, record.offset), record.offset)
    older = {}
    for p, end in ends.items():
        if p in lowest:
            older[p] = lowest[p]
        else:  # nothing shown: what was read there is older than the page (read it again)
            older[p] = end if p in read else window_starts[p]
    newer = {p: highest[p] + 1 if p in highest else end for p, end in ends.items()}
    return older, newer


def parse_timestamp(text: str) -> int:
    """Milliseconds since the epoch, or an ISO 8601 date-time (UTC unless it names an
    offset; ``2026-12-08T00:50`` as a browser's datetime-local gives). ValueError else."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        value = int(text)
        if not 0 <= value <= _LAST_MS:
            raise ValueError("a timestamp must be from 1970 to 9999")
        return value
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment.timestamp() < 0:
        raise ValueError("a timestamp cannot be before 1970")
    return int(moment.timestamp() * 1000)


def utc_text(timestamp_ms: int | None) -> tuple[str, str]:
    """(ISO 8601 for ``<time datetime>``, the UTC text shown) for a record timestamp."""
    if timestamp_ms is None:
        return "", "(no timestamp)"
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return (
        moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC",
    )


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One record as the page and the JSON Lines download show it."""

    partition: int
    offset: int
    timestamp: int | None
    timestamp_type: str | None
    timestamp_iso: str
    timestamp_utc: str
    key: dict[str, Any] | None
    value: dict[str, Any] | None
    headers: tuple[tuple[str, dict[str, Any] | None], ...]

    def as_json(self, topic: str) -> str:
        return json.dumps(
            {
                "topic": topic, "partition": self.partition, "offset": self.offset,
                "timestamp": self.timestamp, "timestamp_type": self.timestamp_type,
                "key": self.key, "value": self.value,
                "headers": [{"key": name, "value": value} for name, value in self.headers],
            },
            ensure_ascii=False,
        )  # fmt: skip


def render_row(record: Record, fmt: str = "auto") -> MessageRow:
    iso, utc = utc_text(record.timestamp)
    return MessageRow(
        partition=record.partition, offset=record.offset, timestamp=record.timestamp,
        timestamp_type=record.timestamp_type, timestamp_iso=iso, timestamp_utc=utc,
        key=format_bytes(record.key, fmt), value=format_bytes(record.value, fmt),
        headers=tuple((name, format_bytes(v, fmt)) for name, v in record.headers),
    )  # fmt: skip


# -- the page ----------------------------------------------------------------------


@dataclass(frozen=True)
class MessagePage:
    topic: str
    partitions: list[int]  # the partitions browsed
    watermarks: dict[int, tuple[int, int]]  # partition -> (log start offset, high watermark)
    direction: str
    positions: Positions
    rows: list[MessageRow]
    older: Positions | None  # the previous page's cursor ("back"), None: nothing older
    newer: Positions | None  # the next page's cursor ("fwd"), None: nothing newer (yet)
    filter: Filter | None = None
    scanned: int = 0
    stopped: str = ""  # why a read stopped early: "limit", "budget", "deadline" or ""
    may_produce: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def older_query(self) -> str:
        return format_positions(self.older) if self.older else ""

    @property
    def newer_query(self) -> str:
        return format_positions(self.newer) if self.newer else ""


def _start_positions(
    topic: str, start: Start, watermarks: dict[int, tuple[int, int]], single: bool
) -> Cursor:
    if start.mode == "earliest":
        return Cursor("fwd", {p: low for p, (low, _) in watermarks.items()})
    if start.mode == "offset":
        offset = start.offset if start.offset is not None else 0
        if single:
            ((p, (low, high)),) = watermarks.items()
            if not low <= offset <= high:
                raise field_error(
                    "offset",
                    f"Partition {p} holds offsets {low} to {high - 1} (high watermark "
                    f"{high}); {offset} is outside them.",
                    "offset_range",
                )
        return Cursor(
            "fwd", {p: min(max(offset, low), high) for p, (low, high) in watermarks.items()}
        )
    if start.mode == "timestamp":
        if start.timestamp_ms is None:
            raise field_error("timestamp", "Give a timestamp to start from.", "required")
        found = message_client.offsets_for_timestamp(topic, list(watermarks), start.timestamp_ms)
        return Cursor("fwd", {p: found.get(p, high) for p, (_, high) in watermarks.items()})
    return Cursor("back", {p: high for p, (_, high) in watermarks.items()})


def _read(topic: str, ranges: dict[int, tuple[int, int]], **kwargs: Any) -> list[Record]:
    return list(message_client.read(topic, ranges, **kwargs))


def message_page(
    *,
    actor: Actor,
    topic: str,
    partition: int | None = None,
    start: Start = Start(),
    cursor: Cursor | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    fmt: str = "auto",
    filter: Filter | None = None,
    time_budget: float = FILTER_TIME_BUDGET_S,
) -> MessagePage:
    """One page of ``topic`` for ``actor`` (``message.view``; another tenant's topic is
    NotFound, like a missing one: ``broker_admin.UnknownTopic``). ``partition`` None:
    all partitions. ``cursor`` (from a page link) overrides ``start``. Bad input is a
    ValidationError by field; the cluster's failures are ``BrokerAdminError``."""
    topic_tenant(actor=actor, name=topic, action=Action.MESSAGE_VIEW)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise field_error("size", f"A page holds 1 to {MAX_PAGE_SIZE} records.", "size")
    metadata = broker_admin.describe_topics().get(topic)
    if metadata is None:
        raise broker_admin.UnknownTopic(f"topic {topic!r}: no such topic")
    all_partitions = [p.partition for p in metadata.partitions]
    if partition is not None and partition not in all_partitions:
        raise field_error(
            "partition",
            f"Topic {topic} has partitions 0 to {len(all_partitions) - 1}; there is no "
            f"partition {partition}.",
            "partition",
        )
    chosen = [partition] if partition is not None else all_partitions
    offsets = broker_admin.list_offsets((topic, p) for p in chosen)
    watermarks = {}
    for p in chosen:
        answer = offsets.get((topic, p))
        if answer is None or answer.log_start_offset is None or answer.high_watermark is None:
            raise broker_admin.BrokerAdminError(
                f"topic {topic!r}: the broker gave no offsets for partition {p}"
            )
        watermarks[p] = (answer.log_start_offset, answer.high_watermark)
    if cursor is None:
        cursor = _start_positions(topic, start, watermarks, partition is not None)
    positions = {
        p: min(max(cursor.positions.get(p, high if cursor.direction == "back" else low), low), high)
        for p, (low, high) in watermarks.items()
    }
    reader = _filtered if filter is not None else _plain
    return reader(
        topic=topic, chosen=chosen, watermarks=watermarks, direction=cursor.direction,
        positions=positions, page_size=page_size, fmt=fmt, filter=filter,
        time_budget=time_budget,
    )  # fmt: skip


def _page(topic: str, chosen: list[int], watermarks: dict[int, tuple[int, int]],
          direction: str, positions: Positions, shown: list[Record], fmt: str,
          older: Positions, newer: Positions, **extra: Any) -> MessagePage:  # fmt: skip
    has_older = any(older[p] > watermarks[p][0] for p in older)
    has_newer = any(newer[p] < watermarks[p][1] for p in newer)
    return MessagePage(
        topic=topic, partitions=chosen, watermarks=watermarks, direction=direction,
        positions=positions, rows=[render_row(r, fmt) for r in shown],
        older=older if has_older else None, newer=newer if has_newer else None, **extra,
    )  # fmt: skip


def _plain(*, topic: str, chosen: list[int], watermarks: dict[int, tuple[int, int]],
           direction: str, positions: Positions, page_size: int, fmt: str,
           filter: Filter | None, time_budget: float) -> MessagePage:  # fmt: skip
    deadline = time.monotonic() + broker_admin._timeout() + 5
    if direction == "fwd":
        ranges = {p: (positions[p], watermarks[p][1]) for p in chosen}
        records = _read(topic, ranges, deadline=deadline, per_partition=page_size)
        shown = merge_forward(records, page_size)
        last: Positions = {}
        for record in shown:
            last[record.partition] = record.offset + 1
        newer = {p: last.get(p, positions[p]) for p in chosen}
        older = dict(positions)
    else:
        starts = {p: max(watermarks[p][0], positions[p] - page_size) for p in chosen}
        ranges = {p: (starts[p], positions[p]) for p in chosen}
        records = _read(topic, ranges, deadline=deadline)
        shown = merge_backward(records, page_size)
        older, newer = backward_links(shown, positions, starts, {r.partition for r in records})
    expected = sum(min(stop - start, page_size) for start, stop in ranges.values())
    stopped = "deadline" if len(records) < expected and time.monotonic() >= deadline else ""
    return _page(topic, chosen, watermarks, direction, positions, shown, fmt, older, newer,
                 stopped=stopped)  # fmt: skip


def _filtered(*, topic: str, chosen: list[int], watermarks: dict[int, tuple[int, int]],
              direction: str, positions: Positions, page_size: int, fmt: str,
              filter: Filter, time_budget: float) -> MessagePage:  # fmt: skip
    needle = filter.text.encode()
    deadline = time.monotonic() + time_budget
    found: list[Record] = []
    scanned: Positions = {}  # partition -> the offset after the last record scanned
    count = 0

    def accept(record: Record) -> bool:
        nonlocal count
        count += 1
        scanned[record.partition] = record.offset + 1
        if matches(record, needle, filter.field):
            found.append(record)
        if count >= filter.scan_limit:
            return False
        return direction == "back" or len(found) < page_size

    if direction == "fwd":
        ranges = {p: (positions[p], watermarks[p][1]) for p in chosen}
    else:
        share = max(1, filter.scan_limit // len(chosen))
        starts = {p: max(watermarks[p][0], positions[p] - share) for p in chosen}
        ranges = {p: (starts[p], positions[p]) for p in chosen}
    list(message_client.read(topic, ranges, deadline=deadline, accept=accept))
    total = sum(stop - start for start, stop in ranges.values())
    stopped = ""
    if count >= filter.scan_limit and count < total:
        stopped = "limit"
    elif count < total and len(found) < page_size and time.monotonic() >= deadline:
        stopped = "budget"
    if direction == "fwd":
        shown = sorted(found, key=lambda r: (_ts(r), r.partition, r.offset))
        newer = {p: scanned.get(p, positions[p]) for p in chosen}
        older = dict(positions)
    else:
        shown = merge_backward(found, page_size)
        older, newer = backward_links(shown, positions, starts, {r.partition for r in found})
        if stopped:  # the window was not scanned to its end: go on from where it stopped
            newer = {p: scanned.get(p, starts[p]) for p in chosen}
            older = dict(starts)
    return _page(topic, chosen, watermarks, direction, positions, shown, fmt, older, newer,
                 filter=filter, scanned=count, stopped=stopped)  # fmt: skip
