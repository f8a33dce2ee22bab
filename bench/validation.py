"""What checking every produced record costs: produce throughput with and without it.

    python bench/validation.py                 # 100 B and 1 KiB records, 3 repetitions
    python bench/validation.py --seconds 8 --repeat 5 --sizes 100,1024

Three Headwater brokers from the work tree, the same code but for the record scan
(``HEADWATER_RECORD_SCAN``, a knob for this measurement only): ``c`` (the default: the
C extension walks every record), ``python`` (the pure-Python reference scan) and
``off`` (uncompressed batches checked by header and CRC only, as before every record
was checked). Each repetition runs the same confluent-kafka produce workload
(bench/workloads.py: acks=all, linger.ms=5, no compression, one partition, topics in
Kafka's default flush mode) against the three, in a rotated order, so the machine's
load falls on all of them alike. Printed: records/s and MB/s (median and range) and the
broker's CPU seconds per GB, with the ratio of each to ``off``; then an in-process
micro-benchmark of the scan alone (ns per record) for the two implementations.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import timeit
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.brokers import REPO_ROOT, HeadwaterBroker, stop_all
from bench.workloads import ClientSettings, create_topic, delete_topic, produce_throughput

SCANS = ("c", "python", "off")


class ScanBroker(HeadwaterBroker):
    def __init__(self, scan: str, out_dir: Path, work_root: Path) -> None:
        super().__init__(
            f"headwater-scan-{scan}", out_dir, source=REPO_ROOT, work_root=work_root, durable=False
        )
        self.scan = scan

    def env(self) -> dict[str, str]:
        return {**super().env(), "HEADWATER_RECORD_SCAN": self.scan}


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def micro(sizes: list[int]) -> list[str]:
    """ns per record of the scan alone, on a ~1 MB records section."""
    from broker.protocol import record_codec, record_scan

    lines = [
        "| record size | C scan ns/record | Python scan ns/record | Python / C |",
        "|---|---|---|---|",
    ]
    for size in sizes:
        count = max(1, 1_000_000 // (size + 10))
        section = record_codec.encode_records(
            [record_codec.Record(i, 0, None, bytes(size)) for i in range(count)]
        )
        timings = {}
        for name, scanner in (("c", record_scan._c_scan), ("python", record_scan.scan_records_py)):
            runs = timeit.repeat(
                lambda s=scanner, d=section, n=count: s(d, n, False), number=5, repeat=5
            )
            timings[name] = min(runs) / 5 / count * 1e9
        lines.append(
            f"| {size} B | {timings['c']:.1f} | {timings['python']:.0f} | "
            f"{timings['python'] / timings['c']:.0f}x |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1024")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--max-mb", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    settings = ClientSettings()
    results: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="headwater-validation-") as tmp:
        work = Path(tmp)
        brokers = [ScanBroker(scan, work / "out", work) for scan in SCANS]
        try:
            for broker in brokers:
                broker.start()
            for rep in range(args.repeat):
                for size in sizes:
                    order = brokers[rep % 3 :] + brokers[: rep % 3]
                    for broker in order:
                        topic = f"validation-{size}-{rep}"
                        create_topic(broker, topic, 1)
                        result = produce_throughput(
                            broker,
                            topic,
                            size=size,
                            seconds=args.seconds,
                            max_bytes=args.max_mb * 1_000_000,
                            settings=settings,
                        )
                        results.setdefault((broker.scan, size), []).append(result)
                        delete_topic(broker, topic)
                        print(
                            f"rep {rep} {size} B {broker.scan}: {result['records_per_s']:,} rec/s "
                            f"{result['mb_per_s']} MB/s",
                            file=sys.stderr,
                        )
        finally:
            for broker in brokers:
                broker.stop()
                broker.cleanup()
            stop_all()

    print(
        f"Produce throughput, {args.repeat} repetitions of {args.seconds:.0f} s, "
        f"median (range); {settings.describe()}\n"
    )
    print("| record size | scan | records/s | MB/s | broker CPU s per GB | records/s vs off |")
    print("|---|---|---|---|---|---|")
    for size in sizes:
        base = statistics.median(r["records_per_s"] for r in results[("off", size)])
        for scan in SCANS:
            runs = results[(scan, size)]
            rates = [r["records_per_s"] for r in runs]
            mbs = [r["mb_per_s"] for r in runs]
            cpu = [
                r["broker_cpu_pct"] / 100 * r["seconds"] / max(r["bytes"], 1) * 1e9 for r in runs
            ]
            print(
                f"| {size} B | {scan} | {_summary(rates)} | {statistics.median(mbs):.1f} "
                f"({min(mbs):.1f}-{max(mbs):.1f}) | {statistics.median(cpu):.1f} | "
                f"{statistics.median(rates) / base:.2f} |"
            )
    print()
    print("\n".join(micro(sizes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
