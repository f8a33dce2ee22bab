"""The log cleaner: compaction for ``cleanup.policy=compact`` topics.

What it guarantees (Kafka's contract)
    For every key, the record with the highest offset is kept; older records of that key
    in cleaned segments are removed. A tombstone (null value) is kept until it is older
    than ``delete.retention.ms`` (by its record timestamp), so consumers that read the
    whole log in time see the delete. Offsets never change and stay in order; a
    compacted log has gaps. The active segment, and segments holding data newer than
    ``min.compaction.lag.ms``, are never cleaned.

When it runs
    A partition is cleanable when the share of "dirty" bytes (after its cleaner
    checkpoint) in the cleanable range reaches ``min.cleanable.dirty.ratio``, or when
    dirty data is older than ``max.compaction.lag.ms``.

How
    1. A key -> latest offset map is built from the dirty section (worker thread).
    2. Each cleanable segment is rewritten to ``<base>.cleaned`` (worker thread): a batch
       whose records all survive is copied byte for byte; one that loses records is
       re-encoded with the same base offset, offset range, timestamps, codec and
       producer fields; a batch that loses all its records is dropped.
    3. On the event loop: each ``.cleaned`` file is fsync'd, its indexes removed, and it
       is renamed over the segment (atomic), which is then reopened (indexes rebuilt).
       The checkpoint ``cleaner-offset-checkpoint`` (one decimal offset) is replaced
       atomically.

Crash policy
    A crash before a rename leaves the old segment intact (leftover ``.cleaned`` files
    are deleted on open); after it, the new one. Either is a correct log.

Control and transactional batches are copied unchanged (transactions do not exist yet).
Keys are kept in memory as 16-byte digests (Kafka's SkimpyOffsetMap does the same).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from broker.protocol import record_codec, records
from broker.storage.partition_log import PartitionLog
from broker.storage.segment import CLEANED_SUFFIX, Segment

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "cleaner-offset-checkpoint"


def _digest(key: bytes) -> bytes:
    return hashlib.md5(key, usedforsecurity=False).digest()


@dataclass(frozen=True, slots=True)
class CleanPlan:
    segments: list[Segment]  # from the log start up to (excluding) the first uncleanable
    dirty_from: int  # cleaner checkpoint
    cleanable_end: int  # first offset not cleaned this pass


@dataclass(frozen=True, slots=True)
class CleanResult:
    segments_rewritten: int
    records_removed: int
    bytes_before: int
    bytes_after: int


def read_checkpoint(partition_log: PartitionLog) -> int:
    path = partition_log.directory / CHECKPOINT_FILE
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def _write_checkpoint(partition_log: PartitionLog, offset: int) -> None:
    path = partition_log.directory / CHECKPOINT_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{offset}\n")
    os.replace(tmp, path)


def plan(partition_log: PartitionLog, now_ms: int) -> CleanPlan | None:
    """What to clean now, or None when the partition is not due."""
    config = partition_log.config
    if not config.compact:
        return None
    cleanable: list[Segment] = []
    for segment in partition_log.segments[:-1]:  # never the active segment
        if now_ms - segment.largest_timestamp < config.min_compaction_lag_ms:
            break
        cleanable.append(segment)
    if not cleanable:
        return None
    dirty_from = max(read_checkpoint(partition_log), partition_log.log_start_offset)
    cleanable_end = cleanable[-1].next_offset
    if dirty_from >= cleanable_end:
        return None
    total = sum(s.size for s in cleanable)
    dirty = sum(s.size for s in cleanable if s.next_offset > dirty_from)
    overdue = any(
        s.next_offset > dirty_from and now_ms - s.largest_timestamp >= config.max_compaction_lag_ms
        for s in cleanable
    )
    if total and (dirty / total >= config.min_cleanable_dirty_ratio or overdue):
        return CleanPlan(cleanable, dirty_from, cleanable_end)
    return None


def build_offset_map(plan_: CleanPlan) -> dict[bytes, int]:
    """Key digest -> latest offset of that key in the dirty section."""
    latest: dict[bytes, int] = {}
    for segment in plan_.segments:
        if segment.next_offset <= plan_.dirty_from:
            continue
        for location in segment.iter_batches():
            if location.last_offset < plan_.dirty_from:
                continue
            data = segment.read_batch(location)
            header = records.read_header(data, 0)
            if header.is_control:
                continue
            batch = record_codec.decode_batch(data)
            for record in batch.records:
                offset = batch.offset(record)
                if record.key is not None and offset >= plan_.dirty_from:
                    latest[_digest(record.key)] = offset
    return latest


def _clean_batch(
    data: bytes, latest: dict[bytes, int], delete_horizon_ms: int
) -> tuple[bytes | None, int]:
    """The batch as it survives cleaning (None: nothing survives) and records removed."""
    header = records.read_header(data, 0)
    if header.is_control or header.attributes & records.ATTR_TRANSACTIONAL:
        return data, 0
    batch = record_codec.decode_batch(data)
    kept = []
    for record in batch.records:
        offset = batch.offset(record)
        if record.key is not None and latest.get(_digest(record.key), offset) > offset:
            continue  # superseded by a later record with the same key
        if record.value is None and batch.timestamp(record) < delete_horizon_ms:
            continue  # tombstone older than delete.retention.ms
        kept.append(record)
    removed = len(batch.records) - len(kept)
    if removed == 0:
        return data, 0
    if not kept:
        return None, removed
    rewritten = record_codec.encode_batch(
        kept,
        base_timestamp=header.base_timestamp,
        base_offset=header.base_offset,
        codec=header.compression,
        attributes=header.attributes,
        last_offset_delta=header.last_offset_delta,
        max_timestamp=header.max_timestamp,
        producer_id=header.producer_id,
        producer_epoch=header.producer_epoch,
        base_sequence=header.base_sequence,
        partition_leader_epoch=header.partition_leader_epoch,
    )
    return rewritten, removed


def write_cleaned(
    plan_: CleanPlan, latest: dict[bytes, int], delete_horizon_ms: int
) -> dict[int, tuple[Path, int]]:
    """Write ``<base>.cleaned`` for each segment that changes. Returns base offset ->
    (cleaned path, records removed). Runs on a worker thread (reads via pread only)."""
    written: dict[int, tuple[Path, int]] = {}
    for segment in plan_.segments:
        removed_total = 0
        parts: list[bytes] = []
        for location in segment.iter_batches():
            cleaned, removed = _clean_batch(segment.read_batch(location), latest, delete_horizon_ms)
            removed_total += removed
            if cleaned is not None:
                parts.append(cleaned)
        if removed_total == 0:
            continue
        path = segment.path.with_name(segment.path.name + CLEANED_SUFFIX)
        with open(path, "wb") as handle:
            for part in parts:
                handle.write(part)
            handle.flush()
            os.fsync(handle.fileno())
        written[segment.base_offset] = (path, removed_total)
    return written


def swap_in(
    partition_log: PartitionLog, plan_: CleanPlan, written: dict[int, tuple[Path, int]]
) -> CleanResult:
    """Replace segments with their cleaned files (event loop; atomic per segment)."""
    before = after = removed = 0
    for index, segment in enumerate(partition_log.segments):
        entry = written.get(segment.base_offset)
        if entry is None or segment not in plan_.segments:
            continue
        path, removed_here = entry
        before += segment.size
        segment.close()
        segment.offset_index.path.unlink(missing_ok=True)
        segment.time_index.path.unlink(missing_ok=True)
        os.replace(path, segment.path)
        reopened = Segment(
            partition_log.directory,
            segment.base_offset,
            index_interval_bytes=partition_log.config.index_interval_bytes,
            recover=True,
            files=partition_log.files,
        )
        reopened.seal()
        partition_log.segments[index] = reopened
        after += reopened.size
        removed += removed_here
    _write_checkpoint(partition_log, plan_.cleanable_end)
    return CleanResult(len(written), removed, before, after)


def clean(partition_log: PartitionLog, now_ms: int | None = None) -> CleanResult | None:
    """One synchronous cleaning pass (tests and tools; the broker splits the phases)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    plan_ = plan(partition_log, now)
    if plan_ is None:
        return None
    latest = build_offset_map(plan_)
    written = write_cleaned(plan_, latest, now - partition_log.config.delete_retention_ms)
    return swap_in(partition_log, plan_, written)
