"""Throwaway PostgreSQL and Redis servers on loopback, for the console's tests.

Each server gets a fresh temporary directory and a free port on 127.0.0.1, is
polled until it really answers (never sleep-and-hope), and is stopped and removed
afterwards. When the test run is root, PostgreSQL runs as the unprivileged
``postgres`` system user (it refuses to run as root); the server process is
started with ``Popen(user=...)`` rather than through ``runuser`` so that our
signals reach the postmaster itself, not a wrapper.

A missing binary is an error naming the Debian package to install, never a skip:
a suite that silently skips the database tests hides a broken environment.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.net import free_port, wait_until


class MissingServerBinary(RuntimeError):
    """A server program the tests need is not installed; the message names the package."""


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.name  # /usr/lib/postgresql/<version>/bin
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def find_postgres_bindir() -> Path:
    """The directory holding ``initdb`` and ``postgres``.

    ``pg_config --bindir`` first (on Debian it is postgresql-common's wrapper, but
    libpq-dev's pg_config may answer /usr/bin, which has no initdb), then the newest
    ``/usr/lib/postgresql/*/bin``, then ``initdb`` on PATH.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    candidates += [
        Path(p)
        for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    ]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in ("initdb", "postgres", "pg_isready")):
            return bindir
    raise MissingServerBinary(
        "PostgreSQL server binaries (initdb, postgres, pg_isready) not found via pg_config "
        "or /usr/lib/postgresql/*/bin: install the Debian package `postgresql` "
        "(apt-get install postgresql); .ci/run does this"
    )


def find_redis_server() -> Path:
    path = shutil.which("redis-server")
    if path is None:
        raise MissingServerBinary(
            "redis-server not found on PATH: install the Debian package `redis-server` "
            "(apt-get install redis-server); .ci/run does this"
        )
    return Path(path)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop_process(proc: subprocess.Popen[bytes], sig: int, timeout: float) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster: ``initdb`` into a temp dir, ``postgres`` on a free port.

    Listens on 127.0.0.1 only (TCP, password auth: scram-sha-256) and on a unix
    socket inside the temp dir (trust, used only to create the database).
    """

    user: str = "headwater"
    database: str = "headwater"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    root: Path | None = None
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgres://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    @property
    def log_path(self) -> Path:
        assert self.root is not None
        return self.root / "postgres.log"

    def _run_as(self) -> dict[str, Any]:
        """Popen arguments that drop root to the ``postgres`` user (postgres refuses root)."""
        if os.geteuid() != 0:
            return {}
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise MissingServerBinary(
                "running as root but there is no `postgres` system user to run the server "
                "as: install the Debian package `postgresql`, which creates it"
            ) from None
        return {
            "user": account.pw_uid,
            "group": account.pw_gid,
            "extra_groups": [],
            "env": {**os.environ, "HOME": str(self.root), "USER": "postgres"},
        }

    def start(self, timeout: float = 60.0) -> None:
        bindir = find_postgres_bindir()
        # Directly under /tmp: pytest's basetemp (/tmp/pytest-of-root) is 0700, so the
        # postgres user could not reach a directory inside it.
        self.root = Path(tempfile.mkdtemp(prefix="headwater-pg-"))
        run_as = self._run_as()
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if run_as:
            for path in (self.root, pwfile):
                os.chown(path, run_as["user"], run_as["group"])
        data = self.root / "data"
        initdb = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "--username",
                self.user,
                "--pwfile",
                str(pwfile),
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            **run_as,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stderr}")

        self.port = free_port()
        log = self.log_path.open("ab")
        if run_as:
            os.chown(self.log_path, run_as["user"], run_as["group"])
        self.proc = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={self.root}",
                # a test cluster: durability is not what is under test, speed is welcome
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.root,
            **run_as,
        )
        log.close()

        def accepting() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise ServerExited(
                    f"postgres exited with {self.proc.returncode}:\n{_tail(self.log_path)}"
                )
            probe = subprocess.run(
                [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                timeout=10,
            )
            return probe.returncode == 0

        _wait_for(accepting, timeout=timeout, what=f"postgres on 127.0.0.1:{self.port}")

        created = subprocess.run(
            [
                str(bindir / "createdb"),
                "-h",
                str(self.root),
                "-p",
                str(self.port),
                "-U",
                self.user,
                self.database,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if created.returncode != 0:
            raise RuntimeError(f"createdb failed ({created.returncode}):\n{created.stderr}")

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT: roll back sessions, checkpoint, exit), then remove the dir."""
        if self.proc is not None:
            _stop_process(self.proc, signal.SIGINT, timeout)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RedisServer:
    """``redis-server`` on a free loopback port, without persistence (no RDB, no AOF)."""

    root: Path | None = None
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        binary = find_redis_server()
        self.root = Path(tempfile.mkdtemp(prefix="headwater-redis-"))
        self.port = free_port()
        log_path = self.root / "redis.log"
        log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                str(binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.root,
        )
        log.close()

        def answers_ping() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise ServerExited(
                    f"redis-server exited with {self.proc.returncode}:\n{_tail(log_path)}"
                )
            return redis_ping("127.0.0.1", self.port)

        _wait_for(answers_ping, timeout=timeout, what=f"redis-server on 127.0.0.1:{self.port}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is not None:
            _stop_process(self.proc, signal.SIGTERM, timeout)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


class ServerExited(RuntimeError):
    """The server process died while we waited for it: stop waiting, show its log."""


def _wait_for(check: Any, *, timeout: float, what: str) -> None:
    """``wait_until``, except that a dead server fails at once instead of at the deadline."""

    def guarded() -> bool:
        try:
            return bool(check())
        except ServerExited as exc:
            died.append(exc)
            return True

    died: list[ServerExited] = []
    wait_until(guarded, timeout=timeout, what=what)
    if died:
        raise died[0]


def redis_ping(host: str, port: int) -> bool:
    """Send an inline ``PING`` and expect ``+PONG`` (no client library needed)."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
