"""``headwater users`` online and offline, credentials across restarts, nothing in clear."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from tests.broker.security.authz import headwater as run_headwater
from tests.broker.security.conftest import USERS, SecureBroker
from tests.broker.security.roundtrip import Login, confluent_login_error, confluent_round_trip
from tests.support.broker import BrokerProcess
from tests.support.net import free_port


def headwater(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_headwater("users", *args, stdin=stdin)


def scram(bootstrap: str, mechanism: str, user: str, password: str) -> Login:
    return Login(bootstrap, "SASL_PLAINTEXT", mechanism, user, password)


def test_users_add_list_delete_through_a_sasl_ssl_listener(secure_broker: SecureBroker) -> None:
    """The tool is a Kafka client like any other: here it logs in as alice over TLS."""
    connect = [
        "--bootstrap-server",
        secure_broker.bootstrap("SASL_SSL"),
        "--command-property=security.protocol=SASL_SSL",
        "--command-property=sasl.mechanism=SCRAM-SHA-256",
        "--command-property=sasl.username=alice",
        f"--command-property=sasl.password={USERS['alice']}",
        f"--command-property=ssl.ca.location={secure_broker.pki.ca.certificate}",
    ]
    added = headwater(*connect, "--add", "carol", "--password-stdin", stdin="carol pw\n")
    assert added.returncode == 0, added.stderr
    assert "set the SCRAM-SHA-256 credential of user 'carol'" in added.stdout
    listed = headwater(*connect, "--list")
    assert (
        "SCRAM credential configs for user-principal 'carol' are "
        "SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=8192"
    ) in listed.stdout.splitlines()
    sasl = secure_broker.bootstrap("SASL_PLAINTEXT")
    confluent_round_trip(scram(sasl, "SCRAM-SHA-512", "carol", "carol pw"))
    deleted = headwater(*connect, "--delete", "carol")
    assert deleted.returncode == 0, deleted.stderr
    assert "carol" not in headwater(*connect, "--list").stdout
    error = confluent_login_error(scram(sasl, "SCRAM-SHA-256", "carol", "carol pw"))
    assert error.code() == error._AUTHENTICATION


def test_users_reports_kafkas_errors(secure_broker: SecureBroker) -> None:
    plaintext = ["--bootstrap-server", secure_broker.bootstrap("PLAINTEXT")]
    few = headwater(
        *plaintext, "--add", "dave", "--iterations", "100", "--password-stdin", stdin="x"
    )
    assert few.returncode == 1
    assert "Too few iterations" in few.stderr
    missing = headwater(*plaintext, "--delete", "nobody-here", "--mechanism", "SCRAM-SHA-256")
    assert missing.returncode == 1
    assert "Attempt to delete a user credential that does not exist" in missing.stderr


@pytest.fixture
def sasl_only_broker(tmp_path: Path) -> BrokerProcess:
    """A broker whose only listener needs SASL: its first user must be made offline."""
    port = free_port()
    broker = BrokerProcess(
        tmp_path / "broker",
        overrides={
            "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port}",
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        },
    )
    broker.port = port
    return broker


def offline(broker: BrokerProcess, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    props = {"log.dirs": str(broker.log_dir), **broker.overrides}
    overrides = [f"--override={k}={v}" for k, v in props.items()]
    return headwater(*overrides, *args, stdin=stdin)


def test_first_user_offline_then_credentials_survive_restarts_and_never_in_clear(
    sasl_only_broker: BrokerProcess,
) -> None:
    broker = sasl_only_broker
    made = offline(broker, "--add", "admin", "--password-stdin", stdin="admin pw\n")
    assert made.returncode == 0, made.stderr
    broker.start()
    try:
        bootstrap = broker.bootstrap
        confluent_round_trip(scram(bootstrap, "SCRAM-SHA-256", "admin", "admin pw"))
        refused = offline(broker, "--list")
        assert refused.returncode == 1
        assert "Failed to acquire lock" in refused.stderr
        connect = [
            "--bootstrap-server",
            bootstrap,
            "--command-property=security.protocol=SASL_PLAINTEXT",
            "--command-property=sasl.mechanism=PLAIN",
            "--command-property=sasl.username=admin",
            "--command-property=sasl.password=admin pw",
        ]
        erin = headwater(*connect, "--add", "erin", "--mechanism", "SCRAM-SHA-512",
                         "--password-stdin", stdin="erin pw")  # fmt: skip
        assert erin.returncode == 0, erin.stderr
        broker.restart()
        confluent_round_trip(scram(bootstrap, "SCRAM-SHA-512", "erin", "erin pw"))
        confluent_round_trip(scram(bootstrap, "PLAIN", "admin", "admin pw"))
    finally:
        broker.stop()
    listed = offline(broker, "--list")
    assert "user-principal 'erin' are SCRAM-SHA-512=iterations=8192" in listed.stdout
    secrets = [b"admin pw", b"erin pw"]
    secrets += [base64.b64encode(s) for s in secrets]
    for path in broker.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(secret in data for secret in secrets), path
