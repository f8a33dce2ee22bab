"""What the reconciler tests share: a SASL broker with the authorizer, the console
logged in to it as the super user, a real Celery worker and beat on a real Redis, and
ways to look at the cluster the way an operator would."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from console.models import ReadyState
from tests.broker.security.authz import MECHANISM, admin_as, password
from tests.support.broker import BrokerProcess

T = TypeVar("T")


def console_login(bootstrap: str) -> dict[str, str]:
    """The console's own login: the broker's super user over SASL/SCRAM."""
    return {
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": MECHANISM,
        "sasl.username": "admin",
        "sasl.password": password("admin"),
    }


def write_properties(path: Path, props: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    path.chmod(0o600)
    return path


def poll(check: Callable[[], T], *, timeout: float = 30.0, what: str) -> T:
    """``check()`` until it returns something truthy; fail with the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def status_of(model: Any, pk: int) -> tuple[str, str, str]:
    row = (
        model.objects.filter(pk=pk)
        .values_list("ready_state", "ready_reason", "ready_message")
        .first()
    )
    return tuple(row) if row else ("gone", "", "")  # type: ignore[return-value]


def wait_state(model: Any, pk: int, state: ReadyState | str, *, timeout: float = 30) -> None:
    poll(lambda: (status_of(model, pk)[0] == state and True) or None,
         timeout=timeout, what=f"{model.__name__} {pk} to be {state} "
         f"(now {status_of(model, pk)})")  # fmt: skip


def cluster_acls(broker: BrokerProcess, principal: str) -> set[tuple[str, str, str, str, str]]:
    """(resource type, name, pattern, operation, permission) of ``principal``'s ACLs."""
    admin = admin_as(broker, "admin")
    every = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, principal, None,
        AclOperation.ANY, AclPermissionType.ANY,
    )  # fmt: skip
    found = admin.describe_acls(every, request_timeout=15).result()
    return {
        (b.restype.name, b.name, b.resource_pattern_type.name, b.operation.name,
         b.permission_type.name)
        for b in found
    }  # fmt: skip


def scram_users(broker: BrokerProcess) -> set[str]:
    admin = admin_as(broker, "admin")
    return set(admin.describe_user_scram_credentials(request_timeout=15).result())


def produce_error(
    broker: BrokerProcess, username: str, secret: str, topic: str, mechanism: str = MECHANISM
) -> KafkaError | None:
    """Produce one record as ``username``; the delivery error (None: it was written)."""
    producer = Producer({
        "bootstrap.servers": broker.bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": mechanism,
        "sasl.username": username,
        "sasl.password": secret,
        "message.timeout.ms": 10000,
        "acks": "all",
    })  # fmt: skip
    outcome: list[KafkaError | None] = []
    producer.produce(topic, b"v", on_delivery=lambda err, _msg: outcome.append(err))
    producer.flush(20)
    assert outcome, "no delivery report"
    return outcome[0]
