"""Sampling profiles of the Headwater broker with py-spy, summarised as text.

py-spy attaches to the running broker by pid (``py-spy record --pid``), so the broker's
code is untouched. Output is py-spy's ``raw`` format (collapsed stacks, one line per
distinct stack: ``frame;frame;... count``), which speedscope.app and flamegraph.pl load
directly. ``--gil`` keeps only samples of the thread holding the GIL: py-spy's
idle detection does not work on this kind of machine (threads blocked in
``epoll_wait`` or ``queue.get`` were counted as running), while the GIL holder is by
definition executing Python (or C called from Python without releasing the GIL). So
percentages are of the broker's Python execution time, and samples / (rate x seconds)
is the fraction of wall time the GIL was held: near 100 % means the broker is bound
by its one Python thread; fdatasync and socket waits, which release the GIL, are not
in the samples. :func:`summarize` turns a file into
top-N tables by self time (the leaf frame) and inclusive time (any frame on the stack).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.brokers import BenchError, register, terminate

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def find_py_spy() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    if candidate.exists():
        return str(candidate)
    return shutil.which("py-spy")


class PySpy:
    """``py-spy record`` attached to ``pid`` until :meth:`stop` (SIGINT makes it write)."""

    def __init__(
        self, pid: int, output: Path, *, rate: int = 100, max_seconds: float = 600
    ) -> None:
        exe = find_py_spy()
        if exe is None:
            raise BenchError(
                "py-spy not found: install it with "
                f"`{sys.executable} -m pip install py-spy`, or skip profiling with --no-profile"
            )
        self.output = output
        self.rate = rate
        self.log = output.with_suffix(".log")
        cmd = [
            exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
            "--threads", "--gil", "--duration", str(int(max_seconds)), "--output", str(output),
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        register(self.proc)
        time.sleep(1.0)  # attaching takes a moment
        if self.proc.poll() is not None:
            raise BenchError(f"py-spy exited at once: {self.log.read_text(errors='replace')}")
        self.started = time.monotonic()
        self.seconds = 0.0

    def stop(self, timeout: float = 30.0) -> Path:
        self.seconds = time.monotonic() - self.started
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                terminate(self.proc)
        terminate(self.proc)
        if not self.output.exists():
            raise BenchError(f"py-spy wrote no profile: {self.log.read_text(errors='replace')}")
        return self.output


@dataclass
class Row:
    name: str
    samples: int
    pct: float


@dataclass
class Summary:
    total: int
    threads: list[Row]
    self_top: list[Row]
    inclusive_top: list[Row]


def _short(file: str) -> str:
    for marker in ("site-packages/", "/lib/python3."):
        if marker in file:
            tail = file.split(marker, 1)[1]
            return tail if marker == "site-packages/" else "stdlib/" + tail.split("/", 1)[-1]
    for marker in ("/broker/",):
        if marker in file:
            return "broker/" + file.rsplit(marker, 1)[1]
    return file


def _frame_name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    return f"{m.group('func')} ({_short(m.group('file'))})"


#: frames on nearly every stack (interpreter start-up, the event loop, thread plumbing):
#: left out of the inclusive table so that it shows where the time goes.
_PLUMBING = (
    "<frozen", "asyncio/", "threading.py", "concurrent/", "selectors.py",
    "broker/__main__.py", "broker/cli.py", "run_broker (",
)  # fmt: skip


def summarize(path: Path, top: int = 15) -> Summary:
    self_counts: Counter[str] = Counter()
    incl_counts: Counter[str] = Counter()
    thread_counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = "?"
        if frames and (frames[0].startswith("thread") or frames[0].startswith("process")):
            thread = frames[0]
            frames = frames[1:]
        if frames and frames[0].startswith("thread"):
            thread = frames[0]
            frames = frames[1:]
        if not frames:
            continue
        total += count
        thread_counts[thread] += count
        names = [_frame_name(f) for f in frames]
        self_counts[names[-1]] += count
        for name in set(names):
            if not any(marker in name for marker in _PLUMBING):
                incl_counts[name] += count

    def rows(counter: Counter[str], n: int) -> list[Row]:
        return [
            Row(name, c, round(100 * c / total, 1) if total else 0.0)
            for name, c in counter.most_common(n)
        ]

    return Summary(total, rows(thread_counts, 6), rows(self_counts, top), rows(incl_counts, top))


def summary_markdown(title: str, summary: Summary, possible: int | None = None) -> str:
    held = ""
    if possible:
        held = f" (GIL held ~{100 * summary.total / possible:.0f} % of the sampled wall time)"
    out = [f"#### {title}", "", f"{summary.total} samples holding the GIL{held}.", ""]
    out += ["| thread | samples | % |", "|---|---:|---:|"]
    out += [f"| `{r.name}` | {r.samples} | {r.pct} |" for r in summary.threads]
    out += ["", "Self time (leaf frame):", "", "| function | samples | % |", "|---|---:|---:|"]
    out += [f"| `{r.name}` | {r.samples} | {r.pct} |" for r in summary.self_top]
    out += ["", "Inclusive time (on the stack; event-loop plumbing left out):", ""]
    out += ["| function | samples | % |"]
    out += ["|---|---:|---:|"]
    out += [f"| `{r.name}` | {r.samples} | {r.pct} |" for r in summary.inclusive_top]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # summarise a saved profile: python -m bench.profiling FILE
    print(summary_markdown(sys.argv[1], summarize(Path(sys.argv[1]), top=25)))
