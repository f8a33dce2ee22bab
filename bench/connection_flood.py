"""A password-guessing flood against one broker, and what it does to everyone else.

    python bench/connection_flood.py                       # before=main vs after=HEAD+limits
    python bench/connection_flood.py --rounds 5 --attempts 1000 --concurrency 20
    python bench/connection_flood.py --target before=main --target plain=HEAD \\
        --target after=HEAD:limits

The attack is the one issue 9 measured: 1,000 SCRAM-SHA-256 logins with a wrong
password, 20 at a time, each on a new connection opened as soon as the last one ended,
from 127.0.0.2 (``tests.support.sasl_flood``: raw sockets, the salted password computed
once, so the attacker's CPU goes to connections rather than PBKDF2). The attacker runs
in its own process. Meanwhile, from other addresses:

- a victim producer (confluent-kafka, ``linger.ms=0``, acks=1, one record in flight,
  from 127.0.0.1) measures each produce round trip (produce + flush);
- a correct SCRAM login from 127.0.0.3 (the same raw client, correct password) every
  50 ms measures connect-to-authenticated time.

Each broker is measured first without the attack (the baseline: the same clients, the
same seconds) and then during it, so every comparison is within one broker's run.
Targets are ``NAME=REF`` (a ``git archive`` of REF, or ``worktree``) with ``:limits``
to configure the limits the broker offers: ``max.connections.per.ip`` (``--per-ip``)
and a default ``ip`` quota ``connection_creation_rate`` (``--ip-rate``), set with
AlterClientQuotas after start. Rounds interleave the targets. Nothing asserts: it prints
a markdown table (docs/benchmarks.md quotes it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.brokers import HeadwaterBroker, free_port, headwater_source, stop_all

ATTACKER = "127.0.0.2"
LOGIN_SOURCE = "127.0.0.3"
USER, PASSWORD = "alice", "alice-secret"
TOPIC = "victim"


# ---------------------------------------------------------------- the attacker process


def attacker_main(port: int, attempts: int, concurrency: int) -> None:
    from tests.support.sasl_flood import flood

    result = asyncio.run(
        flood("127.0.0.1", port, attempts=attempts, concurrency=concurrency, source=ATTACKER)
    )
    print(json.dumps(result.summary()), flush=True)


# ---------------------------------------------------------------- the broker


class FloodBroker(HeadwaterBroker):
    """Headwater with a PLAINTEXT listener (admin, victim) and a SASL_PLAINTEXT one."""

    def __init__(self, name: str, out_dir: Path, *, source: Path, work_root: Path) -> None:
        super().__init__(name, out_dir, source=source, work_root=work_root, durable=False)
        self.sasl_port = 0

    def command(self) -> list[str]:
        self.sasl_port = free_port()
        props = {
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},"
            f"SASL_PLAINTEXT://127.0.0.1:{self.sasl_port}",
            "log.dirs": str(self.data_dir / "kafka-logs"),
            "sasl.enabled.mechanisms": "SCRAM-SHA-256",
        }
        cmd = [sys.executable, "-m", "broker"]
        for key, value in props.items():
            cmd += ["--override", f"{key}={value}"]
        return cmd


def prepare(broker: FloodBroker, *, limits: bool, per_ip: int, ip_rate: int) -> str:
    """The user, the victim topic and (``limits``) the connection limits; returns a note."""
    from confluent_kafka.admin import (
        AdminClient,
        NewTopic,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    from tests.support.quotas import alter_quotas
    from tests.support.wire import KafkaWire

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    upsert = UserScramCredentialUpsertion(
        USER, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), PASSWORD.encode()
    )
    admin.alter_user_scram_credentials([upsert])[USER].result(15)
    admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(15)
    if not limits:
        return "no limits"
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

    resource = ConfigResource(
        ConfigResource.Type.BROKER,
        "1",
        incremental_configs=[
            ConfigEntry(
                "max.connections.per.ip",
                str(per_ip),
                incremental_operation=AlterConfigOpType.SET,
            )
        ],
    )
    admin.incremental_alter_configs([resource])[resource].result(15)
    with KafkaWire("127.0.0.1", broker.port) as wire:
        result = alter_quotas(wire, {"ip": None}, {"connection_creation_rate": float(ip_rate)})
    if result.error_code:
        return f"ip quota refused: {result.error_message}"
    return f"max.connections.per.ip={per_ip}, default ip connection_creation_rate={ip_rate}"


# ---------------------------------------------------------------- the other clients


@dataclass
class Samples:
    produce_ms: list[float] = field(default_factory=list)
    login_ms: list[float] = field(default_factory=list)
    login_failures: int = 0
    produce_failures: int = 0


def produce_loop(bootstrap: str, stop: threading.Event, samples: Samples) -> None:
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": 1, "enable.idempotence": False}
    )
    while not stop.is_set():
        started = time.perf_counter()
        producer.produce(TOPIC, b"v" * 100)
        if producer.flush(10) == 0:
            samples.produce_ms.append((time.perf_counter() - started) * 1000)
        else:
            samples.produce_failures += 1


def login_loop(port: int, stop: threading.Event, samples: Samples) -> None:
    from tests.support.sasl_flood import Outcome, scram_login

    async def run() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            outcome = await scram_login(
                "127.0.0.1", port, USER, PASSWORD, source=LOGIN_SOURCE, timeout=10
            )
            if outcome is Outcome.AUTHENTICATED:
                samples.login_ms.append((time.perf_counter() - started) * 1000)
            else:
                samples.login_failures += 1
            await asyncio.sleep(0.05)

    asyncio.run(run())


def measure(
    broker: FloodBroker, seconds: float | None, attack: list[str] | None
) -> tuple[Samples, Any]:
    """The victim's samples over ``seconds`` (baseline) or while ``attack`` runs."""
    samples = Samples()
    stop = threading.Event()
    threads = [
        threading.Thread(target=produce_loop, args=(broker.bootstrap, stop, samples)),
        threading.Thread(target=login_loop, args=(broker.sasl_port, stop, samples)),
    ]
    for thread in threads:
        thread.start()
    summary: Any = None
    try:
        if attack is None:
            time.sleep(seconds or 0)
        else:
            proc = subprocess.run(attack, capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(f"the attacker failed:\n{proc.stderr}")
            summary = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    return samples, summary


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def figures(samples: Samples) -> dict[str, float]:
    return {
        "produce_p50": percentile(samples.produce_ms, 0.5),
        "produce_p99": percentile(samples.produce_ms, 0.99),
        "produce_n": len(samples.produce_ms),
        "produce_failed": samples.produce_failures,
        "login_p50": percentile(samples.login_ms, 0.5),
        "login_p99": percentile(samples.login_ms, 0.99),
        "login_n": len(samples.login_ms),
        "login_failed": samples.login_failures,
    }


# ---------------------------------------------------------------- main


@dataclass(frozen=True)
class Target:
    name: str
    ref: str
    limits: bool


def parse_target(text: str) -> Target:
    name, sep, rest = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=REF[:limits]")
    ref, _, option = rest.partition(":")
    return Target(name, ref, option == "limits")


def run_once(
    target: Target, source: Path, out_dir: Path, work_root: Path, args: argparse.Namespace
) -> dict[str, Any]:
    broker = FloodBroker(
        f"{target.name}-{uuid.uuid4().hex[:6]}", out_dir, source=source, work_root=work_root
    )
    with broker:
        note = prepare(broker, limits=target.limits, per_ip=args.per_ip, ip_rate=args.ip_rate)
        measure(broker, 1.0, None)  # warm-up: connections made, code paths hot
        baseline, _ = measure(broker, args.baseline_seconds, None)
        attacker = [
            sys.executable, str(Path(__file__).resolve()), "--attacker", str(broker.sasl_port),
            "--attempts", str(args.attempts), "--concurrency", str(args.concurrency),
        ]  # fmt: skip
        attacked, summary = measure(broker, None, attacker)
        broker.check_alive()
    return {
        "target": target.name,
        "note": note,
        "baseline": figures(baseline),
        "attack": figures(attacked),
        "attacker": summary,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| target | round | produce p50 base → attack (ms) | produce p99 base → attack (ms) "
        "| login p50 base → attack (ms) | login p99 base → attack (ms) | attack: rate/s, "
        "reached the password check / closed unanswered | limits |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        b, a, s = result["baseline"], result["attack"], result["attacker"]
        lines.append(
            f"| {result['target']} | {result['round']} "
            f"| {b['produce_p50']:.2f} → {a['produce_p50']:.2f} "
            f"| {b['produce_p99']:.2f} → {a['produce_p99']:.2f} "
            f"| {b['login_p50']:.2f} → {a['login_p50']:.2f} "
            f"| {b['login_p99']:.2f} → {a['login_p99']:.2f} "
            f"| {s['rate']:.0f}, {s['failed']} / {s['closed'] + s['timeout']} "
            f"| {result['note']} |"
        )
    return "\n".join(lines)


def medians(results: list[dict[str, Any]]) -> str:
    lines = [
        "| target | produce p50 during attack / baseline | produce p99 during / baseline "
        "| login p50 during / baseline | attack rate/s |",
        "|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["target"] for r in results):
        runs = [r for r in results if r["target"] == name]

        def ratio(key: str, runs: list[dict[str, Any]] = runs) -> str:
            values = [r["attack"][key] / r["baseline"][key] for r in runs]
            return f"{statistics.median(values):.2f}x ({min(values):.2f}-{max(values):.2f})"

        rates = [r["attacker"]["rate"] for r in runs]
        lines.append(
            f"| {name} | {ratio('produce_p50')} | {ratio('produce_p99')} "
            f"| {ratio('login_p50')} | {statistics.median(rates):.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", action="append", type=parse_target, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--baseline-seconds", type=float, default=3.0)
    parser.add_argument("--per-ip", type=int, default=20, help="max.connections.per.ip")
    parser.add_argument(
        "--ip-rate", type=int, default=10, help="default ip connection_creation_rate"
    )
    parser.add_argument("--attacker", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attacker:
        attacker_main(args.attacker, args.attempts, args.concurrency)
        return 0
    targets = args.target or [Target("before", "main", False), Target("after", "HEAD", True)]
    work_root = Path(tempfile.mkdtemp(prefix="connection-flood-"))
    out_dir = work_root / "logs"
    try:
        sources = {}
        for target in targets:
            if target.ref == "worktree":
                sources[target.name] = headwater_source(None, work_root)
            else:
                sources[target.name] = headwater_source(target.ref, work_root)
        print(f"load before: {os.getloadavg()}", file=sys.stderr)
        results = []
        for round_number in range(1, args.rounds + 1):
            order = targets if round_number % 2 else list(reversed(targets))
            for target in order:
                source, description = sources[target.name]
                result = run_once(target, source, out_dir, work_root, args)
                result["round"] = round_number
                result["version"] = description
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
        print(f"load after: {os.getloadavg()}", file=sys.stderr)
        for name, (_, description) in sources.items():
            print(f"- {name}: {description}")
        print()
        print(table(results))
        print()
        print(medians(results))
    finally:
        stop_all()
        shutil.rmtree(work_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
