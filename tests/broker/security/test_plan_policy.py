"""The broker's plan policy: a tenant's service account ``acme-app`` whose user entity
carries ``headwater_max_*`` quota keys (set with ``headwater quotas``, AlterClientQuotas)
is refused, with POLICY_VIOLATION and the plan's message, what would exceed them; real
clients over SASL/SCRAM with the authorizer on and ACLs on the prefix ``acme.``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka.admin import (
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from confluent_kafka.error import KafkaError, KafkaException
from kafka.admin import KafkaAdminClient
from kafka.admin import NewTopic as KpNewTopic
from kafka.errors import PolicyViolationError

from tests.broker.security.authz import (
    acl,
    admin_as,
    authorizing_broker,
    create_acls,
    create_users,
    headwater,
    kafka_python_login,
    login_properties,
)
from tests.support.broker import BrokerProcess

USERS = ("acme-app", "acme-free", "admin")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = authorizing_broker(tmp_path_factory.mktemp("plan"))
    try:
        create_users(broker, "acme-app", "acme-free")
        bindings = [
            acl(kind, "acme.", f"User:{user}", pattern=ResourcePatternType.PREFIXED)
            for user in ("acme-app", "acme-free")
            for kind in (ResourceType.TOPIC, ResourceType.GROUP)
        ]
        create_acls(admin_as(broker, "admin"), bindings)
        yield broker
    finally:
        broker.stop()


def quotas(broker: BrokerProcess, *args: str) -> str:
    done = headwater(
        "quotas",
        "--bootstrap-server",
        broker.bootstrap,
        *login_properties("admin"),
        *args,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def set_plan(broker: BrokerProcess, user: str, **limits: int) -> None:
    keys = ",".join(f"headwater_{k}={v}" for k, v in limits.items())
    quotas(broker, "--alter", "--user", user, "--add-config", keys)


def clear_plan(broker: BrokerProcess, user: str, *keys: str) -> None:
    names = ",".join(f"headwater_{k}" for k in keys)
    quotas(broker, "--alter", "--user", user, "--delete-config", names)


def create(broker: BrokerProcess, user: str, topic: NewTopic, **kw: object) -> KafkaError | None:
    admin = admin_as(broker, user)  # held until the answer: a dropped client cancels it
    future = admin.create_topics([topic], **kw)[topic.topic]
    try:
        future.result(15)
    except KafkaException as exc:
        return exc.args[0]
    return None


def refused(error: KafkaError | None, *words: str) -> None:
    assert error is not None, "expected POLICY_VIOLATION"
    assert error.code() == KafkaError.POLICY_VIOLATION, error
    for word in words:
        assert word in error.str(), error.str()


def unique(prefix: str = "acme.") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def plan(broker: BrokerProcess) -> Iterator[None]:
    """acme-app's plan for one test; every key removed after it."""
    yield
    clear_plan(
        broker, "acme-app", "max_topics", "max_partitions", "max_retention_ms", "max_message_bytes"
    )


def test_the_keys_are_described_and_bad_values_refused(broker: BrokerProcess, plan: None) -> None:
    set_plan(broker, "acme-app", max_topics=3, max_retention_ms=0)
    out = quotas(broker, "--describe", "--user", "acme-app")
    assert "headwater_max_topics=3" in out and "headwater_max_retention_ms=0" in out, out
    bad = headwater(
        "quotas",
        "--bootstrap-server",
        broker.bootstrap,
        *login_properties("admin"),
        "--alter",
        "--user",
        "acme-app",
        "--add-config",
        "headwater_max_topics=-1",
    )
    assert bad.returncode != 0 and "0 or greater" in bad.stderr + bad.stdout


def test_topic_count_cap_counts_only_the_tenants_prefix(broker: BrokerProcess, plan: None) -> None:
    existing = sum(
        1 for t in admin_as(broker, "admin").list_topics(timeout=15).topics if t.startswith("acme.")
    )
    set_plan(broker, "acme-app", max_topics=existing + 2)
    for _ in range(2):
        assert create(broker, "acme-app", NewTopic(unique(), 1, 1)) is None
    name = unique()
    refused(create(broker, "acme-app", NewTopic(name, 1, 1), validate_only=True), "topic(s)")
    refused(create(broker, "acme-app", NewTopic(name, 1, 1)), f"Cannot create topic {name}")
    # kafka-python sees the same refusal
    client = KafkaAdminClient(**kafka_python_login(broker.bootstrap, "acme-app"))
    try:
        with pytest.raises(PolicyViolationError, match="the plan allows"):
            client.create_topics([KpNewTopic(unique(), 1, 1)])
    finally:
        client.close()
    # not limited: a user without keys, a super user
    assert create(broker, "acme-free", NewTopic(unique(), 1, 1)) is None
    assert create(broker, "admin", NewTopic(unique(), 1, 1)) is None
    # removing the key lifts the limit
    clear_plan(broker, "acme-app", "max_topics")
    assert create(broker, "acme-app", NewTopic(unique(), 1, 1)) is None


def acme_partitions(broker: BrokerProcess) -> int:
    topics = admin_as(broker, "admin").list_topics(timeout=15).topics
    return sum(len(t.partitions) for n, t in topics.items() if n.startswith("acme."))


def test_partitions_in_total(broker: BrokerProcess, plan: None) -> None:
    held = acme_partitions(broker)
    set_plan(broker, "acme-app", max_partitions=held + 3)
    refused(create(broker, "acme-app", NewTopic(unique(), 4, 1)), "partitions in total")
    name = unique()
    assert create(broker, "acme-app", NewTopic(name, 3, 1)) is None
    admin = admin_as(broker, "acme-app")
    for validate_only in (True, False):
        future = admin.create_partitions([NewPartitions(name, 4)], validate_only=validate_only)
        with pytest.raises(KafkaException) as caught:
            future[name].result(15)
        refused(caught.value.args[0], "partitions in total")


def test_retention_and_message_size(broker: BrokerProcess, plan: None) -> None:
    set_plan(broker, "acme-app", max_retention_ms=3_600_000, max_message_bytes=100_000)
    # the broker default retention (7 days) is above the max: a topic must say less
    refused(create(broker, "acme-app", NewTopic(unique(), 1, 1)), "retention.ms")
    for value in ("-1", "3600001"):
        topic = NewTopic(unique(), 1, 1, config={"retention.ms": value})
        refused(create(broker, "acme-app", topic), "retention.ms")
    big = NewTopic(unique(), 1, 1, config={"retention.ms": "60000", "max.message.bytes": "100001"})
    refused(create(broker, "acme-app", big, validate_only=True), "max.message.bytes")
    name = unique()
    fits = {"retention.ms": "3600000", "max.message.bytes": "100000"}
    assert create(broker, "acme-app", NewTopic(name, 1, 1, config=fits)) is None
    admin = admin_as(broker, "acme-app")
    for key, value in (("retention.ms", "-1"), ("max.message.bytes", "100001")):
        # AlterConfigs (replaces every override: the other falls back above the max too)
        resource = ConfigResource(ResourceType.TOPIC, name, set_config={**fits, key: value})
        with pytest.raises(KafkaException) as caught:
            admin.alter_configs([resource])[resource].result(15)
        refused(caught.value.args[0], key)
        # IncrementalAlterConfigs SET
        entry = ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
        resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[entry])
        for validate_only in (True, False):
            with pytest.raises(KafkaException) as caught:
                admin.incremental_alter_configs([resource], validate_only=validate_only)[
                    resource
                ].result(15)
            refused(caught.value.args[0], key)
    # DELETE of the retention override falls back to the broker's 7 days
    entry = ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE)
    resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[entry])
    with pytest.raises(KafkaException) as caught:
        admin.incremental_alter_configs([resource])[resource].result(15)
    refused(caught.value.args[0], "retention.ms 604,800,000")
    # a value within the plan is accepted
    entry = ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[entry])
    admin.incremental_alter_configs([resource])[resource].result(15)


def test_the_limit_survives_a_restart(broker: BrokerProcess, plan: None) -> None:
    existing = sum(
        1 for t in admin_as(broker, "admin").list_topics(timeout=15).topics if t.startswith("acme.")
    )
    set_plan(broker, "acme-app", max_topics=existing)
    broker.restart()
    refused(create(broker, "acme-app", NewTopic(unique(), 1, 1)), "topic(s)")
