"""``headwater perf produce|consume`` (kafka-producer/consumer-perf-test)."""

from __future__ import annotations

import re

from tests.broker.tools.conftest import Headwater

NUMBER = r"\d+(?:\.\d+)?"
PROGRESS = re.compile(
    rf"(\d+) records sent, ({NUMBER}) records/sec \(({NUMBER}) MB/sec\), ({NUMBER}) ms avg "
    rf"latency, ({NUMBER}) ms max latency\."
)
SUMMARY = re.compile(
    rf"(\d+) records sent, ({NUMBER}) records/sec \(({NUMBER}) MB/sec\), ({NUMBER}) ms avg "
    rf"latency, ({NUMBER}) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, "
    rf"(\d+) ms 99\.9th\."
)


def test_produce_reports_progress_and_percentiles_then_consume_reads_all(
    headwater: Headwater, topic: str
) -> None:
    headwater.ok("topics", "--create", "--topic", topic, "--partitions", "3")
    out = headwater.ok(
        "perf produce",
        "--topic",
        topic,
        "--num-records",
        "20000",
        "--record-size",
        "100",
        "--throughput",
        "20000",
        "--reporting-interval",
        "200",
        "--producer-props",
        "acks=all",
        "linger.ms=5",
    )
    *progress, summary = out.splitlines()
    assert len(progress) >= 2, out  # ~1 s of sending, a line every 0.2 s
    for line in progress:
        assert PROGRESS.fullmatch(line), line
    match = SUMMARY.fullmatch(summary)
    assert match, summary
    count, rate, mb_rate, avg, peak, p50, p95, p99, p999 = map(float, match.groups())
    assert count == 20000
    assert rate <= 20000 * 1.1  # --throughput caps it
    assert abs(mb_rate - rate * 100 / 1024 / 1024) < 0.02
    assert int(p50) <= int(p95) <= int(p99) <= int(p999) <= peak and avg <= peak
    assert sum(int(PROGRESS.fullmatch(line)[1]) for line in progress) <= 20000  # type: ignore[index]

    header, row = headwater.ok(
        "perf consume", "--topic", topic, "--messages", "20000", "--reporting-interval", "100000"
    ).splitlines()
    assert header.startswith("start.time, end.time, data.consumed.in.MB, MB.sec, ")
    fields = row.split(", ")
    assert fields[4] == "20000"
    assert float(fields[2]) == round(20000 * 100 / 1024 / 1024, 4)


def test_unthrottled_run_and_consume_timeout(headwater: Headwater, topic: str) -> None:
    out = headwater.ok(
        "perf produce",
        "--topic",
        topic,
        "--num-records",
        "500",
        "--record-size",
        "10",
        "--throughput",
        "-1",
    )
    assert SUMMARY.fullmatch(out.strip()), out
    result = headwater.run(
        "perf consume", "--topic", topic, "--messages", "501", "--timeout", "500", "--hide-header"
    )
    assert result.returncode == 1
    assert "WARNING: Exiting before consuming the expected number of messages" in result.stderr
    assert result.stdout.split(", ")[4] == "500"


def test_user_errors(headwater: Headwater, topic: str) -> None:
    assert "--throughput must be positive" in headwater.fails(
        "perf produce",
        "--topic",
        topic,
        "--num-records",
        "1",
        "--record-size",
        "1",
        "--throughput",
        "0",
    )
    assert "No such configuration property" in headwater.fails(
        "perf produce",
        "--topic",
        topic,
        "--num-records",
        "1",
        "--record-size",
        "1",
        "--producer-props",
        "key.serializer=org.apache.kafka.StringSerializer",
    )
    assert "Unknown topic" in headwater.fails(
        "perf consume", "--topic", f"{topic}-missing", "--messages", "1"
    )
