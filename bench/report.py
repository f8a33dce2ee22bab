"""Machine facts and the markdown results tables printed by ``bench/run.py``."""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import platform
import statistics
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


SUMMARY_FIELDS = ("mb_per_s", "records_per_s", "broker_cpu_pct", "client_cpu_pct")


def summarize_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, min and max of each field over a workload's repetitions (failed ones left
    out); ``runs`` keeps every repetition's raw result."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0]["error"], "repetitions": len(runs), "runs": runs}
    out: dict[str, Any] = {"repetitions": len(runs), "failed": len(runs) - len(ok)}
    for name in SUMMARY_FIELDS:
        values = [r[name] for r in ok if r.get(name) is not None]
        if values:
            out[name] = round(statistics.median(values), 2)
            out[f"{name}_min"], out[f"{name}_max"] = min(values), max(values)
    out["complete"] = all(r.get("complete", True) for r in ok)
    out["undelivered"] = sum(r.get("undelivered", 0) for r in ok)
    out["runs"] = runs
    return out


def summarize_ratios(runs: list[dict[str, Any]], ref_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """MB/s ratios computed within each repetition (None where either side failed), and
    their median, min and max."""
    per_rep = []
    for a, b in zip(runs, ref_runs, strict=False):
        x, y = a.get("mb_per_s"), b.get("mb_per_s")
        per_rep.append(round(x / y, 4) if x and y else None)
    values = [v for v in per_rep if v is not None]
    if not values:
        return {"runs": per_rep}
    return {
        "median": round(statistics.median(values), 4),
        "min": min(values),
        "max": max(values),
        "runs": per_rep,
    }


def _spread(r: dict[str, Any], name: str, digits: int, flag: str = "") -> str:
    """``median (min-max)`` of a summarized field."""
    lo, hi = r.get(f"{name}_min"), r.get(f"{name}_max")
    return f"{_fmt(r.get(name), digits)}{flag} ({_fmt(lo, digits)}-{_fmt(hi, digits)})"


def _throughput_cells(r: dict[str, Any]) -> list[str]:
    flag = "" if r.get("complete", True) and not r.get("undelivered") else "*"
    cpu = _fmt(r.get("broker_cpu_pct"), 0) + "/" + _fmt(r.get("client_cpu_pct"), 0)
    if "runs" not in r:  # a single run
        return [_fmt(r["mb_per_s"]) + flag, f"{r['records_per_s']:,}", cpu]
    failed = f", {r['failed']} of {r['repetitions']} failed" if r.get("failed") else ""
    return [_spread(r, "mb_per_s", 1, flag) + failed, _spread(r, "records_per_s", 0), cpu]


def _ratio_cell(results: dict[str, dict[str, Any]], t: str, ref: str, key: str) -> str:
    ratio = results[t].get(key, {}).get("ratio")
    if ratio is None:  # a single run
        a = results[t].get(key, {}).get("mb_per_s")
        b = results[ref].get(key, {}).get("mb_per_s")
        return _ratio(a, b)
    if "median" not in ratio:
        return "-"
    return f"{ratio['median']:.2f} ({ratio['min']:.2f}-{ratio['max']:.2f})"


def throughput_markdown(
    results: dict[str, dict[str, Any]], keys: list[str], hw_targets: list[str], ref: str | None
) -> str:
    """One row per produce/consume workload: MB/s and records/s per target, CPU, ratios.
    Repeated workloads show ``median (min-max)``, CPU medians and the median (min-max) of
    the per-repetition ratios."""
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
            row += _throughput_cells(r)
        if ref:
            row += [_ratio_cell(results, t, ref, key) for t in hw_targets]
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
    if hw and ref and hw in results and ref in results:
        line = _throughput_goal(results, throughput_keys, hw, ref)
        if line:
            out.append(line)
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


def _throughput_goal(
    results: dict[str, dict[str, Any]], keys: list[str], hw: str, ref: str
) -> str | None:
    """The throughput goal line; repeated workloads count their median per-repetition
    ratio (and say so), single runs their one ratio."""
    ratios: dict[str, float] = {}
    every_rep, repetitions = 0, 0
    for key in keys:
        summary = results[hw].get(key, {}).get("ratio")
        if summary is None:  # a single run
            a = results[hw].get(key, {}).get("mb_per_s")
            b = results[ref].get(key, {}).get("mb_per_s")
            if a and b:
                ratios[key] = a / b
        elif "median" in summary:
            ratios[key] = summary["median"]
            repetitions = max(repetitions, len(summary["runs"]))
            every_rep += summary["min"] >= 1
    if not ratios:
        return None
    met = sum(r >= 1 for r in ratios.values())
    worst = min(ratios, key=lambda k: ratios[k])
    if not repetitions:
        return (
            f"- {hw} at or above {ref} on every throughput figure: {met} of {len(ratios)} "
            f"figures; lowest ratio {ratios[worst]:.2f} ({worst})."
        )
    return (
        f"- {hw} at or above {ref} on every throughput figure, judged on the median of the "
        f"per-repetition {hw}/{ref} MB/s ratios ({repetitions} repetitions): median at or "
        f"above 1 on {met} of {len(ratios)} figures; lowest median ratio {ratios[worst]:.2f} "
        f"({worst}); "
        f"every repetition at or above 1 on {every_rep} of {len(ratios)}."
    )
