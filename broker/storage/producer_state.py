"""Idempotent producer state of one partition: epochs and recent sequence ranges.

Per producer ID the partition remembers the producer epoch and the last five batches'
``(first sequence, last sequence, first offset, last offset)``, which is what Kafka
keeps (``max.in.flight.requests.per.connection`` <= 5). An incoming idempotent batch is:

- a duplicate when its sequence range equals a remembered one: the append is skipped
  and the original offsets are returned, so a retried send is acknowledged once;
- fenced (INVALID_PRODUCER_EPOCH) when its epoch is older than the remembered one;
- out of order (OUT_OF_ORDER_SEQUENCE_NUMBER) when a new epoch does not start at
  sequence 0, or the same epoch does not continue at last sequence + 1;
- accepted otherwise (also for a producer ID never seen, as Kafka does).

On-disk format
    ``<offset:020d>.snapshot`` in the partition directory: JSON
    ``{"offset": N, "producers": [{"producer_id", "producer_epoch",
    "last_timestamp", "batches": [[first_seq, last_seq, first_offset, last_offset]...]}]}``
    describing the state after every batch below ``offset``. Written atomically on
    segment roll and clean shutdown; the two newest are kept.

Crash policy
    State is derived data: on open, the newest snapshot at or below the log end offset
    is loaded and the batch headers after it are replayed (sequence numbers live in
    the batch headers, so no record is decoded). A missing or unreadable snapshot
    means replaying from the log start.

Thread-safety
    None: owned by the partition log.
"""

from __future__ import annotations

import json
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from broker.errors import BrokerError, ErrorCode

SNAPSHOT_SUFFIX = ".snapshot"
MAX_REMEMBERED_BATCHES = 5
MAX_SEQUENCE = 2**31 - 1
KEEP_SNAPSHOTS = 2


@dataclass(frozen=True, slots=True)
class BatchSequence:
    first_sequence: int
    last_sequence: int
    first_offset: int
    last_offset: int


@dataclass(slots=True)
class ProducerEntry:
    producer_epoch: int
    last_timestamp: int
    batches: deque[BatchSequence] = field(
        default_factory=lambda: deque(maxlen=MAX_REMEMBERED_BATCHES)
    )

    @property
    def last_sequence(self) -> int:
        return self.batches[-1].last_sequence if self.batches else -1


def _next_sequence(sequence: int) -> int:
    return 0 if sequence == MAX_SEQUENCE else sequence + 1


def last_sequence_of(base_sequence: int, last_offset_delta: int) -> int:
    """Sequences wrap at 2**31 - 1 (Kafka's DefaultRecordBatch.incrementSequence)."""
    return (base_sequence + last_offset_delta) % (MAX_SEQUENCE + 1)


class ProducerStateManager:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.producers: dict[int, ProducerEntry] = {}

    # -- checks -------------------------------------------------------------------
    def check(
        self, producer_id: int, producer_epoch: int, base_sequence: int, last_offset_delta: int
    ) -> BatchSequence | None:
        """Validate an idempotent batch before it is appended.

        Returns the remembered batch when this one is a duplicate (skip the append and
        answer with those offsets), None when it may be appended; raises BrokerError.
        """
        entry = self.producers.get(producer_id)
        if entry is None:
            return None
        last_sequence = last_sequence_of(base_sequence, last_offset_delta)
        if producer_epoch < entry.producer_epoch:
            raise BrokerError(
                ErrorCode.invalid_producer_epoch,
                f"Producer's epoch {producer_epoch} is older than the current epoch "
                f"{entry.producer_epoch} for producer {producer_id}",
            )
        if producer_epoch > entry.producer_epoch:
            if base_sequence != 0:
                raise BrokerError(
                    ErrorCode.out_of_order_sequence_number,
                    f"Invalid sequence number for new epoch {producer_epoch} of producer "
                    f"{producer_id}: {base_sequence} (0 expected)",
                )
            return None
        for remembered in entry.batches:
            if (
                remembered.first_sequence == base_sequence
                and remembered.last_sequence == last_sequence
            ):
                return remembered
        expected = _next_sequence(entry.last_sequence)
        if base_sequence != expected:
            raise BrokerError(
                ErrorCode.out_of_order_sequence_number,
                f"Out of order sequence number for producer {producer_id}: "
                f"{base_sequence} (incoming), {expected} expected",
            )
        return None

    def record(
        self,
        producer_id: int,
        producer_epoch: int,
        base_sequence: int,
        last_offset_delta: int,
        first_offset: int,
        timestamp: int,
    ) -> None:
        """Remember an appended idempotent batch."""
        entry = self.producers.get(producer_id)
        if entry is None or entry.producer_epoch != producer_epoch:
            entry = ProducerEntry(producer_epoch, timestamp)
            self.producers[producer_id] = entry
        entry.last_timestamp = max(entry.last_timestamp, timestamp)
        entry.batches.append(
            BatchSequence(
                base_sequence,
                last_sequence_of(base_sequence, last_offset_delta),
                first_offset,
                first_offset + last_offset_delta,
            )
        )

    def expire(self, now_ms: int, expiration_ms: int) -> int:
        """Forget producers idle longer than ``producer.id.expiration.ms``."""
        stale = [
            pid for pid, e in self.producers.items() if now_ms - e.last_timestamp > expiration_ms
        ]
        for pid in stale:
            del self.producers[pid]
        return len(stale)

    # -- snapshots ----------------------------------------------------------------
    def _snapshots(self) -> list[tuple[int, Path]]:
        found = []
        for path in self.directory.glob(f"*{SNAPSHOT_SUFFIX}"):
            stem = path.name[: -len(SNAPSHOT_SUFFIX)]
            if stem.isdigit():
                found.append((int(stem), path))
        return sorted(found)

    def write_snapshot(self, offset: int) -> None:
        payload = {
            "offset": offset,
            "producers": [
                {
                    "producer_id": pid,
                    "producer_epoch": entry.producer_epoch,
                    "last_timestamp": entry.last_timestamp,
                    "batches": [
                        [b.first_sequence, b.last_sequence, b.first_offset, b.last_offset]
                        for b in entry.batches
                    ],
                }
                for pid, entry in self.producers.items()
            ],
        }
        path = self.directory / f"{offset:020d}{SNAPSHOT_SUFFIX}"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(payload))
        os.replace(tmp, path)
        for _offset, old in self._snapshots()[:-KEEP_SNAPSHOTS]:
            old.unlink(missing_ok=True)

    def load_snapshot(self, log_end_offset: int) -> int:
        """Load the newest usable snapshot at or below ``log_end_offset``; returns the
        offset to replay batches from (0 when there is none)."""
        self.producers = {}
        for offset, path in reversed(self._snapshots()):
            if offset > log_end_offset:
                path.unlink(missing_ok=True)  # describes data that did not survive
                continue
            try:
                payload = json.loads(path.read_text())
                for item in payload["producers"]:
                    entry = ProducerEntry(item["producer_epoch"], item["last_timestamp"])
                    entry.batches.extend(BatchSequence(*b) for b in item["batches"])
                    self.producers[item["producer_id"]] = entry
            except (OSError, ValueError, KeyError, TypeError):
                self.producers = {}
                continue
            return offset
        return 0

    def truncate_snapshots_below(self, offset: int) -> None:
        """Snapshots below the log start are useless once their segments are gone."""
        snapshots = self._snapshots()
        for snapshot_offset, path in snapshots[:-1]:
            if snapshot_offset < offset:
                path.unlink(missing_ok=True)
