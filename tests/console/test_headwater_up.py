"""``headwater up`` (broker/supervisor.py): broker + console as supervised children.

(Here rather than under tests/broker/ because what it proves is that the console
comes up migrated, with an operator, talking to the broker it started.)
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.config import load_config
from broker.supervisor import bootstrap_servers, parse_address
from tests.support.console import OPERATOR_PASSWORD, OPERATOR_USERNAME, REPO_ROOT
from tests.support.net import free_port, port_open, wait_until


class Up:
    """``headwater up`` in a subprocess with its own data directories and ports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.broker_port = free_port()
        self.console_port = free_port()
        self.log_path = root / "up.log"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(HEADWATER_DATA_DIR=str(root / "console"), PYTHONUNBUFFERED="1")
        argv = [
            sys.executable, "-c", "import sys; from broker.cli import main; sys.exit(main())",
            "up",
            "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.broker_port}",
            "--override", f"log.dirs={root / 'kafka-logs'}",
            "--console", f"127.0.0.1:{self.console_port}",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

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
        match = re.search(rf"{name} started \(pid (\d+)\)", self.log())
        assert match, self.log()
        return int(match[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    process = Up(tmp_path)
    yield process
    process.stop()


def logged_in_opener(base_url: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base_url}/accounts/login/", timeout=10).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode(
        {
            "username": OPERATOR_USERNAME,
            "password": OPERATOR_PASSWORD,
            "csrfmiddlewaretoken": csrf,
            "next": "/topics/",
        }
    ).encode()
    opener.open(f"{base_url}/accounts/login/", data=form, timeout=10).read()
    return opener


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_headwater_up_serves_console_on_its_broker_and_stops_cleanly_on_signal(
    up: Up, stop_signal: signal.Signals
) -> None:
    up.wait_ready()
    assert "Created operator account: login 'admin'" in up.log()

    page = logged_in_opener(up.console_url).open(f"{up.console_url}/topics/", timeout=15)
    html = page.read().decode()
    assert page.status == 200
    assert f"cluster 127.0.0.1:{up.broker_port}" in html
    assert "cannot reach" not in html

    up.proc.send_signal(stop_signal)
    assert up.proc.wait(timeout=45) == 0, up.log()
    assert not port_open("127.0.0.1", up.console_port)
    assert not port_open("127.0.0.1", up.broker_port)
    assert "broker.server: stopped cleanly" in up.log()


def test_headwater_up_stops_the_console_and_fails_when_the_broker_dies(up: Up) -> None:
    up.wait_ready()
    os.kill(up.child_pid("broker"), signal.SIGKILL)
    assert up.proc.wait(timeout=45) != 0
    assert "broker exited unexpectedly" in up.log()
    assert not port_open("127.0.0.1", up.console_port)


def test_supervisor_does_not_import_django() -> None:
    code = "import sys, broker.supervisor; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT).returncode == 0


@pytest.mark.parametrize(
    ("address", "expected"),
    [("127.0.0.1:8000", ("127.0.0.1", 8000)), ("[::1]:80", ("::1", 80)), ("host:1", ("host", 1))],
)
def test_parse_address_accepts_host_port(address: str, expected: tuple[str, int]) -> None:
    assert parse_address(address) == expected


@pytest.mark.parametrize("address", ["8000", ":8000", "host:", "host:port", "host:70000"])
def test_parse_address_rejects_malformed(address: str) -> None:
    with pytest.raises(ValueError):
        parse_address(address)


def test_bootstrap_servers_is_the_first_advertised_listener() -> None:
    config = load_config(
        None,
        [
            "listeners=PLAINTEXT://0.0.0.0:9092",
            "advertised.listeners=PLAINTEXT://kafka.example:19092",
        ],
    )
    assert bootstrap_servers(config) == "kafka.example:19092"
    assert bootstrap_servers(load_config(None, ["listeners=PLAINTEXT://:9093"])) == "127.0.0.1:9093"
