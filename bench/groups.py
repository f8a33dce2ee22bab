"""Consumer group timings on a local Headwater broker (confluent-kafka / librdkafka).

``python bench/groups.py [--rounds N]`` starts its own broker (loopback, temporary data
directory, ``group.initial.rebalance.delay.ms=0``) and prints:

- **subscribe → first record**: a lone consumer of a new group subscribes to a topic
  that already holds records; the time until ``poll`` returns the first one (FindCoordinator,
  JoinGroup twice (MEMBER_ID_REQUIRED), SyncGroup, OffsetFetch, ListOffsets, Fetch).
- the same with ``group.protocol=consumer`` (KIP-848: one ConsumerGroupHeartbeat
  instead of JoinGroup/SyncGroup);
- **10 members start together**: ten consumers subscribe at once; the time until every
  one of them has been assigned its partitions.
- **rebalance of 10 members**: with ten members stable, an eleventh subscribes; the
  time until all eleven hold their new assignment (eager protocol: every member revokes
  and rejoins; members learn of the rebalance from their next heartbeat, so
  ``heartbeat.interval.ms`` (here 500) bounds it from below).

Nothing here asserts: these are measurements (docs/benchmarks.md records them).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench.brokers import free_port, port_open  # noqa: E402

HEARTBEAT_MS = 500


def start_broker(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "broker",
            "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
            "--override", f"log.dirs={data_dir / 'kafka-logs'}",
            "--override", "group.initial.rebalance.delay.ms=0",
        ],
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not port_open(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the broker did not start")
        time.sleep(0.05)
    return proc, f"127.0.0.1:{port}"


def consumer(bootstrap: str, group: str, **extra: Any) -> Consumer:
    return Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "heartbeat.interval.ms": HEARTBEAT_MS, "session.timeout.ms": 10000, **extra,
    })  # fmt: skip


def create_topic(bootstrap: str, topic: str, partitions: int, records: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(15)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(records):
        producer.produce(topic, key=str(i).encode(), value=b"x" * 100)
    producer.flush(30)


def first_record_s(bootstrap: str, topic: str, *, kip848: bool = False) -> float:
    group = f"lone-{uuid.uuid4().hex[:8]}"
    if kip848:
        c = Consumer({
            "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
            "group.protocol": "consumer",
        })  # fmt: skip
    else:
        c = consumer(bootstrap, group)
    started = time.perf_counter()
    c.subscribe([topic])
    while True:
        message = c.poll(0.05)
        if message is not None and message.error() is None:
            elapsed = time.perf_counter() - started
            c.close()
            return elapsed


class Member(threading.Thread):
    """A consumer polling in its own thread, noting when its assignment arrives."""

    def __init__(self, bootstrap: str, topic: str, group: str) -> None:
        super().__init__(daemon=True)
        self.consumer = consumer(bootstrap, group)
        self.topic = topic
        self.assigned_at = 0.0
        self.assignments = 0
        self.stopping = threading.Event()

    def on_assign(self, _c: Consumer, partitions: list[Any]) -> None:
        self.assigned_at = time.perf_counter()
        self.assignments += 1

    def run(self) -> None:
        self.consumer.subscribe([self.topic], on_assign=self.on_assign)
        while not self.stopping.is_set():
            self.consumer.poll(0.05)
        self.consumer.close()


def wait(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.01)


def rebalance_s(bootstrap: str, topic: str) -> tuple[float, float]:
    """(10 members starting together -> all assigned, an 11th joining -> all reassigned)."""
    group = f"ten-{uuid.uuid4().hex[:8]}"
    members = [Member(bootstrap, topic, group) for _ in range(10)]
    started = time.perf_counter()
    for member in members:
        member.start()
    # with no initial delay the first members form generations of their own: wait until
    # all ten are in one generation, i.e. nobody has been reassigned for a moment
    wait(lambda: all(m.assignments for m in members))
    settled = 0.0
    while True:
        counts = [m.assignments for m in members]
        time.sleep(1.5)
        if counts == [m.assignments for m in members]:
            settled = max(m.assigned_at for m in members) - started
            break
    before = [m.assignments for m in members]
    extra = Member(bootstrap, topic, group)
    joined = time.perf_counter()
    extra.start()
    everyone = [*members, extra]
    wait(
        lambda: (
            extra.assignments > 0
            and all(m.assignments > b for m, b in zip(members, before, strict=True))
        )
    )
    rebalance = max(m.assigned_at for m in everyone) - joined
    for member in everyone:
        member.stopping.set()
    for member in everyone:
        member.join(15)
    return settled, rebalance


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (
        f"median {statistics.median(ordered) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
        f"min {ordered[0] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-groups-") as tmp:
        proc, bootstrap = start_broker(Path(tmp))
        try:
            create_topic(bootstrap, "lone", 6, 1000)
            create_topic(bootstrap, "wide", 22, 2000)
            first_record_s(bootstrap, "lone")  # warm-up: creates __consumer_offsets
            lone = [first_record_s(bootstrap, "lone") for _ in range(args.rounds)]
            print(f"subscribe -> first record (lone consumer): {summary(lone)}")
            kip848 = [first_record_s(bootstrap, "lone", kip848=True) for _ in range(args.rounds)]
            print(f"subscribe -> first record (KIP-848 consumer): {summary(kip848)}")
            rounds = max(1, args.rounds // 3)
            results = [rebalance_s(bootstrap, "wide") for _ in range(rounds)]
            print(f"10 members start together -> all assigned: {summary([r[0] for r in results])}")
            print(f"11th member joins 10 -> all reassigned: {summary([r[1] for r in results])}")
        finally:
            proc.terminate()
            proc.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
