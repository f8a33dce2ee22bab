"""``headwater perf produce|consume``: kafka-producer-perf-test / kafka-consumer-perf-test.

``perf produce`` sends ``--num-records`` records of ``--record-size`` random uppercase
bytes (one payload, as Kafka's tool does), at most ``--throughput`` records/s (``-1``:
as fast as possible). Latency is the delivery callback's time minus the send time.
Every ``--reporting-interval`` ms (5000) it prints, in Kafka's words::

    N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency.

and at the end the same totals plus the 50th, 95th, 99th and 99.9th percentiles. Like
Kafka it keeps at most ~500000 latency samples (every k-th record) for percentiles.

``perf consume`` reads ``--messages`` records from the beginning of every partition
(or as group ``--group``), prints progress every interval and Kafka's summary table.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import random
import string
import sys
import time
from pathlib import Path
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from broker.tools.client_config import (
    ClientErrors,
    ToolError,
    add_bootstrap_arg,
    client_config,
    describe_error,
    make_client,
)

NAME = "perf"
MB = 1024 * 1024
MAX_SAMPLES = 500_000


def add_parser(commands: Any) -> None:
    perf = commands.add_parser(NAME, help="producer/consumer performance tests (kafka-*-perf-test)")
    modes = perf.add_subparsers(dest="perf_mode", required=True)

    produce = modes.add_parser("produce", help="kafka-producer-perf-test.sh")
    add_bootstrap_arg(produce)
    produce.add_argument("--topic", required=True)
    produce.add_argument("--num-records", type=int, required=True)
    produce.add_argument("--record-size", type=int, required=True, help="bytes per record")
    produce.add_argument("--throughput", type=float, default=-1, help="max records/s; -1: no cap")
    produce.add_argument("--producer-props", nargs="+", default=[], metavar="KEY=VALUE")
    produce.add_argument("--producer.config", dest="client_config_file", type=Path, metavar="FILE")
    produce.add_argument("--reporting-interval", type=int, default=5000, metavar="MS")
    produce.set_defaults(tool_main=run_produce, tool_name="perf produce")

    consume = modes.add_parser("consume", help="kafka-consumer-perf-test.sh")
    add_bootstrap_arg(consume)
    consume.add_argument("--topic", required=True)
    consume.add_argument("--messages", type=int, required=True, help="records to consume")
    consume.add_argument("--group", help="consume as this group (subscribe); default: assign")
    consume.add_argument("--consumer.config", dest="client_config_file", type=Path, metavar="FILE")
    consume.add_argument(
        "--consumer-property",
        dest="client_properties",
        action="append",
        default=[],
        metavar="KEY=VALUE",
    )
    consume.add_argument(
        "--timeout",
        type=int,
        default=10000,
        metavar="MS",
        help="give up when no record arrives for this long",
    )
    consume.add_argument("--reporting-interval", type=int, default=5000, metavar="MS")
    consume.add_argument("--hide-header", action="store_true")
    consume.set_defaults(tool_main=run_consume, tool_name="perf consume")


class ProduceStats:
    """Kafka's ProducerPerformance.Stats: totals, a reporting window, latency samples."""

    def __init__(self, num_records: int, reporting_interval_ms: int) -> None:
        self.start = self.window_start = time.perf_counter()
        self.interval = reporting_interval_ms / 1000
        self.sampling = max(1, num_records // MAX_SAMPLES)
        self.samples: list[float] = []
        self.iteration = self.count = self.bytes = 0
        self.total_latency = self.max_latency = 0.0
        self.window_count = self.window_bytes = 0
        self.window_total = self.window_max = 0.0
        self.errors = 0

    def record(self, latency_ms: float, size: int, now: float) -> None:
        self.count += 1
        self.bytes += size
        self.total_latency += latency_ms
        self.max_latency = max(self.max_latency, latency_ms)
        self.window_count += 1
        self.window_bytes += size
        self.window_total += latency_ms
        self.window_max = max(self.window_max, latency_ms)
        if self.iteration % self.sampling == 0:
            self.samples.append(latency_ms)
        self.iteration += 1
        if now - self.window_start >= self.interval:
            self.print_window(now)

    def print_window(self, now: float) -> None:
        elapsed = max(now - self.window_start, 1e-9)
        print(
            f"{self.window_count} records sent, {self.window_count / elapsed:.1f} records/sec "
            f"({self.window_bytes / elapsed / MB:.2f} MB/sec), "
            f"{self.window_total / max(self.window_count, 1):.1f} ms avg latency, "
            f"{self.window_max:.1f} ms max latency.",
            flush=True,
        )
        self.window_start = now
        self.window_count = self.window_bytes = 0
        self.window_total = self.window_max = 0.0

    def print_total(self) -> None:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        ordered = sorted(self.samples)

        def percentile(p: float) -> int:
            return int(ordered[min(int(len(ordered) * p), len(ordered) - 1)]) if ordered else 0

        print(
            f"{self.count} records sent, {self.count / elapsed:f} records/sec "
            f"({self.bytes / elapsed / MB:.2f} MB/sec), "
            f"{self.total_latency / max(self.count, 1):.2f} ms avg latency, "
            f"{self.max_latency:.2f} ms max latency, {percentile(0.5)} ms 50th, "
            f"{percentile(0.95)} ms 95th, {percentile(0.99)} ms 99th, "
            f"{percentile(0.999)} ms 99.9th.",
            flush=True,
        )

    def delivered(self, sent_at: float, error: KafkaError | None, message: Message) -> None:
        now = time.perf_counter()
        if error is not None:
            self.errors += 1
            if self.errors <= 10:
                print(f"headwater perf produce: error: {error.str()}", file=sys.stderr)
            return
        self.record((now - sent_at) * 1000, len(message), now)


def run_produce(args: argparse.Namespace) -> int:
    if args.num_records < 0 or args.record_size < 0:
        raise ToolError("--num-records and --record-size must not be negative")
    if args.throughput == 0:
        raise ToolError("--throughput must be positive, or -1 for no limit")
    props: list[str] = args.producer_props
    args.client_properties = props
    errors = ClientErrors()
    producer: Producer = make_client(Producer, client_config(args, errors))
    payload = "".join(random.choices(string.ascii_uppercase, k=args.record_size)).encode()
    stats = ProduceStats(args.num_records, args.reporting_interval)
    callback = stats.delivered
    throttled = args.throughput > 0
    for i in range(args.num_records):
        sent_at = time.perf_counter()
        if throttled:
            due = stats.start + i / args.throughput
            if sent_at < due:
                producer.poll(due - sent_at)  # wait, serving delivery callbacks meanwhile
                sent_at = time.perf_counter()
        while True:
            try:
                producer.produce(
                    args.topic, payload, on_delivery=functools.partial(callback, sent_at)
                )
                break
            except BufferError:  # local queue full
                producer.poll(0.01)
            except KafkaException as exc:
                raise ToolError(f"cannot send: {describe_error(exc)}") from exc
        producer.poll(0)
    remaining = producer.flush(600)
    stats.print_total()
    if remaining or stats.errors:
        failed = stats.errors + remaining
        raise ToolError(f"{failed} of {args.num_records} records not delivered{errors.hint()}")
    return 0


def run_consume(args: argparse.Namespace) -> int:
    errors = ClientErrors()
    config = client_config(
        args,
        errors,
        **{
            "group.id": args.group or "headwater-perf-consumer",
            "enable.auto.commit": bool(args.group),
            "auto.offset.reset": "earliest",
            "allow.auto.create.topics": False,
        },
    )
    consumer: Consumer = make_client(Consumer, config)
    try:
        return _consume(consumer, args, errors)
    finally:
        consumer.close()


def _consume(consumer: Consumer, args: argparse.Namespace, errors: ClientErrors) -> int:
    start_wall = datetime.datetime.now()
    start = time.perf_counter()
    if args.group:
        consumer.subscribe([args.topic])
    else:
        try:
            topic = consumer.list_topics(args.topic, timeout=30).topics.get(args.topic)
        except KafkaException as exc:
            raise ToolError(f"cannot read metadata: {describe_error(exc)}{errors.hint()}") from exc
        if topic is None or topic.error is not None:
            raise ToolError(f"topic {args.topic}: {topic.error.str() if topic else 'unknown'}")
        consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in topic.partitions])
    count = size = window_count = window_size = 0
    interval = args.reporting_interval / 1000
    last_record = window_start = time.perf_counter()
    while count < args.messages:
        batch = consumer.consume(min(500, args.messages - count), 0.2)
        now = time.perf_counter()
        for message in batch:
            error = message.error()
            if error is not None:
                if error.fatal() or not error.retriable():
                    raise ToolError(f"{error.str()}{errors.hint()}")
                continue
            count += 1
            window_count += 1
            n = len(message.value() or b"") + len(message.key() or b"")
            size += n
            window_size += n
        if batch:
            last_record = now
        elif (now - last_record) * 1000 >= args.timeout:
            print(
                f"WARNING: Exiting before consuming the expected number of messages: timeout "
                f"({args.timeout} ms) exceeded. You can use the --timeout option to increase "
                f"the timeout.",
                file=sys.stderr,
            )
            break
        if now - window_start >= interval:
            elapsed = now - window_start
            print(
                f"{window_count} records consumed, {window_count / elapsed:.1f} records/sec "
                f"({window_size / elapsed / MB:.2f} MB/sec).",
                flush=True,
            )
            window_start, window_count, window_size = now, 0, 0
    elapsed = max(time.perf_counter() - start, 1e-9)
    end_wall = datetime.datetime.now()
    if not args.hide_header:
        print(
            "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, "
            "nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
        )
    megabytes = size / MB
    print(
        f"{_kafka_time(start_wall)}, {_kafka_time(end_wall)}, {megabytes:.4f}, "
        f"{megabytes / elapsed:.4f}, {count}, {count / elapsed:.4f}, 0, "
        f"{elapsed * 1000:.0f}, {megabytes / elapsed:.4f}, {count / elapsed:.4f}",
        flush=True,
    )
    return 0 if count >= args.messages else 1


def _kafka_time(moment: datetime.datetime) -> str:
    """Kafka's ``yyyy-MM-dd HH:mm:ss:SSS``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S:") + f"{moment.microsecond // 1000:03d}"
