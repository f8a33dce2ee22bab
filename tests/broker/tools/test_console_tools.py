"""``headwater produce`` / ``headwater consume`` (the console producer and consumer)."""

from __future__ import annotations

import datetime
import signal
import subprocess
import time
from collections import defaultdict

import pytest

from tests.broker.tools.conftest import Headwater, headwater_command


def _create(headwater: Headwater, topic: str, partitions: int, *configs: str) -> None:
    args = [f"--config={c}" for c in configs]
    headwater.ok("topics", "--create", "--topic", topic, "--partitions", str(partitions), *args)


def test_keys_and_headers_round_trip(headwater: Headwater, topic: str) -> None:
    _create(headwater, topic, 3)
    lines = [f"key-{i % 5}:value {i}" for i in range(30)]
    headwater.ok(
        "produce",
        "--topic",
        topic,
        "--property",
        "parse.key=true",
        "--property",
        "key.separator=:",
        "--header",
        "source=test",
        "--header",
        "empty=",
        "--acks",
        "all",
        "--compression-type",
        "gzip",
        stdin="".join(f"{line}\n" for line in lines).encode(),
    )
    out = headwater.ok(
        "consume",
        "--topic",
        topic,
        "--from-beginning",
        "--max-messages",
        "30",
        "--print-partition",
        "--print-offset",
        "--print-headers",
        "--print-key",
    )
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) == 30
    offsets: dict[str, list[int]] = defaultdict(list)
    partition_of_key: dict[str, str] = {}
    for partition, offset, headers, key, _value in rows:
        assert headers == "source:test,empty:"
        offsets[partition].append(int(offset.removeprefix("Offset:")))
        assert partition_of_key.setdefault(key, partition) == partition  # keys hash stably
    assert sorted(f"{key}:{value}" for *_, key, value in rows) == sorted(lines)
    assert all(o == list(range(len(o))) for o in offsets.values())
    assert set(offsets) <= {"Partition:0", "Partition:1", "Partition:2"}


def test_kafka_property_style_formatting(headwater: Headwater, topic: str) -> None:
    _create(headwater, topic, 1)
    headwater.ok(
        "produce",
        "--topic",
        topic,
        "--property",
        "parse.headers=true",
        "--property",
        "parse.key=true",
        "--property",
        "null.marker=NULL",
        stdin=b"h1:a,h2:b\tk1\tv1\n\tNULL\tv2\nh3:c\tk3\tNULL\n",
    )
    out = headwater.ok(
        "consume",
        "--topic",
        topic,
        "--from-beginning",
        "--max-messages",
        "3",
        "--property",
        "print.key=true",
        "--property",
        "print.headers=true",
        "--property",
        "print.timestamp=true",
        "--property",
        "key.separator= | ",
        "--property",
        "null.literal=<null>",
    )
    stamps, rest = zip(*(line.split(" | ", 1) for line in out.splitlines()), strict=True)
    assert all(s.startswith("CreateTime:") and s[11:].isdigit() for s in stamps)
    assert list(rest) == ["h1:a,h2:b | k1 | v1", "NO_HEADERS | <null> | v2", "h3:c | k3 | <null>"]


def test_consume_from_offset_of_one_partition(headwater: Headwater, topic: str) -> None:
    _create(headwater, topic, 2)
    headwater.ok(
        "produce",
        "--topic",
        topic,
        "--property",
        "parse.key=true",
        stdin=b"".join(b"same-key\tv%d\n" % i for i in range(6)),
    )
    both = headwater.ok(
        "consume", "--topic", topic, "--from-beginning", "--max-messages", "6", "--print-partition"
    )
    partition = both.split("\t", 1)[0].removeprefix("Partition:")
    out = headwater.ok(
        "consume",
        "--topic",
        topic,
        "--partition",
        partition,
        "--offset",
        "4",
        "--print-offset",
        "--max-messages",
        "2",
    )
    assert out.splitlines() == ["Offset:4\tv4", "Offset:5\tv5"]


def test_consume_from_timestamp(headwater: Headwater, topic: str) -> None:
    _create(headwater, topic, 2)
    headwater.ok("produce", "--topic", topic, stdin=b"old-1\nold-2\nold-3\n")
    time.sleep(0.05)
    since_ms = int(time.time() * 1000)
    time.sleep(0.05)
    headwater.ok("produce", "--topic", topic, stdin=b"new-1\nnew-2\n")
    as_iso = datetime.datetime.fromtimestamp(since_ms / 1000, datetime.UTC).isoformat()
    for start in (str(since_ms), as_iso):
        out = headwater.ok(
            "consume", "--topic", topic, "--from-timestamp", start, "--max-messages", "2"
        )
        assert sorted(out.split()) == ["new-1", "new-2"], start


def test_default_start_is_the_end_and_max_messages_stops(headwater: Headwater, topic: str) -> None:
    _create(headwater, topic, 1)
    headwater.ok("produce", "--topic", topic, stdin=b"before\n")
    result = headwater.run("consume", "--topic", topic, "--timeout-ms", "800")
    assert (result.returncode, result.stdout) == (0, "")
    assert "Processed a total of 0 messages" in result.stderr
    out = headwater.ok("consume", "--topic", topic, "--from-beginning", "--max-messages", "1")
    assert out == "before\n"


def test_delivery_failures_are_reported(headwater: Headwater, topic: str) -> None:
    _create(headwater, topic, 1, "max.message.bytes=200")
    big = b"x" * 1000
    stderr = headwater.fails("produce", "--topic", topic, "--sync", stdin=b"small\n" + big + b"\n")
    assert stderr.count(f"delivery to {topic} failed") == 1
    assert "too large" in stderr
    assert (
        headwater.ok("consume", "--topic", topic, "--from-beginning", "--max-messages", "1")
        == "small\n"
    )


def test_user_errors(headwater: Headwater, topic: str) -> None:
    _create(headwater, topic, 1)
    assert "no key separator found on line number 2" in headwater.fails(
        "produce", "--topic", topic, "--property", "parse.key=true", stdin=b"k\tv\nnokey\n"
    )
    assert "unknown --property 'parse.kye'" in headwater.fails(
        "produce", "--topic", topic, "--property", "parse.kye=true"
    )
    assert "--offset needs --partition" in headwater.fails(
        "consume", "--topic", topic, "--offset", "3"
    )
    assert "has no partition 7" in headwater.fails(
        "consume", "--topic", topic, "--partition", "7", "--offset", "0"
    )
    assert "neither epoch ms nor ISO 8601" in headwater.fails(
        "consume", "--topic", topic, "--from-timestamp", "yesterday"
    )
    assert "Unknown topic" in headwater.fails("consume", "--topic", f"{topic}-missing")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_the_consumer_cleanly(
    headwater: Headwater, topic: str, stop: signal.Signals
) -> None:
    _create(headwater, topic, 1)
    headwater.ok("produce", "--topic", topic, stdin=b"one\ntwo\n")
    cmd = [
        *headwater_command(),
        "consume",
        "--bootstrap-server",
        headwater.bootstrap,
        "--topic",
        topic,
        "--from-beginning",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert [proc.stdout.readline(), proc.stdout.readline()] == [b"one\n", b"two\n"]
        proc.send_signal(stop)
        _, stderr = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert stderr.decode().strip() == "Processed a total of 2 messages"
