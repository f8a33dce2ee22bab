"""SASL PLAIN and SCRAM logins with all three Python clients, and clean failures."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from tests.broker.security.conftest import USERS, SecureBroker
from tests.broker.security.roundtrip import (
    Login,
    aiokafka_login_error,
    aiokafka_round_trip,
    confluent_login_error,
    confluent_round_trip,
    kafka_python_login_error,
    kafka_python_round_trip,
)

ROUND_TRIPS: dict[str, Callable[[Login], None]] = {
    "confluent": confluent_round_trip,
    "kafka-python": kafka_python_round_trip,
    "aiokafka": aiokafka_round_trip,
}
LOGIN_ERRORS: dict[str, Callable[[Login], object]] = {
    "kafka-python": kafka_python_login_error,
    "aiokafka": aiokafka_login_error,
}
# bob has only a SCRAM-SHA-512 credential: PLAIN checks his password against it.
LOGINS = [
    ("PLAIN", "alice"),
    ("PLAIN", "bob"),
    ("SCRAM-SHA-256", "alice"),
    ("SCRAM-SHA-512", "bob"),
]


def sasl(broker: SecureBroker, mechanism: str, user: str, password: str | None = None) -> Login:
    return Login(
        broker.bootstrap("SASL_PLAINTEXT"),
        "SASL_PLAINTEXT",
        mechanism,
        user,
        USERS.get(user, "x") if password is None else password,
    )


@pytest.mark.parametrize("client", sorted(ROUND_TRIPS))
@pytest.mark.parametrize(("mechanism", "user"), LOGINS)
def test_sasl_login_with_the_right_password_produces_and_consumes(
    secure_broker: SecureBroker, client: str, mechanism: str, user: str
) -> None:
    ROUND_TRIPS[client](sasl(secure_broker, mechanism, user))


@pytest.mark.parametrize("client", sorted(ROUND_TRIPS))
def test_sasl_ssl_login_produces_and_consumes(secure_broker: SecureBroker, client: str) -> None:
    login = Login(
        secure_broker.bootstrap("SASL_SSL"),
        "SASL_SSL",
        "SCRAM-SHA-512",
        "alice",
        USERS["alice"],
        ca=secure_broker.pki.ca.certificate,
    )
    ROUND_TRIPS[client](login)


@pytest.mark.parametrize(
    ("mechanism", "user", "password", "message"),
    [
        (
            "SCRAM-SHA-256",
            "alice",
            "wrong",
            "Authentication failed during authentication due to invalid credentials with "
            "SASL mechanism SCRAM-SHA-256",
        ),
        (
            "SCRAM-SHA-256",
            "mallory",
            "x",
            "Authentication failed during authentication due to invalid credentials with "
            "SASL mechanism SCRAM-SHA-256",
        ),
        ("SCRAM-SHA-256", "bob", USERS["bob"], "invalid credentials"),  # no SHA-256 for bob
        ("PLAIN", "alice", "wrong", "Authentication failed: Invalid username or password"),
        ("PLAIN", "mallory", "x", "Authentication failed: Invalid username or password"),
    ],
)
def test_confluent_reports_the_brokers_authentication_failure(
    secure_broker: SecureBroker, mechanism: str, user: str, password: str, message: str
) -> None:
    error = confluent_login_error(sasl(secure_broker, mechanism, user, password))
    assert error.code() == error._AUTHENTICATION
    assert message in error.str()


def test_confluent_reports_an_unknown_mechanism_with_the_enabled_ones(
    secure_broker: SecureBroker,
) -> None:
    login = sasl(secure_broker, "SCRAM-SHA-512", "alice")
    login = Login(**{**login.__dict__, "mechanism": "OAUTHBEARER"})
    error = confluent_login_error(login)
    assert error.code() == error._AUTHENTICATION
    assert "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" in error.str().replace(", ", ",")


@pytest.mark.parametrize("client", sorted(LOGIN_ERRORS))
@pytest.mark.parametrize(
    ("mechanism", "user", "password", "message"),
    [
        ("SCRAM-SHA-512", "alice", "wrong", "due to invalid credentials with SASL mechanism"),
        ("PLAIN", "mallory", "x", "Authentication failed: Invalid username or password"),
    ],
)
def test_python_clients_report_a_failed_login(
    secure_broker: SecureBroker,
    caplog: pytest.LogCaptureFixture,
    client: str,
    mechanism: str,
    user: str,
    password: str,
    message: str,
) -> None:
    """Both retry bootstrapping and give up with a connection error; the broker's
    SASL_AUTHENTICATION_FAILED message is what they log for each attempt."""
    caplog.set_level(logging.WARNING)
    LOGIN_ERRORS[client](sasl(secure_broker, mechanism, user, password))
    assert "SaslAuthenticationFailed" in caplog.text
    assert message in caplog.text


def test_aiokafka_reports_an_unknown_mechanism(
    secure_broker: SecureBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    login = Login(
        secure_broker.bootstrap("SASL_PLAINTEXT"), "SASL_PLAINTEXT", "OAUTHBEARER", "alice"
    )
    aiokafka_login_error(login)
    assert "UnsupportedSaslMechanism" in caplog.text or "does not support" in caplog.text


def test_failed_logins_are_logged_without_the_password_and_others_still_work(
    secure_broker: SecureBroker,
) -> None:
    confluent_login_error(sasl(secure_broker, "PLAIN", "alice", "hunter2-not-it"))
    confluent_round_trip(sasl(secure_broker, "SCRAM-SHA-256", "alice"))
    log = secure_broker.process.log()
    assert "Failed authentication with 127.0.0.1" in log
    assert "mechanism PLAIN, principal attempted 'alice'" in log
    assert "hunter2" not in log
    assert all(password not in log for password in USERS.values())
