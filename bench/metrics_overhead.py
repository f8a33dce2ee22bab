"""What the broker's metrics cost: produce and consume throughput, metrics on vs off.

    python bench/metrics_overhead.py                 # 3 repetitions, 100 B, 1 partition
    python bench/metrics_overhead.py --repeat 5 --sizes 100,1024 --durable

Two Headwater brokers run side by side from the same work tree, one with
``http.listeners`` set (every request counted, ``/metrics`` scraped every
``--scrape-interval`` seconds during its workloads, as Prometheus would) and one
without (the default: no counters at all). Each repetition runs produce-then-consume
on a fresh topic on both, the order alternating per repetition; the report gives each
figure's median and range and the median of the per-repetition on/off ratios, with the
machine facts: load average at start and end (/proc/loadavg) and the median fdatasync
latency of the data directory's disk. The issue's goal is a cost of at most 3 %; on a
shared machine the noise between repetitions can exceed that, and the report says so
rather than claiming the goal. Brokers bind 127.0.0.1 on free ports and are stopped by
pid on exit.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report
from bench.brokers import REPO_ROOT, HeadwaterBroker, free_port, stop_all
from bench.workloads import (
    MB,
    ClientSettings,
    consume_throughput,
    create_topic,
    delete_topic,
    produce_throughput,
)

GOAL = 0.03  # the issue: metrics cost at most 3 % of throughput


class MeteredBroker(HeadwaterBroker):
    """A Headwater broker with the HTTP metrics endpoint on a free loopback port."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http_url = f"http://127.0.0.1:{free_port()}"

    def command(self) -> list[str]:
        return [*super().command(), "--override", f"http.listeners={self.http_url}"]


class Scraper:
    """Scrapes /metrics every ``interval`` s in a thread while a workload runs."""

    def __init__(self, url: str, interval: float) -> None:
        self.url, self.interval = url, interval
        self.scrapes: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as response:
                    response.read()
            except OSError as exc:
                self.errors.append(str(exc))
                continue
            self.scrapes.append(time.perf_counter() - started)


def fdatasync_latency_ms(directory: Path, samples: int = 50) -> float:
    """Median time of a 4 KiB write + fdatasync in ``directory``."""
    path = directory / "fdatasync-probe"
    times = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(samples):
            os.write(fd, b"x" * 4096)
            started = time.perf_counter()
            os.fdatasync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return round(statistics.median(times) * 1000, 3)


def instrumentation_us(partitions: int = 1, batches: int = 4) -> dict[str, float]:
    """Microseconds the metrics add to one Produce and one Fetch request, measured in
    this process on kio entities like the broker's (a request of ``batches`` 100-record
    batches per partition): the clock reads, histogram increments, error-code walk and
    batch-header scan of :meth:`BrokerMetrics.responded`. Independent of the noise that
    moves whole-broker throughput on a shared machine."""
    from kio.schema.fetch.v12 import response as fetch
    from kio.schema.produce.v9 import request as produce
    from kio.schema.produce.v9 import response as produced

    from broker.protocol.messages import build
    from broker.server.metrics import BrokerMetrics
    from tests.support.wire import record_batch

    batch = record_batch([(None, b"v" * 100)] * 100) * batches
    request = build(
        produce.ProduceRequest,
        transactional_id=None,
        acks=-1,
        timeout=datetime.timedelta(seconds=30),
        topic_data=(
            build(
                produce.TopicProduceData,
                name="t",
                partition_data=tuple(
                    build(produce.PartitionProduceData, index=i, records=batch)
                    for i in range(partitions)
                ),
            ),
        ),
    )
    response = build(
        produced.ProduceResponse,
        throttle_time=datetime.timedelta(0),
        responses=(
            build(
                produced.TopicProduceResponse,
                name="t",
                partition_responses=tuple(
                    build(
                        produced.PartitionProduceResponse,
                        index=i,
                        error_code=0,
                        base_offset=0,
                        log_append_time=None,
                        log_start_offset=0,
                        record_errors=(),
                        error_message=None,
                    )
                    for i in range(partitions)
                ),
            ),
        ),
    )
    fetched = build(
        fetch.FetchResponse,
        throttle_time=datetime.timedelta(0),
        error_code=0,
        session_id=0,
        responses=(
            build(
                fetch.FetchableTopicResponse,
                topic="t",
                partitions=tuple(
                    build(
                        fetch.PartitionData,
                        partition_index=i,
                        error_code=0,
                        high_watermark=0,
                        last_stable_offset=0,
                        log_start_offset=0,
                        aborted_transactions=None,
                        preferred_read_replica=-1,
                        records=batch,
                    )
                    for i in range(partitions)
                ),
            ),
        ),
    )
    metrics = BrokerMetrics()
    out = {}
    for api, key, req, resp in (("produce", 0, request, response), ("fetch", 1, None, fetched)):
        n = 20000
        started = time.perf_counter()
        for _ in range(n):
            t0 = time.perf_counter()
            stats = metrics.api(key)
            stats.requests += 1
            stats.queue.observe(t0 - t0)
            t1 = time.perf_counter()
            stats.handler.observe(t1 - t0)
            metrics.responded(key, req, resp)
            stats.response.observe(time.perf_counter() - t1)
        out[api] = round((time.perf_counter() - started) / n * 1e6, 2)
    return out


def requests_served(url: str) -> dict[str, float]:
    """headwater_requests_total by API, from one scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    served = {}
    for family in text_string_to_metric_families(text):
        if family.name == "headwater_requests":
            for sample in family.samples:
                if sample.name == "headwater_requests_total":
                    served[sample.labels["api"]] = sample.value
    return served


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def summary(values: list[float]) -> str:
    if not values:
        return "failed"
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/metrics_overhead.py", description=__doc__)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seconds", type=float, default=8.0, help="per workload")
    p.add_argument("--max-mb", type=float, default=400.0, help="payload cap per produce")
    p.add_argument("--sizes", default="100", help="record value sizes, bytes")
    p.add_argument("--partitions", type=int, default=1)
    p.add_argument("--durable", action="store_true", help="topics with flush.mode=durable")
    p.add_argument("--scrape-interval", type=float, default=1.0, help="seconds")
    p.add_argument(
        "--aa",
        action="store_true",
        help="A/A control: both brokers without metrics (shows the noise between two "
        "identical brokers in this run)",
    )
    p.add_argument("--out", help="results directory [bench/results/metrics-<UTC time>]")
    args = p.parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = Path(args.out or REPO_ROOT / "bench" / "results" / f"metrics-{stamp}")
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="metrics-bench-"))
    facts = report.machine_facts("work tree", "-")
    facts.pop("Tansu", None)
    facts["fdatasync median (4 KiB, data dir)"] = f"{fdatasync_latency_ms(work)} ms"
    settings = ClientSettings()
    common = {"source": REPO_ROOT, "work_root": work, "durable": args.durable}
    brokers = {
        "off": HeadwaterBroker("metrics-off", out, **common),
        "on": (
            HeadwaterBroker("metrics-off-b", out, **common)
            if args.aa
            else MeteredBroker("metrics-on", out, **common)
        ),
    }
    results: dict[str, dict[str, list[float]]] = {}
    ratios: dict[str, list[float]] = {}
    scrape_times: list[float] = []
    rates: dict[str, list[float]] = {}
    micro = instrumentation_us(args.partitions)
    try:
        for broker in brokers.values():
            broker.start()
        for size in (int(s) for s in args.sizes.split(",")):
            for rep in range(args.repeat):
                order = ["off", "on"] if rep % 2 == 0 else ["on", "off"]
                this_rep: dict[str, dict[str, float]] = {}
                for name in order:
                    broker = brokers[name]
                    topic = f"m-{size}-{rep}-{name}"
                    create_topic(broker, topic, args.partitions)
                    url = getattr(broker, "http_url", None)
                    scraper = Scraper(url, args.scrape_interval) if url else None
                    served_before = requests_served(url) if url else {}
                    try:
                        if scraper is not None:
                            scraper.__enter__()
                        produced = produce_throughput(
                            broker,
                            topic,
                            size=size,
                            seconds=args.seconds,
                            max_bytes=int(args.max_mb * MB),
                            settings=settings,
                        )
                        consumed = consume_throughput(
                            broker,
                            topic,
                            partitions=args.partitions,
                            size=size,
                            seconds=args.seconds,
                            settings=settings,
                        )
                    finally:
                        if scraper is not None:
                            scraper.__exit__()
                            scrape_times += scraper.scrapes
                        delete_topic(broker, topic)
                    this_rep[name] = {
                        "produce": produced["mb_per_s"],
                        "consume": consumed["mb_per_s"],
                    }
                    if url:
                        served = requests_served(url)
                        for api, phase in (("produce", produced), ("fetch", consumed)):
                            grown = served.get(api, 0) - served_before.get(api, 0)
                            rates.setdefault(api, []).append(grown / max(phase["seconds"], 1e-3))
                    print(f"{size} B rep {rep + 1} metrics {name}: {this_rep[name]}", flush=True)
                for phase in ("produce", "consume"):
                    key = f"{phase} {size} B"
                    for name in ("off", "on"):
                        results.setdefault(key, {}).setdefault(name, []).append(
                            this_rep[name][phase]
                        )
                    off, on = this_rep["off"][phase], this_rep["on"][phase]
                    if off and on:
                        ratios.setdefault(key, []).append(on / off)
    finally:
        stop_all()
        for broker in brokers.values():
            broker.cleanup()
    facts["load average at end"] = loadavg()
    scrapes = (
        f"median scrape {statistics.median(scrape_times) * 1000:.1f} ms, "
        f"{len(scrape_times)} scrapes"
        if scrape_times
        else "no scrape completed"
    )
    lines = [
        report.facts_markdown(facts),
        f"Workloads: {args.seconds:g} s each, {args.partitions} partition(s), "
        f"{'flush.mode=durable, acks=all' if args.durable else 'default flush.mode, acks=all'}, "
        f"{args.repeat} repetitions, order alternating; /metrics scraped every "
        f"{args.scrape_interval:g} s on the metered broker ({scrapes}).\n",
        "| workload | metrics off MB/s | metrics on MB/s | on/off (median, range) | off spread |",
        "|---|---|---|---|---|",
    ]
    verdicts = []
    for key, by_name in results.items():
        off = by_name["off"]
        r = ratios.get(key, [])
        spread = (max(off) - min(off)) / statistics.median(off) if off else 0.0
        ratio = f"{statistics.median(r):.3f} ({min(r):.3f}-{max(r):.3f})" if r else "failed"
        lines.append(
            f"| {key} | {summary(off)} | {summary(by_name['on'])} | {ratio} | "
            f"{spread * 100:.1f} % |"
        )
        if r:
            cost = 1 - statistics.median(r)
            if spread > GOAL:
                verdicts.append(
                    f"{key}: median cost {cost * 100:.1f} %, but repetitions of the same "
                    f"broker differ by {spread * 100:.1f} %: noise exceeds the 3 % goal, "
                    "so this run cannot show it met"
                )
            else:
                met = "met" if cost <= GOAL else "NOT met"
                verdicts.append(f"{key}: median cost {cost * 100:.1f} %: 3 % goal {met}")
    if args.aa:
        verdicts.append("A/A control: the 'on' column is a second broker without metrics")
    for api, per_request in micro.items() if not args.aa else ():
        rate = statistics.median(rates[api]) if rates.get(api) else 0.0
        verdicts.append(
            f"{api}: the metrics add {per_request:.1f} us to a request (measured in-process); "
            f"at the metered broker's median {rate:,.0f} {api} requests/s that is "
            f"{per_request * rate / 1e4:.2f} % of one core"
        )
    text = "\n".join(lines) + "\n\n" + "\n".join(f"- {v}" for v in verdicts) + "\n"
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(
        json.dumps(
            {"facts": facts, "results": results, "ratios": ratios, "rates": rates, "micro": micro},
            indent=1,
        )
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
