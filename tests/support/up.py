"""``headwater up`` in a subprocess, as an operator runs it: the secure broker (SASL/SCRAM
listener, authorizer), the console, a Celery worker and beat, each test with its own
data directories and ports. Used by tests/console/test_headwater_up.py and the browser
tests that need the whole platform (tests/browser/test_tenant_isolation_browser.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from broker.supervisor import read_properties
from tests.support.console import REPO_ROOT
from tests.support.net import free_port, port_open, wait_until


class Up:
    """``headwater up`` in a subprocess with its own data directories and ports."""

    def __init__(self, root: Path, *extra: str) -> None:
        self.root = root
        self.broker_port = free_port()
        self.console_port = free_port()
        self.log_path = root / "up.log"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            HEADWATER_DATA_DIR=str(root / "console"),
            PYTHONUNBUFFERED="1",
            HEADWATER_HEARTBEAT_SECONDS="1",
        )
        argv = [
            sys.executable, "-c", "import sys; from broker.cli import main; sys.exit(main())",
            "up",
            "--override", f"listeners=SASL_PLAINTEXT://127.0.0.1:{self.broker_port}",
            "--override", f"log.dirs={root / 'kafka-logs'}",
            "--console", f"127.0.0.1:{self.console_port}",
            *extra,
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def credentials(self) -> Path:
        return self.root / "console" / "console-credentials.properties"

    def client_config(self) -> dict[str, str]:
        return read_properties(self.credentials)

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"headwater up exited {self.proc.returncode}:\n{self.log()}")
            return port_open("127.0.0.1", self.console_port) and "console started" in self.log()

        wait_until(ready, timeout=60, what="headwater up to serve the console")

    def child_pid(self, name: str) -> int:
        """The pid of the latest ``name`` process the supervisor started."""
        pids = re.findall(rf"{name} started \(pid (\d+)\)", self.log())
        assert pids, self.log()
        return int(pids[-1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    def manage(self, *args: str) -> str:
        """``manage.py ARGS`` against this console's data directory (its SQLite database)."""
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            HEADWATER_DATA_DIR=str(self.root / "console"),
            HEADWATER_BOOTSTRAP_SERVERS=self.bootstrap,
            HEADWATER_KAFKA_CREDENTIALS=str(self.credentials),
            DJANGO_SETTINGS_MODULE="console.settings",
        )
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "manage.py"), *args], cwd=REPO_ROOT, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, f"manage.py {args}:\n{result.stdout}\n{result.stderr}"
        return result.stdout
