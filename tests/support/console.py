"""The console as an operator runs it: a daphne subprocess; plus Kafka-client helpers.

``ConsoleServer`` migrates, ensures the first operator (admin/admin) and serves
``console.asgi:application`` on a free loopback port with its own data directory,
against the cluster given as bootstrap servers; ``extra_env`` switches it to
PostgreSQL / Redis (``DATABASE_URL``, ``REDIS_URL``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.net import free_port, port_open, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
OPERATOR_USERNAME = "admin"
OPERATOR_PASSWORD = "admin"
# Settings the console reads from the environment; a server gets only what it is given.
_CONSOLE_ENV = ("DATABASE_URL", "REDIS_URL", "HEADWATER_DATA_DIR", "HEADWATER_BOOTSTRAP_SERVERS")


def unique_topic(prefix: str = "console") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_topic(
    bootstrap: str, name: str, *, partitions: int = 1, config: dict[str, str] | None = None
) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap, **(config or {})})
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1)], operation_timeout=10
    )
    futures[name].result(timeout=15)


def produce(
    bootstrap: str,
    topic: str,
    value: bytes | None,
    *,
    key: bytes | None = None,
    partition: int | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """One record through confluent-kafka, flushed (acknowledged) before returning."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    kwargs: dict[str, object] = {"key": key, "headers": headers or []}
    if partition is not None:
        kwargs["partition"] = partition
    errors: list[object] = []
    producer.produce(
        topic, value, on_delivery=lambda err, _msg: err and errors.append(err), **kwargs
    )
    assert producer.flush(15) == 0, "record not acknowledged within 15s"
    assert not errors, errors


class ConsoleServer:
    """``manage.py migrate`` + ``ensure_operator``, then daphne, as ``headwater up`` does."""

    def __init__(
        self, data_dir: Path, *, bootstrap: str, extra_env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.bootstrap = bootstrap
        self.port = free_port()
        self.extra_env = dict(extra_env or {})
        self.log_path = data_dir / "console.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _CONSOLE_ENV}
        return {
            **env,
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "HEADWATER_DATA_DIR": str(self.data_dir),
            "HEADWATER_BOOTSTRAP_SERVERS": self.bootstrap,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "manage.py"), *args],
            cwd=REPO_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"manage.py {args}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start(self, timeout: float = 30.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput")
        self.manage("ensure_operator")
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                "console.asgi:application",
            ],
            cwd=REPO_ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

        def listening() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited with {self.proc.returncode}:\n{self.log()}")
            return port_open("127.0.0.1", self.port)

        wait_until(listening, timeout=timeout, what="the console to listen")

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
