"""Machine facts and the markdown results tables printed by ``bench/run.py``."""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import platform
from typing import Any

GOAL_P99_MS = 5.0


def machine_facts(headwater: str, tansu: str) -> dict[str, str]:
    import confluent_kafka

    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(meminfo.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = "unknown"
    with contextlib.suppress(OSError):
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "date (UTC)": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "nproc": str(os.cpu_count()),
        "CPU": model,
        "memory": mem,
        "kernel": platform.release(),
        "Python": platform.python_version(),
        "Headwater": headwater,
        "Tansu": tansu,
        "confluent-kafka": f"{confluent_kafka.__version__} (librdkafka "
        f"{confluent_kafka.libversion()[0]})",
        "load average at start": load,
    }


def facts_markdown(facts: dict[str, str]) -> str:
    rows = ["| fact | value |", "|---|---|"]
    rows += [f"| {k} | {v} |" for k, v in facts.items()]
    return "\n".join(rows) + "\n"


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "-"
    return f"{a / b:.2f}"


def throughput_markdown(
    results: dict[str, dict[str, Any]], keys: list[str], hw_targets: list[str], ref: str | None
) -> str:
    """One row per produce/consume workload: MB/s and records/s per target, CPU, ratios."""
    targets = list(results)
    head = ["workload"]
    for t in targets:
        head += [f"{t} MB/s", f"{t} rec/s", f"{t} CPU % broker/client"]
    if ref:
        head += [f"{t}/{ref}" for t in hw_targets]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    for key in keys:
        row = [key]
        for t in targets:
            r = results[t].get(key)
            if r is None or "error" in r:
                row += ["failed" if r else "-", "-", "-"]
                continue
            flag = "" if r.get("complete", True) and not r.get("undelivered") else "*"
            row += [
                _fmt(r["mb_per_s"]) + flag,
                f"{r['records_per_s']:,}",
                _fmt(r.get("broker_cpu_pct"), 0) + "/" + _fmt(r.get("client_cpu_pct"), 0),
            ]
        if ref:
            for t in hw_targets:
                a = results[t].get(key, {}).get("mb_per_s")
                b = results[ref].get(key, {}).get("mb_per_s")
                row.append(_ratio(a, b))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _growing(r: dict[str, Any]) -> bool:
    """Latency rose over the run: the broker fell behind the offered rate."""
    first, last = r.get("p50_first_quarter_ms"), r.get("p50_last_quarter_ms")
    if first is None or last is None or math.isnan(first) or math.isnan(last):
        return False
    return last > 2 * first and last > 50


def latency_markdown(
    results: dict[str, dict[str, Any]], keys: list[str], hw_targets: list[str], ref: str | None
) -> str:
    targets = list(results)
    head = ["workload", "target"]
    head += ["achieved MB/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "p50 1st/last quarter"]
    head += ["broker CPU %", "records"]
    if ref:
        head += ["p50 ratio", "p99 ratio"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 2)]
    for key in keys:
        for t in targets:
            r = results[t].get(key)
            if r is None:
                continue
            if "error" in r:
                lines.append(f"| {key} | {t} | failed: {r['error'][:60]} |")
                continue
            row = [
                key,
                t,
                _fmt(r.get("produced_mb_per_s"), 1) + ("*" if r.get("producer_blocked") else ""),
                _fmt(r.get("p50_ms"), 2),
                _fmt(r.get("p99_ms"), 2),
                _fmt(r.get("p999_ms"), 2),
                _fmt(r.get("max_ms"), 1),
                _fmt(r.get("p50_first_quarter_ms"), 1)
                + " / "
                + _fmt(r.get("p50_last_quarter_ms"), 1)
                + (" growing" if _growing(r) else ""),
                _fmt(r.get("broker_cpu_pct"), 0),
                f"{r.get('measured', 0):,}",
            ]
            if ref:
                if t in hw_targets and ref in results and key in results[ref]:
                    other = results[ref][key]
                    row += [
                        _ratio(r.get("p50_ms"), other.get("p50_ms")),
                        _ratio(r.get("p99_ms"), other.get("p99_ms")),
                    ]
                else:
                    row += ["", ""]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def memory_markdown(name: str, r: dict[str, Any], rows: int = 16) -> str:
    if "error" in r:
        return f"{name}: failed: {r['error']}\n"
    lines = [
        f"{name}: wrote {r['bytes'] / 1e9:.2f} GB of {r['target_bytes'] / 1e9:.2f} GB in "
        f"{r['seconds']} s ({r['mb_per_s']} MB/s, broker CPU {r['broker_cpu_pct']} %); "
        f"RSS start {r['rss_start_mb']} MB, peak {r['rss_peak_mb']} MB, "
        f"end {r['rss_end_mb']} MB.",
        "",
        "| t (s) | written (MB) | RSS (MB) |",
        "|---:|---:|---:|",
    ]
    samples = r["samples"]
    if len(samples) > rows:
        step = (len(samples) - 1) / (rows - 1)
        picked = [samples[round(i * step)] for i in range(rows)]
    else:
        picked = samples
    for s in picked:
        lines.append(f"| {s['t_s']} | {s['written_mb']:,} | {s['rss_mb']:.1f} |")
    return "\n".join(lines) + "\n"


def goals_markdown(
    results: dict[str, dict[str, Any]],
    throughput_keys: list[str],
    latency_50_key: str | None,
    hw: str | None,
    ref: str | None,
    memory: dict[str, Any] | None,
) -> str:
    """The issue's goals next to the measurements (text only; nothing is asserted)."""
    out = []
    met, total, worst = 0, 0, None
    if hw and ref and hw in results and ref in results:
        for key in throughput_keys:
            a = results[hw].get(key, {}).get("mb_per_s")
            b = results[ref].get(key, {}).get("mb_per_s")
            if a and b:
                total += 1
                met += a >= b
                if worst is None or a / b < worst[1]:
                    worst = (key, a / b)
        worst_text = f"; lowest ratio {worst[1]:.2f} ({worst[0]})" if worst else ""
    if hw and ref and total:
        out.append(
            f"- {hw} at or above {ref} on every throughput figure: "
            f"{met} of {total} figures{worst_text}."
        )
    if hw and latency_50_key and latency_50_key in results.get(hw, {}):
        r = results[hw][latency_50_key]
        if "error" not in r:
            verdict = "met" if r["p99_ms"] <= GOAL_P99_MS else "not met"
            out.append(
                f"- p99 end-to-end <= {GOAL_P99_MS:g} ms at 50 MB/s ({hw}): "
                f"p99 {r['p99_ms']} ms at {r['produced_mb_per_s']} MB/s achieved: {verdict}."
            )
    if memory and "error" not in memory:
        growth = memory["rss_peak_mb"] - memory["rss_start_mb"]
        out.append(
            f"- broker memory flat while writing {memory['target_bytes'] / 1e9:g} GB "
            f"(goal: 5 GB): RSS {memory['rss_start_mb']} -> peak {memory['rss_peak_mb']} "
            f"-> end {memory['rss_end_mb']} MB (peak - start = {growth:.1f} MB) over "
            f"{memory['bytes'] / 1e9:.2f} GB written."
        )
    return "\n".join(out) + "\n"
