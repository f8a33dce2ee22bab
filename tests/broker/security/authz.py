"""A broker with Kafka's authorizer on, its only listener SASL_PLAINTEXT (SCRAM), and
``User:admin`` its super user: made offline with ``headwater users --config``, the way
an operator bootstraps such a broker. Other users are created by admin over the wire."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from tests.broker.security.roundtrip import Login, confluent_config, kafka_python_config
from tests.broker.tools.conftest import headwater_command
from tests.support.broker import REPO_ROOT, BrokerProcess
from tests.support.net import free_port

STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
MECHANISM = "SCRAM-SHA-256"


def password(user: str) -> str:
    return f"{user}-secret"


def headwater(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The ``headwater`` command, as an operator runs it."""
    return subprocess.run(
        [*headwater_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )


def login(bootstrap: str, user: str | None) -> Login:
    """How ``user`` logs in (SASL/SCRAM); None: an anonymous PLAINTEXT client."""
    if user is None:
        return Login(bootstrap)
    return Login(bootstrap, "SASL_PLAINTEXT", MECHANISM, user, password(user))


def client_config(broker: BrokerProcess, user: str) -> dict[str, Any]:
    """librdkafka settings to log in as ``user``."""
    return confluent_config(login(broker.bootstrap, user))


def kafka_python_login(bootstrap: str, user: str | None) -> dict[str, Any]:
    """kafka-python's settings to log in as ``user`` (aiokafka takes the same ones here)."""
    return kafka_python_config(login(bootstrap, user))


def login_properties(user: str) -> list[str]:
    """The same login as ``--command-property`` options of the headwater tools."""
    return [
        "--command-property=security.protocol=SASL_PLAINTEXT",
        f"--command-property=sasl.mechanism={MECHANISM}",
        f"--command-property=sasl.username={user}",
        f"--command-property=sasl.password={password(user)}",
    ]


def admin_as(broker: BrokerProcess, user: str) -> AdminClient:
    return AdminClient(client_config(broker, user))


def authorizing_broker(data_dir: Path, **overrides: str) -> BrokerProcess:
    """A started broker with the authorizer on and User:admin as super user."""
    port = free_port()
    broker = BrokerProcess(
        data_dir,
        overrides={
            "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port}",
            "sasl.enabled.mechanisms": MECHANISM,
            "authorizer.class.name": STANDARD_AUTHORIZER,
            "super.users": "User:admin",
            "group.initial.rebalance.delay.ms": "0",
            **overrides,
        },
    )
    broker.port = port
    offline = [
        f"--override={k}={v}"
        for k, v in {"log.dirs": str(broker.log_dir), **broker.overrides}.items()
    ]
    made = headwater(
        "users",
        *offline,
        "--add",
        "admin",
        "--mechanism",
        MECHANISM,
        "--iterations",
        "4096",
        "--password-stdin",
        stdin=password("admin"),
    )
    assert made.returncode == 0, made.stderr
    broker.start()
    return broker


def create_users(broker: BrokerProcess, *users: str) -> None:
    admin = admin_as(broker, "admin")
    for user in users:  # one user per request, as Kafka wants
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096)
        upsert = UserScramCredentialUpsertion(user, info, password(user).encode())
        admin.alter_user_scram_credentials([upsert])[user].result(15)


def acl(
    resource_type: ResourceType,
    name: str,
    principal: str,
    operation: AclOperation = AclOperation.ALL,
    permission: AclPermissionType = AclPermissionType.ALLOW,
    pattern: ResourcePatternType = ResourcePatternType.LITERAL,
    host: str = "*",
) -> AclBinding:
    return AclBinding(resource_type, name, pattern, principal, host, operation, permission)


def create_acls(admin: AdminClient, bindings: list[AclBinding]) -> None:
    for future in admin.create_acls(bindings, request_timeout=15).values():
        future.result(15)
