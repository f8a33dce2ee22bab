"""Two tenants on one broker, kept apart by PREFIXED ACLs: every principal x tenant x
operation cell behaves as the ACLs say, with real clients over SASL/SCRAM.

``User:acme-app`` may do everything on topics and groups starting ``acme.``,
``User:globex-app`` on ``globex.``; both sets were created by the super user
``User:admin`` through CreateAcls. A literal DENY WRITE on ``acme.audit`` for acme-app
beats its prefixed ALLOW ALL.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (
    AclOperation,
    AclPermissionType,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from confluent_kafka.error import KafkaException

from tests.broker.security.authz import (
    acl,
    admin_as,
    authorizing_broker,
    client_config,
    create_acls,
    create_users,
    kafka_python_login,
)
from tests.support.broker import BrokerProcess

TENANTS = ("acme", "globex")
APP = {tenant: f"{tenant}-app" for tenant in TENANTS}
CELLS = [(APP[p], tenant) for p in TENANTS for tenant in TENANTS]
CELL_IDS = [f"{user}-on-{tenant}" for user, tenant in CELLS]
PREFIXED = ResourcePatternType.PREFIXED


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = authorizing_broker(tmp_path_factory.mktemp("tenants"))
    try:
        create_users(broker, *APP.values())
        admin = admin_as(broker, "admin")
        bindings = []
        for tenant, user in APP.items():
            for kind in (ResourceType.TOPIC, ResourceType.GROUP):
                bindings.append(acl(kind, f"{tenant}.", f"User:{user}", pattern=PREFIXED))
        bindings.append(
            acl(
                ResourceType.TOPIC,
                "acme.audit",
                "User:acme-app",
                AclOperation.WRITE,
                AclPermissionType.DENY,
            )
        )
        create_acls(admin, bindings)
        topics = [NewTopic(f"{t}.orders", 1, 1) for t in TENANTS] + [NewTopic("acme.audit", 1, 1)]
        for future in admin.create_topics(topics).values():
            future.result(15)
        producer = Producer(client_config(broker, "admin"))
        for topic in ("acme.orders", "globex.orders", "acme.audit"):
            producer.produce(topic, b"seed")
        assert producer.flush(15) == 0
        yield broker
    finally:
        broker.stop()


def own(user: str, tenant: str) -> bool:
    return APP[tenant] == user


def produce_error(broker: BrokerProcess, user: str, topic: str) -> KafkaError | None:
    producer = Producer(client_config(broker, user) | {"message.timeout.ms": 10000})
    outcome: list[KafkaError | None] = []
    producer.produce(topic, b"value", on_delivery=lambda err, _msg: outcome.append(err))
    producer.flush(15)
    assert outcome, "no delivery report"
    return outcome[0]


def first_event(consumer: Consumer, timeout: float = 20) -> KafkaError | bytes:
    """The first record's value, or the first error the consumer reports."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is None:
            continue
        if message.error() is not None:
            return message.error()
        return message.value()
    raise AssertionError("neither a record nor an error")


@pytest.mark.parametrize(("user", "tenant"), CELLS, ids=CELL_IDS)
def test_produce(broker: BrokerProcess, user: str, tenant: str) -> None:
    error = produce_error(broker, user, f"{tenant}.orders")
    if own(user, tenant):
        assert error is None
    else:
        assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


@pytest.mark.parametrize(("user", "tenant"), CELLS, ids=CELL_IDS)
def test_consume(broker: BrokerProcess, user: str, tenant: str) -> None:
    """The user subscribes, in a group of its own, to ``tenant``'s topic."""
    consumer = Consumer(
        client_config(broker, user)
        | {
            "group.id": f"{user.removesuffix('-app')}.readers-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([f"{tenant}.orders"])
        event = first_event(consumer)
    finally:
        consumer.close()
    if own(user, tenant):
        assert event == b"seed"
    else:
        assert isinstance(event, KafkaError)
        assert event.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_fetch_needs_read_not_just_describe(broker: BrokerProcess) -> None:
    """An auditor may see ``acme.orders`` (DESCRIBE) but not read it: Fetch answers
    TOPIC_AUTHORIZATION_FAILED."""
    admin = admin_as(broker, "admin")
    create_users(broker, "auditor")
    create_acls(
        admin,
        [
            acl(ResourceType.TOPIC, "acme.orders", "User:auditor", AclOperation.DESCRIBE),
            acl(ResourceType.GROUP, "audit", "User:auditor", AclOperation.READ),
        ],
    )
    consumer = Consumer(client_config(broker, "auditor") | {"group.id": "audit"})
    try:
        consumer.assign([TopicPartition("acme.orders", 0, OFFSET_BEGINNING)])
        event = first_event(consumer)
    finally:
        consumer.close()
    assert isinstance(event, KafkaError)
    assert event.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


@pytest.mark.parametrize(("user", "tenant"), CELLS, ids=CELL_IDS)
def test_group_join_and_commit(broker: BrokerProcess, user: str, tenant: str) -> None:
    """The user reads its own topic in a group of ``tenant``: only its own tenant's
    groups let it join and commit."""
    own_tenant = user.removesuffix("-app")
    consumer = Consumer(
        client_config(broker, user)
        | {
            "group.id": f"{tenant}.group-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([f"{own_tenant}.orders"])
        event = first_event(consumer)
        if own(user, tenant):
            assert event == b"seed"
            committed = consumer.commit(asynchronous=False)
            assert committed is not None and all(tp.error is None for tp in committed)
        else:
            assert isinstance(event, KafkaError)
            assert event.code() == KafkaError.GROUP_AUTHORIZATION_FAILED
    finally:
        consumer.close()


@pytest.mark.parametrize(("user", "tenant"), CELLS, ids=CELL_IDS)
def test_create_topic(broker: BrokerProcess, user: str, tenant: str) -> None:
    name = f"{tenant}.new-by-{user}"
    client = admin_as(broker, user)  # referenced while its future is pending
    future = client.create_topics([NewTopic(name, 1, 1)])[name]
    if own(user, tenant):
        future.result(15)
        assert name in admin_as(broker, "admin").list_topics(timeout=10).topics
    else:
        with pytest.raises(KafkaException) as refused:
            future.result(15)
        assert refused.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert name not in admin_as(broker, "admin").list_topics(timeout=10).topics


@pytest.mark.parametrize(("user", "tenant"), CELLS, ids=CELL_IDS)
def test_delete_topic(broker: BrokerProcess, user: str, tenant: str) -> None:
    name = f"{tenant}.doomed-by-{user}"
    admin = admin_as(broker, "admin")
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(15)
    client = admin_as(broker, user)
    future = client.delete_topics([name])[name]
    if own(user, tenant):
        future.result(15)
        assert name not in admin.list_topics(timeout=10).topics
    else:
        with pytest.raises(KafkaException) as refused:
            future.result(15)
        assert refused.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert name in admin.list_topics(timeout=10).topics


@pytest.mark.parametrize(("user", "tenant"), CELLS, ids=CELL_IDS)
def test_describe(broker: BrokerProcess, user: str, tenant: str) -> None:
    """Listing hides the other tenant's topics; naming one is TOPIC_AUTHORIZATION_FAILED."""
    from confluent_kafka import TopicCollection

    admin = admin_as(broker, user)
    listed = set(admin.list_topics(timeout=10).topics)
    name = f"{tenant}.orders"
    future = admin.describe_topics(TopicCollection([name]))[name]
    if own(user, tenant):
        assert name in listed
        assert future.result(15).name == name
    else:
        assert not any(topic.startswith(f"{tenant}.") for topic in listed)
        with pytest.raises(KafkaException) as refused:
            future.result(15)
        assert refused.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_a_literal_deny_beats_the_prefixed_allow(broker: BrokerProcess) -> None:
    error = produce_error(broker, "acme-app", "acme.audit")
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    consumer = Consumer(client_config(broker, "acme-app") | {"group.id": "acme.auditors"})
    try:
        consumer.assign([TopicPartition("acme.audit", 0, OFFSET_BEGINNING)])
        assert first_event(consumer) == b"seed"  # reading stays allowed
    finally:
        consumer.close()


def test_kafka_python_idempotent_producer_writes_its_own_and_is_refused_the_other(
    broker: BrokerProcess,
) -> None:
    """kafka-python is idempotent by default: InitProducerId passes on WRITE to its own
    prefix alone (KIP-679), and the other tenant's topic is refused."""
    from kafka import KafkaProducer
    from kafka.errors import TopicAuthorizationFailedError

    producer = KafkaProducer(
        **kafka_python_login(broker.bootstrap, "globex-app"), max_block_ms=10000
    )
    try:
        assert producer.send("globex.orders", b"mine").get(timeout=15).offset >= 0
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send("acme.orders", b"theirs").get(timeout=15)
    finally:
        producer.close(timeout=5)


def test_aiokafka_consumer_is_refused_the_other_tenants_topic(broker: BrokerProcess) -> None:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import TopicAuthorizationFailedError

    async def run() -> None:
        consumer = AIOKafkaConsumer(
            "globex.orders",
            **kafka_python_login(broker.bootstrap, "acme-app"),
            group_id="acme.spies",
            auto_offset_reset="earliest",
        )
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                await consumer.start()  # it waits for the topic's metadata
                await asyncio.wait_for(consumer.getone(), 20)
        finally:
            await consumer.stop()

    asyncio.run(run())


def test_data_dir_holds_the_acls(broker: BrokerProcess) -> None:
    """What CreateAcls stored is in the metadata snapshot (the format of its docstring)."""
    snapshot = Path(broker.log_dir, "__cluster_metadata", "topics.json").read_text()
    assert '"resource_name": "acme."' in snapshot
    assert '"pattern_type": "PREFIXED"' in snapshot


def test_group_listing_describing_and_offsets_stay_within_the_tenant(
    broker: BrokerProcess,
) -> None:
    for tenant in TENANTS:  # groups that only hold offsets, committed by the super user
        committer = Consumer(client_config(broker, "admin") | {"group.id": f"{tenant}.listed"})
        try:
            committer.commit(offsets=[TopicPartition(f"{tenant}.orders", 0, 1)], asynchronous=False)
        finally:
            committer.close()
    acme = admin_as(broker, "acme-app")
    listed = {g.group_id for g in acme.list_consumer_groups().result(15).valid}
    assert "acme.listed" in listed
    assert not any(group.startswith("globex.") for group in listed)
    with pytest.raises(KafkaException) as refused:
        acme.describe_consumer_groups(["globex.listed"])["globex.listed"].result(15)
    assert refused.value.args[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED
    own_offsets = acme.list_consumer_group_offsets([ConsumerGroupTopicPartitions("acme.listed")])
    partitions = own_offsets["acme.listed"].result(15).topic_partitions
    assert [(tp.topic, tp.offset) for tp in partitions] == [("acme.orders", 1)]
    other = acme.list_consumer_group_offsets([ConsumerGroupTopicPartitions("globex.listed")])
    with pytest.raises(KafkaException) as refused:
        other["globex.listed"].result(15)
    assert refused.value.args[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED


@pytest.mark.parametrize("tenant", TENANTS)
def test_kip848_consumer_joins_only_its_tenants_groups(broker: BrokerProcess, tenant: str) -> None:
    consumer = Consumer(
        client_config(broker, "acme-app")
        | {
            "group.protocol": "consumer",
            "group.id": f"{tenant}.kip848-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe(["acme.orders"])
        event = first_event(consumer)
    finally:
        consumer.close()
    if tenant == "acme":
        assert event == b"seed"
    else:
        assert isinstance(event, KafkaError)
        assert event.code() == KafkaError.GROUP_AUTHORIZATION_FAILED
