"""The workloads, each bounded in records and seconds, driven by confluent-kafka.

Units: MB is 10^6 bytes of record *value* (payload; keys are absent, headers empty).
Every wait has a timeout; a broker that dies or stops answering turns into a
:class:`~bench.brokers.BenchError` or an ``error`` field in the result, never a hang.

- :func:`produce_throughput`: one producer, as fast as the client can hand records over,
  until ``max_bytes`` or ``seconds``; the clock stops when ``flush()`` returns (every
  record acknowledged).
- :func:`consume_throughput`: one consumer assigned to every partition from the start
  (no group membership: ``assign``, no commits) reading what the produce workload wrote,
  until it has everything or ``seconds``.
- :func:`latency`: a paced producer (records carry ``time.time_ns()`` in their first 8
  bytes) and a consumer in a separate process (``bench/latency_consumer.py``) that
  records receive time minus that stamp.
- :func:`memory`: a long produce while a thread samples the broker's VmRSS.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from bench.brokers import REPO_ROOT, BenchError, Broker, RssSampler, read_cpu_seconds

MB = 1_000_000


@dataclass
class ClientSettings:
    """Client configuration shared by every workload (overridable from the command line)."""

    acks: str = "all"
    linger_ms: int = 5
    batch_size: int = 1_000_000
    latency_linger_ms: int = 1
    producer_extra: dict[str, str] = field(default_factory=dict)
    consumer_extra: dict[str, str] = field(default_factory=dict)

    def producer(self, bootstrap: str, *, linger_ms: int | None = None) -> dict[str, Any]:
        return {
            "bootstrap.servers": bootstrap,
            "acks": self.acks,
            "linger.ms": self.linger_ms if linger_ms is None else linger_ms,
            "batch.size": self.batch_size,
            "compression.type": "none",
            "enable.idempotence": False,
            "queue.buffering.max.messages": 500_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "message.timeout.ms": 60_000,
            **self.producer_extra,
        }

    def consumer(self, bootstrap: str) -> dict[str, Any]:
        return {
            "bootstrap.servers": bootstrap,
            "group.id": f"bench-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            # librdkafka (>= 2.4) pauses a partition's fetching for fetch.queue.backoff.ms
            # (default 1000) whenever its local queue holds queued.min.messages (100000):
            # with 100-byte records that stalls the consumer for a second at a time
            # whatever the broker (librdkafka issues #2879, #4284). 10 ms keeps it fetching.
            "fetch.queue.backoff.ms": 10,
            **self.consumer_extra,
        }

    def describe(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self.producer_extra.items())
        cextra = "".join(f", {k}={v}" for k, v in self.consumer_extra.items())
        return (
            f"producer: acks={self.acks}, linger.ms={self.linger_ms} (latency runs: "
            f"{self.latency_linger_ms}), batch.size={self.batch_size}, compression none, "
            f"idempotence off{extra}; consumer: assign() to all partitions from the "
            f"beginning, no commits, fetch.queue.backoff.ms=10, other fetch settings "
            f"librdkafka's defaults{cextra}"
        )


# ---------------------------------------------------------------- helpers


class _Errors:
    """Collects librdkafka error_cb and failed delivery reports (never raises in a callback)."""

    def __init__(self) -> None:
        self.failed = 0
        self.messages: list[str] = []

    def error_cb(self, err: object) -> None:
        if len(self.messages) < 20:
            self.messages.append(str(err))

    def on_delivery(self, err: object, _msg: object) -> None:
        if err is not None:
            self.failed += 1
            if len(self.messages) < 20:
                self.messages.append(f"delivery: {err}")


class CpuMeter:
    """CPU seconds of the broker and of this client process over an interval."""

    def __init__(self, broker_pid: int) -> None:
        self.broker_pid = broker_pid
        self._b0 = read_cpu_seconds(broker_pid) or 0.0
        t = os.times()
        self._c0 = t.user + t.system
        self._w0 = time.monotonic()

    def result(self) -> dict[str, float]:
        wall = max(time.monotonic() - self._w0, 1e-9)
        b1 = read_cpu_seconds(self.broker_pid) or self._b0
        t = os.times()
        return {
            "broker_cpu_pct": round(100 * (b1 - self._b0) / wall, 1),
            "client_cpu_pct": round(100 * (t.user + t.system - self._c0) / wall, 1),
        }


def create_topic(broker: Broker, topic: str, partitions: int, timeout: float = 30.0) -> str:
    """Create a topic with the broker's benchmark configs; wait until every partition has
    a leader. Returns the effective flush.mode as DescribeConfigs reports it (or a note)."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    new = NewTopic(
        topic, num_partitions=partitions, replication_factor=1, config=dict(broker.topic_configs)
    )
    futures = admin.create_topics([new], operation_timeout=timeout, request_timeout=timeout)
    try:
        futures[topic].result(timeout)
    except KafkaException as exc:
        raise BenchError(f"{broker.name}: creating {topic} failed: {exc}") from exc
    deadline = time.monotonic() + timeout
    while True:
        broker.check_alive()
        meta = admin.list_topics(topic, timeout=5)
        tmeta = meta.topics.get(topic)
        if (
            tmeta is not None
            and tmeta.error is None
            and len(tmeta.partitions) == partitions
            and all(p.leader >= 0 for p in tmeta.partitions.values())
        ):
            break
        if time.monotonic() > deadline:
            raise BenchError(f"{broker.name}: {topic} has no leaders after {timeout:.0f} s")
        time.sleep(0.2)
    return describe_flush_mode(admin, topic)


def describe_flush_mode(admin: AdminClient, topic: str, timeout: float = 10.0) -> str:
    try:
        futures = admin.describe_configs(
            [ConfigResource(ConfigResource.Type.TOPIC, topic)], request_timeout=timeout
        )
        configs = next(iter(futures.values())).result(timeout)
    except Exception as exc:
        return f"unknown (DescribeConfigs failed: {str(exc)[:80]})"
    entry = configs.get("flush.mode")
    return entry.value if entry is not None else "n/a (no flush.mode config)"


def delete_topic(broker: Broker, topic: str, timeout: float = 30.0) -> None:
    """Best effort: frees Tansu's memory and Headwater's disk between workloads."""
    if broker.proc is None or broker.proc.poll() is not None:
        return
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    with contextlib.suppress(Exception):
        admin.delete_topics([topic], operation_timeout=timeout)[topic].result(timeout)


def _produce_one(producer: Producer, topic: str, value: bytes, deadline: float, **kw: Any) -> bool:
    """produce(), waiting for queue space while the local queue is full (until deadline)."""
    while True:
        try:
            producer.produce(topic, value, **kw)
            return True
        except BufferError:
            if time.monotonic() > deadline:
                return False
            producer.poll(0.001)


# ---------------------------------------------------------------- throughput


def produce_throughput(
    broker: Broker,
    topic: str,
    *,
    size: int,
    seconds: float,
    max_bytes: int,
    settings: ClientSettings,
    flush_timeout: float = 60.0,
) -> dict[str, Any]:
    errors = _Errors()
    conf = settings.producer(broker.bootstrap)
    conf.update(
        {
            "delivery.report.only.error": True,
            "on_delivery": errors.on_delivery,
            "error_cb": errors.error_cb,
        }
    )
    producer = Producer(conf)
    value = os.urandom(size)
    max_records = max(1, max_bytes // size)
    produce = producer.produce
    poll = producer.poll
    sent = 0
    chunk = 2000
    meter = CpuMeter(broker.pid)
    start = time.monotonic()
    stop_at = start + seconds
    hard_deadline = stop_at + flush_timeout
    while sent < max_records and time.monotonic() < stop_at:
        n = min(chunk, max_records - sent)
        for _ in range(n):
            try:
                produce(topic, value)
            except BufferError:
                poll(0.001)
                if not _produce_one(producer, topic, value, hard_deadline):
                    break
            sent += 1
        poll(0)
    remaining = producer.flush(max(1.0, hard_deadline - time.monotonic()))
    elapsed = time.monotonic() - start
    cpu = meter.result()
    broker.check_alive()
    delivered = sent - remaining - errors.failed
    return {
        "records": delivered,
        "bytes": delivered * size,
        "seconds": round(elapsed, 3),
        "records_per_s": round(delivered / elapsed),
        "mb_per_s": round(delivered * size / elapsed / MB, 2),
        "undelivered": remaining + errors.failed,
        "errors": errors.messages[:5],
        **cpu,
    }


def consume_throughput(
    broker: Broker,
    topic: str,
    *,
    partitions: int,
    size: int,
    seconds: float,
    settings: ClientSettings,
) -> dict[str, Any]:
    errors = _Errors()
    conf = settings.consumer(broker.bootstrap)
    conf["error_cb"] = errors.error_cb
    consumer = Consumer(conf)
    try:
        expected = 0
        for p in range(partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            expected += high - low
        if expected == 0:
            raise BenchError(f"{broker.name}: {topic} is empty, nothing to consume")
        meter = CpuMeter(broker.pid)
        start = time.monotonic()
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        deadline = start + seconds
        got = 0
        # The clock starts when the first records arrive (assign, ListOffsets and the
        # first fetch round trip are start-up, not throughput); those first records are
        # not counted.
        first_at = None
        counted = 0
        consume = consumer.consume
        poll = consumer.poll
        while got < expected and time.monotonic() < deadline:
            # consume(n, timeout) blocks until n records or the timeout: take what is
            # queued, and block (briefly) only when nothing is.
            msgs = consume(10_000, 0)
            if not msgs:
                msg = poll(0.05)
                if msg is None:
                    continue
                msgs = [msg]
            good = 0
            for m in msgs:
                if m.error() is None:
                    good += 1
                elif len(errors.messages) < 20:
                    errors.messages.append(str(m.error()))
            got += good
            if first_at is None:
                first_at = time.monotonic()
            else:
                counted += good
        end = time.monotonic()
        elapsed = end - (first_at or start)
        cpu = meter.result()
    finally:
        with contextlib.suppress(Exception):
            consumer.close()
    broker.check_alive()
    return {
        "records": got,
        "expected": expected,
        "bytes": got * size,
        "seconds": round(elapsed, 3),
        "startup_s": round((first_at or end) - start, 3),
        "records_per_s": round(counted / elapsed) if elapsed > 0 else 0,
        "mb_per_s": round(counted * size / elapsed / MB, 2) if elapsed > 0 else 0.0,
        "complete": got >= expected,
        "errors": errors.messages[:5],
        **cpu,
    }


# ---------------------------------------------------------------- latency


def _reader(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def latency(
    broker: Broker,
    topic: str,
    *,
    partitions: int,
    size: int,
    rate_mb: float,
    seconds: float,
    warmup: float,
    settings: ClientSettings,
    out_dir: Path,
) -> dict[str, Any]:
    """Produce ``rate_mb`` MB/s of ``size``-byte records for ``seconds``; the consumer
    process reports percentiles of (receive time - producer stamp), skipping records
    stamped in the first ``warmup`` seconds."""
    if size < 8:
        raise BenchError("latency records need at least 8 bytes for the timestamp")
    consumer_timeout = seconds + 60
    cmd = [
        sys.executable,
        "-m",
        "bench.latency_consumer",
        json.dumps(
            {
                "config": settings.consumer(broker.bootstrap),
                "topic": topic,
                "partitions": partitions,
                "warmup": warmup,
                "deadline": consumer_timeout,
            }
        ),
    ]
    err_path = out_dir / f"latency-consumer-{broker.name}-{topic}.log"
    with err_path.open("wb") as err_file:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=err_file,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    try:
        try:
            first = lines.get(timeout=30)
        except queue.Empty:
            first = None
        if first is None or first.strip() != "READY":
            raise BenchError(
                f"latency consumer did not start ({first!r}); see {err_path}:\n"
                + err_path.read_text(errors="replace")[-2000:]
            )
        produced = _paced_produce(
            broker,
            topic,
            partitions=partitions,
            size=size,
            rate_mb=rate_mb,
            seconds=seconds,
            settings=settings,
        )
        result_line = None
        deadline = time.monotonic() + consumer_timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if line.startswith("{"):
                result_line = line
                break
        if result_line is None:
            raise BenchError(
                f"latency consumer gave no result; see {err_path}:\n"
                + err_path.read_text(errors="replace")[-2000:]
            )
        consumed = json.loads(result_line)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    broker.check_alive()
    return {**produced, **consumed, "target_mb_per_s": rate_mb}


def _paced_produce(
    broker: Broker,
    topic: str,
    *,
    partitions: int,
    size: int,
    rate_mb: float,
    seconds: float,
    settings: ClientSettings,
    flush_timeout: float = 60.0,
) -> dict[str, Any]:
    errors = _Errors()
    conf = settings.producer(broker.bootstrap, linger_ms=settings.latency_linger_ms)
    conf.update(
        {
            "delivery.report.only.error": True,
            "on_delivery": errors.on_delivery,
            "error_cb": errors.error_cb,
        }
    )
    producer = Producer(conf)
    pad = os.urandom(size - 8)
    rate = rate_mb * MB / size  # records per second
    produce = producer.produce
    time_ns = time.time_ns
    sent = 0
    blocked = 0  # records that waited for local queue space: the broker fell behind
    meter = CpuMeter(broker.pid)
    start = time.monotonic()
    stop_at = start + seconds
    hard_deadline = stop_at + flush_timeout
    while True:
        now = time.monotonic()
        if now >= stop_at:
            break
        due = int((now - start) * rate) - sent
        if due <= 0:
            producer.poll(0)
            time.sleep(0.0005)
            continue
        for _ in range(min(due, 5000)):
            try:
                produce(topic, time_ns().to_bytes(8, "big") + pad)
            except BufferError:
                blocked += 1
                if not _produce_one(
                    producer, topic, time_ns().to_bytes(8, "big") + pad, hard_deadline
                ):
                    break
            sent += 1
        producer.poll(0)
    produce_elapsed = time.monotonic() - start
    # End markers (stamp 0), one per partition, tell the consumer it has seen everything.
    for p in range(partitions):
        _produce_one(producer, topic, bytes(8), hard_deadline, partition=p)
    remaining = producer.flush(max(1.0, hard_deadline - time.monotonic()))
    cpu = meter.result()
    return {
        "produced": sent,
        "produced_mb_per_s": round(sent * size / produce_elapsed / MB, 2),
        "producer_blocked": blocked,
        "undelivered": remaining + errors.failed,
        "errors": errors.messages[:5],
        **cpu,
    }


# ---------------------------------------------------------------- memory


def memory(
    broker: Broker,
    topic: str,
    *,
    total_bytes: int,
    size: int,
    timeout: float,
    settings: ClientSettings,
    interval: float = 0.5,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Produce ``total_bytes`` (or until ``timeout``) while sampling the broker's RSS."""
    errors = _Errors()
    conf = settings.producer(broker.bootstrap)
    conf.update(
        {
            "delivery.report.only.error": True,
            "on_delivery": errors.on_delivery,
            "error_cb": errors.error_cb,
            # A small local queue keeps the client's "written" close to what the broker
            # has acknowledged, so the RSS table lines up with the bytes on the broker.
            "queue.buffering.max.kbytes": 65_536,
        }
    )
    producer = Producer(conf)
    value = os.urandom(size)
    target = max(1, total_bytes // size)
    sent = 0
    written: list[tuple[float, int]] = []  # (monotonic, acknowledged-or-in-flight bytes)
    sampler = RssSampler(broker.pid, interval=interval).start()
    time.sleep(2 * interval)  # an idle baseline
    meter = CpuMeter(broker.pid)
    start = time.monotonic()
    stop_at = start + timeout
    last_mark = start
    last_report = start
    produce = producer.produce
    while sent < target and time.monotonic() < stop_at:
        for _ in range(min(2000, target - sent)):
            try:
                produce(topic, value)
            except BufferError:
                producer.poll(0.001)
                if not _produce_one(producer, topic, value, stop_at):
                    break
            sent += 1
        producer.poll(0)
        now = time.monotonic()
        if now - last_mark >= interval:
            written.append((now, (sent - len(producer)) * size))
            last_mark = now
            broker.check_alive()
        if progress is not None and now - last_report >= 15:
            progress(f"  memory: {(sent - len(producer)) * size / 1e9:.2f} GB written")
            last_report = now
    remaining = producer.flush(max(1.0, stop_at + 60 - time.monotonic()))
    end_write = time.monotonic()
    written.append((end_write, (sent - remaining) * size))
    cpu = meter.result()
    time.sleep(3 * interval)  # let RSS settle after the last write
    samples = sampler.stop()
    broker.check_alive()
    delivered = sent - remaining - errors.failed
    elapsed = end_write - start

    def written_at(t: float) -> int:
        best = 0
        for wt, wb in written:
            if wt <= t:
                best = wb
        return best

    table = [
        {"t_s": round(t - start, 1), "written_mb": round(written_at(t) / MB), "rss_mb": kb / 1024}
        for t, kb in samples
    ]
    before = [kb for t, kb in samples if t < start] or [samples[0][1]]
    during = [kb for t, kb in samples if start <= t <= end_write] or before
    return {
        "bytes": delivered * size,
        "target_bytes": total_bytes,
        "seconds": round(elapsed, 1),
        "mb_per_s": round(delivered * size / elapsed / MB, 2),
        "rss_start_mb": round(before[-1] / 1024, 1),
        "rss_peak_mb": round(max(during) / 1024, 1),
        "rss_end_mb": round(samples[-1][1] / 1024, 1),
        "samples": table,
        "undelivered": remaining + errors.failed,
        "errors": errors.messages[:5],
        **cpu,
    }
