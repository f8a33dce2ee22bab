"""Managing ACLs (CreateAcls, DescribeAcls, DeleteAcls) with confluent-kafka's AdminClient
and ``headwater acls``; super users, KIP-679, refusals for non-super users, persistence
across a restart, SECURITY_DISABLED without an authorizer, allow.everyone.if.no.acl.found.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicCollection,
    TopicPartition,
)
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from tests.broker.security.authz import (
    acl,
    admin_as,
    authorizing_broker,
    client_config,
    create_acls,
    create_users,
    headwater,
    kafka_python_login,
    login_properties,
)
from tests.support.broker import BrokerProcess

ANY = AclBindingFilter(
    ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
    AclPermissionType.ANY,
)  # fmt: skip
LITERAL, PREFIXED, MATCH = (
    ResourcePatternType.LITERAL,
    ResourcePatternType.PREFIXED,
    ResourcePatternType.MATCH,
)
TOPIC, GROUP, CLUSTER = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.BROKER


def topic_filter(name: str | None, pattern: ResourcePatternType) -> AclBindingFilter:
    return AclBindingFilter(
        TOPIC, name, pattern, None, None, AclOperation.ANY, AclPermissionType.ANY
    )


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = authorizing_broker(tmp_path_factory.mktemp("acl-admin"))
    try:
        create_users(broker, "alice", "writer", "nobody")
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def admin(broker: BrokerProcess) -> Iterator[AdminClient]:
    """The super user's client; every test starts and ends without ACLs."""
    client = admin_as(broker, "admin")
    client.delete_acls([ANY])[ANY].result(15)
    yield client
    client.delete_acls([ANY])[ANY].result(15)


def describe(admin: AdminClient, acl_filter: AclBindingFilter) -> set[tuple[object, ...]]:
    found = admin.describe_acls(acl_filter, request_timeout=15).result(15)
    return {(b.restype, b.name, b.resource_pattern_type, b.principal, b.operation) for b in found}


def error_code(exc: pytest.ExceptionInfo[KafkaException]) -> int:
    return exc.value.args[0].code()


def kafka_python_describe_acls(bootstrap: str, user: str | None = None) -> object:
    """kafka-python's DescribeAcls of everything. librdkafka discards DescribeAcls'
    top-level error code (an empty list instead), kafka-python raises it."""
    from kafka.admin import (
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        KafkaAdminClient,
        ResourcePatternFilter,
    )
    from kafka.admin import ResourceType as KResourceType

    admin = KafkaAdminClient(**kafka_python_login(bootstrap, user))
    try:
        pattern = ResourcePatternFilter(KResourceType.ANY, None, ACLResourcePatternType.ANY)
        return admin.describe_acls(
            ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY, pattern)
        )
    finally:
        admin.close()


def test_create_describe_and_delete_with_every_filter_kind(admin: AdminClient) -> None:
    create_acls(
        admin,
        [
            acl(TOPIC, "pay.orders", "User:alice", AclOperation.READ),
            acl(TOPIC, "pay.", "User:alice", AclOperation.WRITE, pattern=PREFIXED),
            acl(TOPIC, "*", "User:bob", AclOperation.DESCRIBE),
            acl(TOPIC, "other", "User:bob", AclOperation.READ),
            acl(GROUP, "pay.", "User:alice", AclOperation.READ, pattern=PREFIXED),
            acl(CLUSTER, "kafka-cluster", "User:alice", AclOperation.DESCRIBE),
        ],
    )
    assert len(describe(admin, ANY)) == 6
    assert describe(admin, topic_filter("pay.orders", LITERAL)) == {
        (TOPIC, "pay.orders", LITERAL, "User:alice", AclOperation.READ)
    }
    assert describe(admin, topic_filter(None, PREFIXED)) == {
        (TOPIC, "pay.", PREFIXED, "User:alice", AclOperation.WRITE)
    }
    # MATCH: every binding that applies to the topic: literal, wildcard and prefix
    assert {name for _t, name, *_ in describe(admin, topic_filter("pay.orders", MATCH))} == {
        "pay.orders",
        "pay.",
        "*",
    }
    by_principal = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, "User:bob", None, AclOperation.ANY,
        AclPermissionType.ANY,
    )  # fmt: skip
    assert {name for _t, name, *_ in describe(admin, by_principal)} == {"*", "other"}

    deleted = admin.delete_acls([topic_filter("pay.orders", MATCH)])
    removed = next(iter(deleted.values())).result(15)
    assert {b.name for b in removed} == {"pay.orders", "pay.", "*"}
    assert {name for _t, name, *_ in describe(admin, ANY)} == {"other", "pay.", "kafka-cluster"}


def test_invalid_bindings_get_invalid_request_with_kafkas_message(admin: AdminClient) -> None:
    futures = admin.create_acls(
        [
            acl(CLUSTER, "not-the-cluster", "User:alice", AclOperation.ALTER),
            acl(TOPIC, "fine", "User:alice", AclOperation.READ),
        ]
    )
    outcomes = {binding.name: future for binding, future in futures.items()}
    with pytest.raises(KafkaException) as refused:
        outcomes["not-the-cluster"].result(15)
    assert error_code(refused) == KafkaError.INVALID_REQUEST
    assert "The only valid name for the CLUSTER resource is kafka-cluster" in str(refused.value)
    outcomes["fine"].result(15)  # the valid binding of the same request is created
    assert {name for _t, name, *_ in describe(admin, ANY)} == {"fine"}


def test_a_non_super_user_may_not_manage_acls_or_users(
    broker: BrokerProcess, admin: AdminClient
) -> None:
    from kafka.errors import ClusterAuthorizationFailedError

    with pytest.raises(ClusterAuthorizationFailedError):
        kafka_python_describe_acls(broker.bootstrap, "alice")
    alice = admin_as(broker, "alice")
    binding = acl(TOPIC, "mine", "User:alice")
    with pytest.raises(KafkaException) as refused:
        alice.create_acls([binding])[binding].result(15)
    assert error_code(refused) == KafkaError.CLUSTER_AUTHORIZATION_FAILED

    upsert = UserScramCredentialUpsertion(
        "mallory", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), b"pw"
    )
    with pytest.raises(KafkaException) as refused:
        alice.alter_user_scram_credentials([upsert])["mallory"].result(15)
    assert error_code(refused) == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    # kafka-python here: librdkafka 2.x crashes (an invalid free) on any refused
    # DescribeUserScramCredentials response, Kafka's included.
    from kafka.admin import KafkaAdminClient

    kafka_python = KafkaAdminClient(**kafka_python_login(broker.bootstrap, "alice"))
    try:
        with pytest.raises(ClusterAuthorizationFailedError):
            kafka_python.describe_user_scram_credentials()
    finally:
        kafka_python.close()
    # ALTER on the cluster is what user management needs
    create_acls(admin, [acl(CLUSTER, "kafka-cluster", "User:alice", AclOperation.ALTER)])
    alice.alter_user_scram_credentials([upsert])["mallory"].result(15)


def test_a_super_user_is_not_bound_by_deny_acls(broker: BrokerProcess, admin: AdminClient) -> None:
    admin.create_topics([NewTopic("guarded", 1, 1)])["guarded"].result(15)
    create_acls(
        admin,
        [acl(TOPIC, "guarded", "User:*", AclOperation.ALL, AclPermissionType.DENY)],
    )
    producer = Producer(client_config(broker, "admin"))
    errors: list[object] = []
    producer.produce("guarded", b"x", on_delivery=lambda err, _m: errors.append(err))
    producer.flush(15)
    assert errors == [None]


def test_idempotent_producer_needs_only_write_on_its_topic(
    broker: BrokerProcess, admin: AdminClient
) -> None:
    """KIP-679: WRITE on any topic grants InitProducerId; without it, the idempotent
    producer fails with CLUSTER_AUTHORIZATION_FAILED."""
    admin.create_topics([NewTopic("writer.topic", 1, 1)])["writer.topic"].result(15)
    create_acls(
        admin,
        [
            acl(TOPIC, "writer.topic", "User:writer", AclOperation.WRITE),
            acl(TOPIC, "writer.topic", "User:nobody", AclOperation.READ),  # sees, not writes
        ],
    )
    assert idempotent_produce(broker, "writer") is None
    reader = Consumer(client_config(broker, "admin") | {"group.id": "watermarks"})
    try:
        low, high = reader.get_watermark_offsets(TopicPartition("writer.topic", 0), timeout=15)
    finally:
        reader.close()
    assert high - low == 1  # the record was appended
    refused = idempotent_produce(broker, "nobody")
    assert refused is not None and refused.code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED


def idempotent_produce(broker: BrokerProcess, user: str) -> KafkaError | None:
    """None when an idempotent producer delivered a record, else its error: a refused
    InitProducerId is fatal, and confluent-kafka raises it from flush() (a delivery
    callback would be called with that exception pending, so there is none)."""
    producer = Producer(
        client_config(broker, user) | {"enable.idempotence": True, "message.timeout.ms": 10000}
    )
    try:
        producer.produce("writer.topic", b"x")
        assert producer.flush(15) == 0
    except KafkaException as exc:
        return exc.args[0]
    return None


def test_authorized_operations_are_the_clients(broker: BrokerProcess, admin: AdminClient) -> None:
    admin.create_topics([NewTopic("ops.topic", 1, 1)])["ops.topic"].result(15)
    create_acls(admin, [acl(TOPIC, "ops.topic", "User:alice", AclOperation.READ)])
    alice = admin_as(broker, "alice")
    described = alice.describe_topics(
        TopicCollection(["ops.topic"]), include_authorized_operations=True
    )["ops.topic"].result(15)
    assert set(described.authorized_operations) == {AclOperation.READ, AclOperation.DESCRIBE}
    cluster = alice.describe_cluster(include_authorized_operations=True).result(15)
    assert not cluster.authorized_operations  # no DESCRIBE on the cluster: none shown
    everything = admin.describe_cluster(include_authorized_operations=True).result(15)
    assert AclOperation.IDEMPOTENT_WRITE in everything.authorized_operations


def acls_tool(broker: BrokerProcess, *args: str):  # type: ignore[no-untyped-def]
    return headwater(
        "acls", "--bootstrap-server", broker.bootstrap, *login_properties("admin"), *args
    )


def test_headwater_acls_adds_lists_and_removes(broker: BrokerProcess, admin: AdminClient) -> None:
    added = acls_tool(broker, "--add", "--allow-principal", "User:acme-app", "--operation",
                      "All", "--topic", "acme.", "--group", "acme.",
                      "--resource-pattern-type", "prefixed")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert (
        "Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=acme., "
        "patternType=PREFIXED)`:" in added.stdout
    )
    producer = acls_tool(broker, "--add", "--producer", "--allow-principal", "User:p", "--topic",
                         "orders", "--transactional-id", "tx", "--idempotent")  # fmt: skip
    assert producer.returncode == 0, producer.stderr
    consumer = acls_tool(broker, "--add", "--consumer", "--allow-principal", "User:c",
                         "--deny-principal", "User:c", "--deny-host", "10.0.0.9",
                         "--topic", "orders", "--group", "readers")  # fmt: skip
    assert consumer.returncode == 0, consumer.stderr
    assert {(t, n, p, o) for t, n, _pt, p, o in describe(admin, ANY) if p != "User:acme-app"} == {
        (TOPIC, "orders", "User:p", AclOperation.WRITE),
        (TOPIC, "orders", "User:p", AclOperation.DESCRIBE),
        (TOPIC, "orders", "User:p", AclOperation.CREATE),
        (ResourceType.TRANSACTIONAL_ID, "tx", "User:p", AclOperation.WRITE),
        (ResourceType.TRANSACTIONAL_ID, "tx", "User:p", AclOperation.DESCRIBE),
        (CLUSTER, "kafka-cluster", "User:p", AclOperation.IDEMPOTENT_WRITE),
        (TOPIC, "orders", "User:c", AclOperation.READ),
        (TOPIC, "orders", "User:c", AclOperation.DESCRIBE),
        (GROUP, "readers", "User:c", AclOperation.READ),
    }
    denied = admin.describe_acls(ANY).result(15)
    assert any(b.permission_type == AclPermissionType.DENY and b.host == "10.0.0.9" for b in denied)

    listed = acls_tool(
        broker, "--list", "--topic", "acme.orders", "--resource-pattern-type", "match"
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[:2] == [
        "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=acme., "
        "patternType=PREFIXED)`: ",
        " \t(principal=User:acme-app, host=*, operation=ALL, permissionType=ALLOW) ",
    ]
    everything = acls_tool(broker, "--list", "--principal", "User:c")
    assert "name=readers" in everything.stdout and "User:p" not in everything.stdout

    removed = acls_tool(broker, "--remove", "--topic", "acme.", "--group", "acme.",
                        "--resource-pattern-type", "prefixed", "--force")  # fmt: skip
    assert removed.returncode == 0, removed.stderr
    assert "Removed ACLs for resource" in removed.stdout
    assert not any(p == "User:acme-app" for *_x, p, _o in describe(admin, ANY))


def test_headwater_acls_reports_errors_in_one_line(broker: BrokerProcess) -> None:
    wrong_op = acls_tool(broker, "--add", "--allow-principal", "User:x", "--operation", "Write",
                         "--group", "g")  # fmt: skip
    assert wrong_op.returncode == 1
    assert "ResourceType GROUP only supports operations" in wrong_op.stderr
    refused = headwater("acls", "--bootstrap-server", broker.bootstrap,
                        *login_properties("alice"), "--add", "--allow-principal", "User:alice",
                        "--topic", "t")  # fmt: skip
    assert refused.returncode == 1
    assert "Cluster authorization failed" in refused.stderr
    assert "Traceback" not in refused.stderr + wrong_op.stderr


def quotas_tool(broker: BrokerProcess, user: str, *args: str):  # type: ignore[no-untyped-def]
    return headwater(
        "quotas", "--bootstrap-server", broker.bootstrap, *login_properties(user), *args
    )


def test_client_quotas_need_describe_and_alter_configs_on_the_cluster(
    broker: BrokerProcess, admin: AdminClient
) -> None:
    set_quota = ("--alter", "--user", "quota-user", "--add-config", "producer_byte_rate=2048")
    refused = quotas_tool(broker, "alice", *set_quota)
    assert refused.returncode == 1
    assert "ClusterAuthorizationFailed" in refused.stderr, refused.stderr
    refused = quotas_tool(broker, "alice", "--describe")
    assert refused.returncode == 1
    assert "ClusterAuthorizationFailed" in refused.stderr, refused.stderr

    done = quotas_tool(broker, "admin", *set_quota)  # the super user, over SASL
    assert done.returncode == 0, done.stderr
    create_acls(admin, [acl(CLUSTER, "kafka-cluster", "User:alice", AclOperation.DESCRIBE_CONFIGS)])
    described = quotas_tool(broker, "alice", "--describe", "--user", "quota-user")
    assert described.returncode == 0, described.stderr
    assert "producer_byte_rate=2048" in described.stdout
    still_refused = quotas_tool(broker, "alice", *set_quota)  # DESCRIBE_CONFIGS only
    assert still_refused.returncode == 1
    assert "ClusterAuthorizationFailed" in still_refused.stderr


def test_without_an_authorizer_acl_apis_answer_security_disabled(
    shared_broker: BrokerProcess,
) -> None:
    from kafka.errors import SecurityDisabledError

    with pytest.raises(SecurityDisabledError, match=r"No Authorizer is configured\."):
        kafka_python_describe_acls(shared_broker.bootstrap)
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    binding = acl(TOPIC, "t", "User:x")
    with pytest.raises(KafkaException) as refused:
        admin.create_acls([binding])[binding].result(15)
    assert error_code(refused) == KafkaError.SECURITY_DISABLED


def test_an_unknown_authorizer_class_stops_the_broker_at_start_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    started = headwater("broker", f"--override=log.dirs={tmp_path}",
                        "--override=authorizer.class.name=com.example.MyAuthorizer")  # fmt: skip
    assert started.returncode == 2
    assert "authorizer.class.name" in started.stderr
    assert "com.example.MyAuthorizer" in started.stderr


@pytest.fixture(scope="module")
def open_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """allow.everyone.if.no.acl.found=true: resources without ACLs are open to all."""
    broker = authorizing_broker(
        tmp_path_factory.mktemp("open"), **{"allow.everyone.if.no.acl.found": "true"}
    )
    try:
        create_users(broker, "bob")
        yield broker
    finally:
        broker.stop()


def produce_error(broker: BrokerProcess, user: str, topic: str) -> KafkaError | None:
    producer = Producer(client_config(broker, user) | {"message.timeout.ms": 10000})
    outcome: list[KafkaError | None] = []
    producer.produce(topic, b"x", on_delivery=lambda err, _m: outcome.append(err))
    producer.flush(15)
    return outcome[0]


def test_allow_everyone_if_no_acl_found_then_acls_persist_across_a_restart(
    open_broker: BrokerProcess,
) -> None:
    admin = admin_as(open_broker, "admin")
    admin.create_topics([NewTopic("open.topic", 1, 1)])["open.topic"].result(15)
    assert produce_error(open_broker, "bob", "open.topic") is None  # no ACL: open
    create_acls(admin, [acl(TOPIC, "open.", "User:carol", pattern=PREFIXED)])
    error = produce_error(open_broker, "bob", "open.topic")  # an ACL exists now: closed
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    open_broker.restart()
    admin = admin_as(open_broker, "admin")
    assert describe(admin, ANY) == {(TOPIC, "open.", PREFIXED, "User:carol", AclOperation.ALL)}
    error = produce_error(open_broker, "bob", "open.topic")
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
