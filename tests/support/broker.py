"""A real Headwater broker in a subprocess, started the way an operator starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.net import free_port, port_open, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]


class BrokerProcess:
    """``python -m broker`` on a free loopback port with its own log.dirs.

    ``restart()`` keeps the port and the data directory, as an operator's restart does.
    The broker's stderr goes to ``<log_dir>/../broker.log`` for post-mortems.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        overrides: dict[str, str] | None = None,
        open_files_limit: int | None = None,
    ) -> None:
        """``open_files_limit``: the broker runs under ``ulimit -n`` of that (soft and hard)."""
        self.data_dir = data_dir
        self.open_files_limit = open_files_limit
        self.log_dir = data_dir / "kafka-logs"
        self.port = free_port()
        self.overrides = dict(overrides or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "broker.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        props = {
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": str(self.log_dir),
            **self.overrides,
        }
        cmd = [sys.executable, "-m", "broker"]
        for key, value in props.items():
            cmd += ["--override", f"{key}={value}"]
        return cmd

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=self._limit_open_files if self.open_files_limit else None,
        )
        log.close()

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode}:\n{self.log()}")
            return port_open("127.0.0.1", self.port)

        wait_until(ready, timeout=timeout, what="broker to listen")

    def _limit_open_files(self) -> None:
        import resource

        limit = self.open_files_limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait: a clean shutdown."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: the crash case."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
