"""``headwater up``: the broker, the console, a Celery worker and Celery beat, supervised.

Order of start: the broker (``python -m broker`` with the same ``--config`` /
``--override`` arguments), then, while it opens its listener, the console's
``manage.py migrate --noinput`` and ``manage.py ensure_operator`` (a first admin
account on a fresh install), then a Celery worker and Celery beat for the console's
background work (with ``REDIS_URL`` they use Redis; without it kombu's filesystem
transport under the data directory), then daphne serving ``console.asgi:application``
on the console address, with ``HEADWATER_BOOTSTRAP_SERVERS`` set to the broker's first
advertised listener.

Stopping: SIGINT (Ctrl-C) or SIGTERM stops the console, beat and the worker together
(their shutdowns overlap; the Celery worker's warm shutdown is the longest, a few
seconds), then the broker, each with SIGTERM and a grace period before SIGKILL, and
exits 0. A child that exits on
its own (a crash, a SIGKILL, the OOM killer) is restarted, as a service manager would:
after 1 s, doubling with each restart up to 30 s, back to 1 s once a child has stayed
up for a minute; every exit and restart is logged with the exit status. The other
child keeps running (the console's clients reconnect to a restarted broker). Daphne is
started with a short ``--application-close-timeout`` so that open pages (websockets)
do not hold its shutdown for daphne's default 10 s. The children run in
their own process group, so a terminal's Ctrl-C reaches only the supervisor, which
stops them in order; on Linux they also get SIGTERM should the supervisor itself die.

This module must not import Django: the console runs only in the children.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from broker.common.private_file import exposed
from broker.config import BrokerConfig

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
MANAGE_PY = REPO_ROOT / "manage.py"
BROKER_START_TIMEOUT = 60.0
CONSOLE_STOP_GRACE = 10.0
BROKER_STOP_GRACE = 30.0
CELERY_STOP_GRACE = 15.0  # a warm shutdown lets the running tasks finish
CONSOLE_CLOSE_TIMEOUT = 2  # daphne --application-close-timeout: seconds per open socket
RESTART_BACKOFF_FIRST = 1.0
RESTART_BACKOFF_MAX = 30.0
RESTART_STABLE_AFTER = 60.0  # a child up this long restarts after the first backoff again
_POLL = 0.1
_PR_SET_PDEATHSIG = 1


class StartupFailed(RuntimeError):
    """A child could not be started or prepared; the message says which and why."""


class _Interrupted(Exception):
    """SIGINT/SIGTERM arrived before both children were up."""


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) as a (host, port) pair."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


def bootstrap_servers(config: BrokerConfig) -> str:
    """The broker's first advertised listener, as clients (the console) dial it."""
    listener = config.effective_advertised_listeners[0]
    host = f"[{listener.host}]" if ":" in listener.host else listener.host
    return f"{host}:{listener.port}"


CONSOLE_USER = "headwater-console"
CREDENTIALS_FILE = "console-credentials.properties"
CONSOLE_MECHANISM = "SCRAM-SHA-512"


def secure_overrides(overrides: Sequence[str], plaintext: str | None = None) -> list[str]:
    """``headwater up``'s broker properties: secure by default, the user's overrides win.

    A SASL_PLAINTEXT listener (SCRAM-SHA-256/512) on 127.0.0.1:9092, the StandardAuthorizer
    on and the console's principal a super user. ``plaintext`` (``--plaintext HOST:PORT``)
    adds a second, unauthenticated PLAINTEXT listener whose clients are User:ANONYMOUS
    under the authorizer (denied until an ACL allows them)."""
    from broker.cluster.config_catalog import STANDARD_AUTHORIZER

    given = {item.partition("=")[0].strip(): item.partition("=")[2] for item in overrides}
    listeners = given.get("listeners", "SASL_PLAINTEXT://127.0.0.1:9092")
    if plaintext is not None:
        host, port = parse_address(plaintext)
        host = f"[{host}]" if ":" in host else host
        listeners = f"{listeners},PLAINTEXT://{host}:{port}"
    defaults = [
        "sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512",
        f"authorizer.class.name={STANDARD_AUTHORIZER}",
        f"super.users=User:{CONSOLE_USER}",
    ]
    rest = [item for item in overrides if item.partition("=")[0].strip() != "listeners"]
    return [*defaults, *rest, f"listeners={listeners}"]


def console_data_dir() -> Path:
    """The console's data directory, as console/settings.py computes it."""
    return Path(os.environ.get("HEADWATER_DATA_DIR") or REPO_ROOT / "data").resolve()


def credentials_path() -> Path:
    explicit = os.environ.get("HEADWATER_KAFKA_CREDENTIALS")
    return Path(explicit) if explicit else console_data_dir() / CREDENTIALS_FILE


def read_properties(path: Path) -> dict[str, str]:
    props = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, _, value = line.partition("=")
            props[key.strip()] = value.strip()
    return props


def ensure_console_credentials(config: BrokerConfig, path: Path) -> dict[str, str]:
    """The console's own SCRAM login: reused from ``path``, else generated (first run),
    written with mode 0600 and set in the stopped broker's metadata before it starts.

    Refuses (StartupFailed) a file that group or others may read, as ssh refuses a
    private key: a password others could read is no longer the console's alone."""
    from broker.cluster.lock import lock_log_dir
    from broker.cluster.metadata import FileMetadataStore
    from broker.tools.users import MECHANISMS, add_offline

    if path.exists():
        refusal = exposed(str(path), path.stat().st_mode, holds="the console's password")
        if refusal is not None:
            raise StartupFailed(refusal)
        props = read_properties(path)
        if not props.get("sasl.username") or not props.get("sasl.password"):
            raise StartupFailed(f"{path} lacks sasl.username/sasl.password")
    else:
        import secrets

        props = {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": CONSOLE_MECHANISM,
            "sasl.username": CONSOLE_USER,
            "sasl.password": secrets.token_urlsafe(32),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "# headwater up: the console's own login (a super user). Keep it private.\n"
        text += "".join(f"{key}={value}\n" for key, value in props.items())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(text)
        log.info("wrote the console's credential to %s (mode 0600)", path)
    user = props["sasl.username"]
    try:
        lock = lock_log_dir(config.log_dir)
    except OSError as exc:
        raise StartupFailed(f"cannot set the console's credential: {exc}") from exc
    with lock:
        store = FileMetadataStore(config.log_dir, node_id=config.node_id)
        missing = sorted(set(MECHANISMS) - set(store.scram_credentials(user)))
        if missing:
            add_offline(store, user, props["sasl.password"], missing)
            log.info("created SCRAM user %r (%s) in %s", user, ", ".join(missing), config.log_dir)
    return props


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the supervisor dies (Linux only)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log.info("starting %s: %s", name, " ".join(argv))
    proc = subprocess.Popen(argv, env=env, process_group=0, preexec_fn=_die_with_parent)
    log.info("%s started (pid %d)", name, proc.pid)
    return proc


def _stop(*children: tuple[str, subprocess.Popen[bytes] | None, float]) -> None:
    """SIGTERM to every ``(name, process, grace)`` at once, wait for each up to its grace
    (counted from the signal, so the waits overlap), then SIGKILL what is left."""
    signalled: list[tuple[str, subprocess.Popen[bytes], float]] = []
    for name, proc, grace in children:
        if proc is not None and proc.poll() is None:
            log.info("stopping %s (pid %d)", name, proc.pid)
            proc.send_signal(signal.SIGTERM)
            signalled.append((name, proc, time.monotonic() + grace))
    for name, proc, deadline in signalled:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within its grace period; killing it", name)
            proc.kill()
            proc.wait()


def _wait_listening(
    proc: subprocess.Popen[bytes], host: str, port: int, timeout: float, stop: _StopRequest
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        stop.check()
        if proc.poll() is not None:
            raise StartupFailed(f"the broker exited with code {proc.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise StartupFailed(f"the broker did not listen on {host}:{port} within {timeout:.0f}s")
        time.sleep(_POLL)


def _manage(command: list[str], env: dict[str, str]) -> None:
    argv = [sys.executable, str(MANAGE_PY), *command]
    log.info("running %s", " ".join(argv))
    code = subprocess.run(argv, env=env).returncode
    if code != 0:
        raise StartupFailed(f"manage.py {command[0]} failed with code {code}")


def _console_env(bootstrap: str, credentials: Path | None = None) -> dict[str, str]:
    pythonpath = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    extra = {"HEADWATER_KAFKA_CREDENTIALS": str(credentials)} if credentials else {}
    return {
        **extra,
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "HEADWATER_BOOTSTRAP_SERVERS": bootstrap,
        "PYTHONPATH": pythonpath,
        "PYTHONUNBUFFERED": "1",
    }


class _StopRequest:
    """Records SIGINT/SIGTERM; the main loop polls it (a handler must not take locks)."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum

    def check(self) -> None:
        if self.signal is not None:
            raise _Interrupted

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]


def exit_status(code: int) -> str:
    """``code 3`` or ``signal SIGKILL`` (Popen's negative return codes)."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


class _Child:
    """One supervised child: how to start it, the running process, its restart backoff."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.backoff = RESTART_BACKOFF_FIRST
        self.restart_at: float | None = None
        self.restarts = 0

    def start(self) -> None:
        self.proc = _spawn(self.name, self.argv, self.env)
        self.started_at = time.monotonic()
        self.restart_at = None

    def check(self, now: float) -> None:
        """Notice an exit (schedule the restart) or start a due restart."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                log.warning("restarting %s (restart %d)", self.name, self.restarts)
                self.start()
            return
        assert self.proc is not None
        code = self.proc.poll()
        if code is None:
            return
        if now - self.started_at >= RESTART_STABLE_AFTER:
            self.backoff = RESTART_BACKOFF_FIRST
        log.error(
            "%s (pid %d) exited unexpectedly with %s; restarting it in %.0f s",
            self.name, self.proc.pid, exit_status(code), self.backoff,
        )  # fmt: skip
        self.restart_at = now + self.backoff
        self.backoff = min(self.backoff * 2, RESTART_BACKOFF_MAX)


def _supervise(children: list[_Child], stop: _StopRequest) -> int:
    """Restart children that exit, until a stop signal (then exit 0)."""
    while stop.signal is None:
        now = time.monotonic()
        for child in children:
            child.check(now)
        time.sleep(_POLL)
    log.info("received %s; shutting down", signal.Signals(stop.signal).name)
    return 0


def run_up(
    config: BrokerConfig,
    *,
    console_address: str,
    broker_args: Sequence[str] = (),
    secure: bool = True,
) -> int:
    """Run broker + console until a signal or a child's exit; the process exit code."""
    try:
        console_host, console_port = parse_address(console_address)
    except ValueError as exc:
        log.error("--console: %s", exc)
        return 2
    bootstrap = bootstrap_servers(config)
    listen = config.listeners[0]
    broker_host = "127.0.0.1" if listen.host in ("", "0.0.0.0") else listen.host
    credentials = credentials_path() if secure else None
    if credentials is not None:
        try:
            ensure_console_credentials(config, credentials)
        except StartupFailed as exc:
            log.error("%s", exc)
            return 1
        log.info(
            "console credential (SASL/SCRAM-SHA-512 super user): %s; use it with "
            "kcat -b %s -F %s ... or any client's --command-config; create other users "
            "with headwater users --bootstrap-server %s --command-config %s --add NAME",
            credentials, bootstrap, credentials, bootstrap, credentials,
        )  # fmt: skip
    console_env = _console_env(bootstrap, credentials)

    stop = _StopRequest()
    stop.install()
    broker: subprocess.Popen[bytes] | None = None
    console: subprocess.Popen[bytes] | None = None
    broker_child: _Child | None = None
    console_child: _Child | None = None
    worker_child: _Child | None = None
    beat_child: _Child | None = None
    code = 1
    try:
        broker_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        broker_child = _Child("broker", [sys.executable, "-m", "broker", *broker_args], broker_env)
        broker_child.start()
        broker = broker_child.proc
        assert broker is not None
        _manage(["migrate", "--noinput"], console_env)
        stop.check()
        _manage(["ensure_operator"], console_env)
        _wait_listening(broker, broker_host, listen.port, BROKER_START_TIMEOUT, stop)
        log.info("broker is listening; clients bootstrap from %s", bootstrap)
        daphne = [
            sys.executable, "-m", "daphne", "-b", console_host, "-p", str(console_port),
            "--application-close-timeout", str(CONSOLE_CLOSE_TIMEOUT),
            "console.asgi:application",
        ]  # fmt: skip
        celery = [sys.executable, "-m", "celery", "--app", "console"]
        worker_child = _Child(
            "worker",
            [*celery, "worker", "--loglevel", "INFO", "--pool", "threads", "--concurrency", "4"],
            console_env,
        )
        worker_child.start()
        beat_child = _Child("beat", [*celery, "beat", "--loglevel", "INFO"], console_env)
        beat_child.start()
        console_child = _Child("console", daphne, console_env)
        console_child.start()
        log.info("console: http://%s:%d/", console_address.rpartition(":")[0], console_port)
        code = _supervise([broker_child, worker_child, beat_child, console_child], stop)
    except StartupFailed as exc:
        log.error("%s", exc)
        code = 1
    except _Interrupted:
        log.info("interrupted while starting; shutting down")
        code = 0
    finally:
        if console_child is not None:
            console = console_child.proc
        if broker_child is not None:
            broker = broker_child.proc
        # The broker's clients first, together (their shutdowns overlap), then the broker.
        _stop(
            ("console", console, CONSOLE_STOP_GRACE),
            ("beat", beat_child.proc if beat_child else None, CELERY_STOP_GRACE),
            ("worker", worker_child.proc if worker_child else None, CELERY_STOP_GRACE),
        )
        _stop(("broker", broker, BROKER_STOP_GRACE))
        stop.restore()
    return code
