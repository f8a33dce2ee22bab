"""The consumer side of the end-to-end latency workload, run as its own process.

``python -m bench.latency_consumer '<json>'`` with keys ``config`` (librdkafka consumer
config), ``topic``, ``partitions``, ``warmup`` (s) and ``deadline`` (s). It assigns every
partition from the beginning, prints ``READY`` once its first poll returned, then for
each record computes ``time.time_ns()`` at receipt minus the big-endian ns stamp in the
first 8 value bytes. A record stamped 0 is a partition's end marker; it stops when all
partitions sent one, after ``deadline`` seconds, or after 20 s without a record. It
prints one JSON line of percentiles (ms) of the records stamped after the warmup.

Separate from the producer process so the two Python loops do not share a GIL.
"""

from __future__ import annotations

import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

IDLE_STOP_S = 20.0


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def main() -> int:
    args = json.loads(sys.argv[1])
    consumer = Consumer(args["config"])
    partitions = int(args["partitions"])
    consumer.assign([TopicPartition(args["topic"], p, OFFSET_BEGINNING) for p in range(partitions)])
    consumer.consume(1, 0.5)  # connects, fetches metadata; the topic is still empty
    print("READY", flush=True)

    warmup_ns = int(float(args["warmup"]) * 1e9)
    start = time.monotonic()
    deadline = start + float(args["deadline"])
    latencies: list[int] = []
    first_stamp = None
    ends = 0
    received = 0
    errors: list[str] = []
    last_msg = time.monotonic()
    first_recv = last_recv = None
    while ends < partitions and time.monotonic() < deadline:
        # poll() returns as soon as one record is there (consume(n, t) would wait for n
        # records or t); then take whatever else is already queued, without waiting.
        first = consumer.poll(0.2)
        msgs = [first, *consumer.consume(10_000, 0)] if first is not None else []
        now_ns = time.time_ns()
        if not msgs:
            if received and time.monotonic() - last_msg > IDLE_STOP_S:
                errors.append(f"stopped: no record for {IDLE_STOP_S:.0f} s before end markers")
                break
            continue
        last_msg = time.monotonic()
        for m in msgs:
            if m.error() is not None:
                if len(errors) < 5:
                    errors.append(str(m.error()))
                continue
            stamp = int.from_bytes(m.value()[:8], "big")
            if stamp == 0:
                ends += 1
                continue
            received += 1
            if first_stamp is None:
                first_stamp = stamp
                first_recv = now_ns
            last_recv = now_ns
            if stamp - first_stamp >= warmup_ns:
                latencies.append(now_ns - stamp)
    consumer.close()
    # A broker that cannot keep up shows as latency growing over the run: compare the
    # medians of the first and last quarter of the measured records (arrival order).
    quarter = len(latencies) // 4
    head = sorted(latencies[:quarter])
    tail = sorted(latencies[-quarter:]) if quarter else []
    latencies.sort()
    ms = 1e6
    span = ((last_recv or 0) - (first_recv or 0)) / 1e9
    print(
        json.dumps(
            {
                "received": received,
                "measured": len(latencies),
                "end_markers": ends,
                "p50_ms": round(percentile(latencies, 50) / ms, 3),
                "p99_ms": round(percentile(latencies, 99) / ms, 3),
                "p999_ms": round(percentile(latencies, 99.9) / ms, 3),
                "max_ms": round(latencies[-1] / ms, 3) if latencies else float("nan"),
                "p50_first_quarter_ms": round(percentile(head, 50) / ms, 3),
                "p50_last_quarter_ms": round(percentile(tail, 50) / ms, 3),
                "consumed_span_s": round(span, 3),
                "consumer_errors": errors,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
