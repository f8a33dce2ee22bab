"""What the bounded pool of open log files costs on the storage hot path.

    python bench/file_pool.py                  # 3 repetitions
    python bench/file_pool.py --repeat 5 --partitions 200

``PYTHONPATH=/path/to/older/tree python bench/file_pool.py`` runs the workload on a
tree from before the pool (raw descriptors) for the comparison below.

In one process, the same workload on three pools (rotated order each repetition):
``unbounded`` (never evicts: every file stays open, as before the pool), ``fits`` (a
capacity larger than the files used: the hot path is a lock and an LRU touch) and
``thrash`` (a capacity of a quarter of the files: most uses reopen a file). The
workload: ``--partitions`` partition logs; round after round, one small batch appended
to each, then the last 10 batches of each read back. Printed: appends+reads per second,
median (range) of the repetitions, and the ratio to ``unbounded``.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broker.protocol import records

try:
    from broker.storage.file_pool import UNBOUNDED, FilePool
except ImportError:  # a tree before the pool
    UNBOUNDED, FilePool = 0, lambda capacity: None  # type: ignore[assignment,misc]
from broker.storage.log_config import LogConfig
from broker.storage.partition_log import PartitionLog
from tests.support.wire import record_batch

POOLED = "files" in inspect.signature(PartitionLog).parameters
"""False when run against a tree before the pool (PYTHONPATH=<that tree>): the
``unbounded`` figure is then the raw-descriptor code, for comparison."""
BATCH = record_batch([(b"key", b"v" * 100)])
HEADERS = records.validate_produce_batches(BATCH, max_message_bytes=1 << 20)


def run(pool: FilePool, partitions: int, rounds: int, root: Path) -> float:
    logs = [
        PartitionLog(
            root / f"t-{p}",
            topic="t",
            partition=p,
            topic_id=uuid.UUID(int=1),
            config=LogConfig(segment_bytes=1 << 30),
            **({"files": pool} if POOLED else {}),
        )
        for p in range(partitions)
    ]
    started = time.perf_counter()
    operations = 0
    for _ in range(rounds):
        for partition_log in logs:
            partition_log.append(BATCH, HEADERS, leader_epoch=0)
            operations += 1
        for partition_log in logs:
            partition_log.read(max(partition_log.log_end_offset - 10, 0), 1 << 20)
            operations += 1
    elapsed = time.perf_counter() - started
    for partition_log in logs:
        partition_log.close()
    return operations / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = args.partitions * 3
    pools = {"unbounded": UNBOUNDED, "fits": files + 16, "thrash": max(files // 4, 16)}
    if not POOLED:
        pools = {"unbounded": UNBOUNDED}
    results: dict[str, list[float]] = {name: [] for name in pools}
    names = list(pools)
    for repetition in range(args.repeat):
        order = names[repetition % len(names) :] + names[: repetition % len(names)]
        for name in order:
            with tempfile.TemporaryDirectory() as root:
                results[name].append(
                    run(FilePool(pools[name]), args.partitions, args.rounds, Path(root))
                )
    base = statistics.median(results["unbounded"])
    print(f"{args.partitions} partitions ({files} files), {args.rounds} rounds, {args.repeat} runs")
    print("| pool | capacity | operations/s, median (range) | vs unbounded |")
    print("|---|---|---|---|")
    for name, capacity in pools.items():
        values = results[name]
        median = statistics.median(values)
        print(
            f"| {name} | {capacity or 'unbounded'} | {median:,.0f} "
            f"({min(values):,.0f}-{max(values):,.0f}) | {median / base:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
