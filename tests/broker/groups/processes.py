"""Consumer applications in their own processes, followed through their event files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.net import wait_until

SCRIPT = Path(__file__).with_name("consumer_process.py")


@dataclass
class ConsumerProcess:
    """``consumer_process.py`` as a subprocess: start it, read what it did, stop or kill it."""

    name: str
    events_path: Path
    args: list[str]
    proc: subprocess.Popen[bytes] | None = None
    _offset: int = 0
    _events: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(
        cls, tmp: Path, name: str, bootstrap: str, topic: str, group: str, *extra: str
    ) -> ConsumerProcess:
        events = tmp / f"{name}.jsonl"
        args = [
            "--bootstrap", bootstrap, "--topic", topic, "--group", group,
            "--events", str(events), *extra,
        ]  # fmt: skip
        process = cls(name, events, args)
        process.launch()
        return process

    def launch(self) -> None:
        log = self.events_path.with_suffix(".log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), *self.args], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        log.close()

    # -- what it did -------------------------------------------------------------------
    def events(self) -> list[dict[str, Any]]:
        if self.events_path.exists():
            with self.events_path.open() as f:
                f.seek(self._offset)
                data = f.read()
            complete = data[: data.rfind("\n") + 1]
            self._offset += len(complete.encode())
            self._events += [json.loads(line) for line in complete.splitlines()]
        return self._events

    def assignment(self) -> set[int]:
        owned: set[int] = set()
        for event in self.events():
            if event["event"] == "assigned":
                owned |= set(event["partitions"])
            elif event["event"] in ("revoked", "lost"):
                owned -= set(event["partitions"])
        return owned

    def records(self) -> list[tuple[int, int, str]]:
        return [
            (e["partition"], e["offset"], e["value"])
            for e in self.events()
            if e["event"] == "record"
        ]

    def reads(self) -> list[tuple[float, int, int]]:
        """(time, partition, offset) of every record read."""
        return [
            (e["t"], e["partition"], e["offset"]) for e in self.events() if e["event"] == "record"
        ]

    def commits(self) -> list[tuple[float, int, int]]:
        """(time, partition, next offset) of every successful commit."""
        return [
            (e["t"], int(p), o)
            for e in self.events()
            if e["event"] == "committed"
            for p, o in e["offsets"].items()
        ]

    def committed(self) -> dict[int, int]:
        """The highest offset this consumer committed per partition."""
        done: dict[int, int] = defaultdict(lambda: -1)
        for event in self.events():
            if event["event"] == "committed":
                for partition, offset in event["offsets"].items():
                    done[int(partition)] = max(done[int(partition)], offset)
        return dict(done)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events() if e["event"] == kind)

    def log(self) -> str:
        path = self.events_path.with_suffix(".log")
        return path.read_text(errors="replace") if path.exists() else ""

    # -- ending ------------------------------------------------------------------------
    def stop(self, timeout: float = 20) -> None:
        """SIGTERM: the consumer commits, leaves the group and exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not stop:\n{self.log()}") from None

    def kill(self) -> None:
        """SIGKILL: a crash, nothing committed or said to the group any more."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for_assignments(
    consumers: list[ConsumerProcess], sizes: list[int], partitions: int, timeout: float = 40
) -> list[set[int]]:
    """Until the consumers own ``sizes`` partitions (in any order) covering all of them."""

    def settled() -> list[set[int]] | None:
        owned = [c.assignment() for c in consumers]
        union = set().union(*owned)
        if sorted(len(o) for o in owned) == sorted(sizes) and union == set(range(partitions)):
            return owned
        return None

    return wait_until(settled, timeout=timeout, what=f"assignments of sizes {sizes}")
