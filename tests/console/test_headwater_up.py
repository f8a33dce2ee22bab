"""``headwater up`` (broker/supervisor.py): broker + console as supervised children.

(Here rather than under tests/broker/ because what it proves is that the console
comes up migrated, with an operator, talking to the broker it started.)
"""

from __future__ import annotations

import base64
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.config import load_config
from broker.supervisor import bootstrap_servers, parse_address
from tests.support.console import OPERATOR_PASSWORD, OPERATOR_USERNAME, REPO_ROOT, create_topic
from tests.support.net import free_port, port_open, wait_until
from tests.support.up import Up

HEADWATER = "import sys; from broker.cli import main; sys.exit(main())"


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    process = Up(tmp_path)
    yield process
    process.stop()
    print(process.log())  # shown by pytest when the test failed


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
    assert "did not stop within" not in up.log()  # no child needed SIGKILL
    assert not port_open("127.0.0.1", up.console_port)
    assert not port_open("127.0.0.1", up.broker_port)
    assert "broker.server: stopped cleanly" in up.log()


def open_tail_websocket(up: Up, opener: urllib.request.OpenerDirector, topic: str) -> socket.socket:
    """A browser's live-tail websocket (the handshake by hand), left open."""
    jar = next(
        h.cookiejar for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)
    )
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    sock = socket.create_connection(("127.0.0.1", up.console_port), timeout=15)
    sock.sendall(
        (
            f"GET /ws/topics/{topic}/tail/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{up.console_port}\r\n"
            f"Origin: {up.console_url}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            f"Cookie: {cookies}\r\n\r\n"
        ).encode()
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 101"), "the websocket was not accepted"
    return sock


def test_headwater_up_stops_at_once_with_a_page_open(up: Up) -> None:
    """An open live tail used to hold daphne's shutdown until SIGKILL 10 s later."""
    up.wait_ready()
    opener = logged_in_opener(up.console_url)
    bootstrap = f"127.0.0.1:{up.broker_port}"

    create_topic(bootstrap, "watched", config=up.client_config())
    tail = open_tail_websocket(up, opener, "watched")
    up.proc.send_signal(signal.SIGTERM)
    assert up.proc.wait(timeout=45) == 0, up.log()
    assert "did not stop within" not in up.log(), up.log()
    tail.close()


def test_headwater_up_restarts_a_killed_broker_and_the_console_stays_up(up: Up) -> None:
    up.wait_ready()
    console_pid = up.child_pid("console")
    first_broker = up.child_pid("broker")
    os.kill(first_broker, signal.SIGKILL)

    def restarted() -> bool:
        pids = [int(p) for p in re.findall(r"broker started \(pid (\d+)\)", up.log())]
        return len(pids) == 2 and port_open("127.0.0.1", up.broker_port)

    wait_until(restarted, timeout=60, what="the supervisor to restart the broker")
    assert up.proc.poll() is None, up.log()
    assert re.search(
        rf"broker \(pid {first_broker}\) exited unexpectedly with signal SIGKILL; "
        r"restarting it in 1 s",
        up.log(),
    ), up.log()
    assert "restarting broker (restart 1)" in up.log()
    assert up.child_pid("console") == console_pid  # the console was not restarted
    page = logged_in_opener(up.console_url).open(f"{up.console_url}/topics/", timeout=15)
    assert "cannot reach" not in page.read().decode()  # the console talks to the new broker

    os.kill(console_pid, signal.SIGKILL)

    def console_back() -> bool:
        return "restarting console (restart 1)" in up.log() and port_open(
            "127.0.0.1", up.console_port
        )

    wait_until(console_back, timeout=60, what="the supervisor to restart the console")
    up.proc.send_signal(signal.SIGTERM)
    assert up.proc.wait(timeout=45) == 0, up.log()


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


def test_headwater_up_runs_a_celery_worker_and_beat_without_redis(up: Up) -> None:
    """Not eager: a task sent from another process is run by the worker that `up`
    started, over kombu's filesystem transport, and beat's schedule reaches it."""
    up.wait_ready()
    wait_until(
        lambda: "celery worker heartbeat (scheduled by beat)" in up.log(),
        timeout=60,
        what="beat to schedule the heartbeat and the worker to run it",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        HEADWATER_DATA_DIR=str(up.root / "console"), DJANGO_SETTINGS_MODULE="console.settings"
    )
    code = (
        "import django; django.setup()\n"
        "from console.tasks import ping\n"
        "result = ping.delay()\n"
        "print(result.get(timeout=30), result.status)\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert answer.stdout.split() == ["pong", "SUCCESS"], answer.stderr + up.log()
    worker = up.child_pid("worker")
    os.kill(worker, signal.SIGKILL)
    wait_until(
        lambda: "restarting worker (restart 1)" in up.log(),
        timeout=30,
        what="the supervisor to restart the worker",
    )
    up.proc.send_signal(signal.SIGTERM)
    assert up.proc.wait(timeout=60) == 0, up.log()


def _metadata(bootstrap: str, config: dict[str, str] | None = None) -> list[str]:
    """The cluster's topic names as a client sees them (raises when it cannot)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap, **(config or {})})
    return sorted(admin.list_topics(timeout=5).topics)


def test_headwater_up_is_secure_by_default_and_reuses_its_credential(tmp_path: Path) -> None:
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

    up = Up(tmp_path)
    try:
        up.wait_ready()
        bootstrap = f"127.0.0.1:{up.broker_port}"
        assert up.credentials.stat().st_mode & 0o777 == 0o600
        config = up.client_config()
        assert config["security.protocol"] == "SASL_PLAINTEXT"
        assert config["sasl.mechanism"] == "SCRAM-SHA-512"
        assert config["sasl.username"] == "headwater-console"
        assert config["sasl.password"] not in up.log()  # never logged
        assert str(up.credentials) in up.log()  # `up` says where the credential is
        with pytest.raises(KafkaException):  # no SASL: no metadata
            _metadata(bootstrap)
        # The credential's properties produce and consume.
        create_topic(bootstrap, "secured", config=config)
        producer = Producer({"bootstrap.servers": bootstrap, **config})
        producer.produce("secured", b"hello")
        assert producer.flush(15) == 0
        consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": "g", "auto.offset.reset": "earliest",
             **config}
        )  # fmt: skip
        consumer.subscribe(["secured"])
        message = None
        for _ in range(30):
            message = consumer.poll(1)
            if message is not None and not message.error():
                break
        consumer.close()
        assert message is not None and message.value() == b"hello"
        # The console's topics page logs in through SASL.
        html = logged_in_opener(up.console_url).open(f"{up.console_url}/topics/").read().decode()
        assert "cannot reach" not in html and "secured" in html
        # The authorizer is on: a SCRAM user without ACLs is denied a produce.
        add = subprocess.run(
            [sys.executable, "-c", HEADWATER, "users", "--bootstrap-server", bootstrap,
             "--command-config", str(up.credentials), "--add", "alice", "--password-stdin"],
            cwd=REPO_ROOT, input="alice-secret\n", text=True, capture_output=True, timeout=60,
        )  # fmt: skip
        assert add.returncode == 0, add.stderr
        errors: list[KafkaError] = []
        alice = Producer(
            {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
             "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "alice",
             "sasl.password": "alice-secret", "message.timeout.ms": 10000}
        )  # fmt: skip
        alice.produce("secured", b"x", on_delivery=lambda err, msg: errors.append(err))
        alice.flush(15)
        assert errors and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, errors
        up.proc.send_signal(signal.SIGTERM)
        assert up.proc.wait(timeout=45) == 0, up.log()
    finally:
        up.stop()
    first_log = up.log()
    assert "created SCRAM user 'headwater-console'" in first_log
    again = Up(tmp_path)  # the same data directories
    try:
        again.wait_ready()
        assert again.client_config() == config  # the same username and password
        assert "created SCRAM user" not in again.log()  # no new user
        assert "secured" in _metadata(f"127.0.0.1:{again.broker_port}", config)
    finally:
        again.stop()


def test_plaintext_listener_is_opt_in(tmp_path: Path) -> None:
    plain_port = free_port()
    up = Up(tmp_path, "--plaintext", f"127.0.0.1:{plain_port}")
    try:
        up.wait_ready()
        assert port_open("127.0.0.1", plain_port)
        # No SASL needed here; its clients are User:ANONYMOUS under the authorizer.
        _metadata(f"127.0.0.1:{plain_port}")
    finally:
        up.stop()
    (tmp_path / "without").mkdir()
    without = Up(tmp_path / "without")
    try:
        without.wait_ready()
        assert not port_open("127.0.0.1", plain_port)
        assert "PLAINTEXT://" not in without.log().replace("SASL_PLAINTEXT://", "")
    finally:
        without.stop()


def test_headwater_up_refuses_a_credential_file_others_can_read(tmp_path: Path) -> None:
    credentials = tmp_path / "console" / "console-credentials.properties"
    credentials.parent.mkdir(parents=True)
    credentials.write_text("sasl.username=headwater-console\nsasl.password=x\n")
    credentials.chmod(0o644)
    up = Up(tmp_path)
    try:
        assert up.proc.wait(timeout=60) == 1
        assert "is readable by others (mode 0644)" in up.log()
        assert f"chmod 600 {credentials}" in up.log()
    finally:
        up.stop()
