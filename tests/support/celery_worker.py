"""A real Celery worker in a subprocess, on the session's Redis and the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.broker import REPO_ROOT
from tests.support.net import wait_until

WORKER = ["worker", "--pool", "threads", "--concurrency", "4", "--loglevel", "INFO",
          "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip


class CeleryProcess:
    """``celery -A console worker`` (threads pool, as ``headwater up`` runs it) or
    ``celery -A console beat``, with ``env`` added to this process's environment
    (DATABASE_URL, REDIS_URL, the cluster's address and login)."""

    def __init__(self, log_path: Path, env: dict[str, str], *, beat: bool = False) -> None:
        self.log_path = log_path
        self.env = env
        self.args = (
            ["beat", "--loglevel", "INFO", "-s", str(log_path.with_suffix(".schedule"))]
            if beat
            else WORKER
        )
        self.ready_line = "beat: Starting" if beat else " ready."
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", *self.args],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )  # fmt: skip
        log.close()

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery worker exited:\n{self.log()}")
            return self.ready_line in self.log()

        wait_until(ready, timeout=timeout, what=f"celery {self.args[0]} to be ready")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
