"""Fuzz a fresh Headwater broker with schema-driven malformed frames; report what broke.

    python bench/fuzz.py                       # 100,000 frames, seed 1
    python bench/fuzz.py --frames 20000 --seed 7 --keep-log fuzz.log

Every (API, version) the broker advertises in ApiVersions gets valid requests and
mutations of them (nulls in every field, truncations at every field boundary, huge
lengths, random bytes, bad tagged fields, wrong header versions: tests/support/fuzz.py).
Meanwhile a confluent-kafka producer and consumer keep using a topic of their own.
At the end it prints the frames sent per mutation, frames per second, the broker's
RSS before, at its peak and after, the well-behaved client's result, and every
traceback or internal-error line of the broker's log, grouped by its last frame
(the code site). Exit status 1 if there was any traceback or the client failed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tests` and `broker` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.broker import BrokerProcess
from tests.support.clients import (
    confluent_consume_all,
    confluent_create_topic,
    confluent_produce,
    make_records,
)
from tests.support.fuzz import FrameFactory, FrameSender, vm_rss_kib
from tests.support.raw_wire import RawConnection, api_versions_v0

GOOD_TOPIC = "well-behaved"


def advertised(port: int) -> dict[int, range]:
    with RawConnection("127.0.0.1", port) as conn:
        response = api_versions_v0(conn)
    return {k.api_key: range(k.min_version, k.max_version + 1) for k in response.api_keys}


def tracebacks(log: str) -> Counter[str]:
    """Tracebacks by the last 'File ..., line N, in f' of each, and internal-error lines."""
    sites: Counter[str] = Counter()
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("Traceback"):
            frames = []
            for follow in lines[index + 1 :]:
                if follow.startswith("  File "):
                    frames.append(follow.strip())
                elif not follow.startswith(" "):
                    frames.append(follow.strip())
                    break
            site = frames[-2] if len(frames) >= 2 else "?"
            sites[f"{site}\n      {frames[-1] if frames else ''}"] += 1
    return sites


def well_behaved_client(bootstrap: str, rounds: int, outcome: dict[str, object]) -> None:
    """Produce and consume a fresh batch of records each round; record any failure."""
    try:
        for round_ in range(rounds):
            records = make_records(50)
            delivered = confluent_produce(bootstrap, GOOD_TOPIC, records)
            assert len(delivered) == len(records), "not every record was acknowledged"
            outcome["rounds"] = round_ + 1
        consumed = confluent_consume_all(bootstrap, GOOD_TOPIC, 1)
        outcome["consumed"] = len(consumed)
    except Exception as exc:  # reported, not raised: the fuzz run goes on
        outcome["error"] = repr(exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--client-rounds", type=int, default=20)
    parser.add_argument("--keep-log", type=Path, help="copy the broker log here")
    args = parser.parse_args(argv)
    os.environ["HEADWATER_STRICT_BUILD"] = "1"  # a None in a response names its field

    with tempfile.TemporaryDirectory(prefix="headwater-fuzz-") as tmp:
        broker = BrokerProcess(Path(tmp))
        broker.start()
        try:
            assert broker.proc is not None
            pid = broker.proc.pid
            confluent_create_topic(broker.bootstrap, GOOD_TOPIC, 1)
            rss_start = vm_rss_kib(pid)
            factory = FrameFactory(advertised(broker.port), args.seed)
            sender = FrameSender(broker.port, parallel=args.parallel)
            outcome: dict[str, object] = {}
            client = threading.Thread(
                target=well_behaved_client,
                args=(broker.bootstrap, args.client_rounds, outcome),
                daemon=True,
            )
            rss_peak = rss_start
            started = time.monotonic()
            client.start()
            chunk = 2000
            sent = 0
            while sent < args.frames:
                sender.send(factory.frames(min(chunk, args.frames - sent)))
                sent += chunk
                rss_peak = max(rss_peak, vm_rss_kib(pid))
            elapsed = time.monotonic() - started
            client.join(timeout=300)
            well_behaved_client(broker.bootstrap, 1, after := {})  # and after the fuzzing
            rss_end = vm_rss_kib(pid)
            alive = broker.alive()
        finally:
            broker.stop()
        log = broker.log()
        if args.keep_log:
            args.keep_log.write_text(log)

    stats = sender.stats
    sites = tracebacks(log)
    internal = len(re.findall(r"internal error", log))
    print(
        f"frames: {stats.frames} in {elapsed:.1f} s ({stats.frames / elapsed:,.0f}/s), "
        f"seed {args.seed}, {len(factory.targets)} (API, version) pairs"
    )
    print(
        f"connections: {stats.connections}, closed by the broker: {stats.closed_by_broker}, "
        f"responses: {stats.responses}"
    )
    print("by mutation: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.by_mutation.items())))
    print(
        f"broker RSS: {rss_start / 1024:.0f} MiB at start, {rss_peak / 1024:.0f} MiB peak "
        f"(sampled every 2,000 frames), {rss_end / 1024:.0f} MiB at the end; alive: {alive}"
    )
    print(f"well-behaved client during: {outcome}; after: {after}")
    print(
        f"tracebacks: {sum(sites.values())} from {len(sites)} code sites; "
        f"'internal error' lines: {internal}"
    )
    for site, count in sites.most_common():
        print(f"  {count:6d}  {site}")
    failed = bool(sites) or "error" in outcome or "error" in after or not alive
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
