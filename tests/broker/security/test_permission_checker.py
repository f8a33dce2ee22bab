"""The effective-permission checker agrees with the broker (issue 10).

``broker.common.acls.Authorizer.explain`` answers "may P do O on R?" with the rule that
decided. The console feeds it the bindings DescribeAcls returns, so it must give the
answer a real client gets from the broker: for each case below the ACLs are created on
an authorizing broker, the checker is asked from what DescribeAcls reports, and a real
client (confluent-kafka, logged in with SCRAM) tries the operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from broker.common import acls
from tests.broker.security.authz import (
    acl,
    admin_as,
    authorizing_broker,
    client_config,
    create_acls,
    create_users,
)
from tests.support.broker import BrokerProcess

PREFIXED = ResourcePatternType.PREFIXED
DENY = AclPermissionType.DENY


@dataclass(frozen=True)
class Case:
    id: str
    bindings: tuple[tuple, ...]  # args of tests.broker.security.authz.acl
    user: str
    operation: acls.AclOperation
    topic: str
    reason: acls.Reason


CASES = [
    Case("literal-allow", ((ResourceType.TOPIC, "c1.t", "User:alice", AclOperation.WRITE),),
         "alice", acls.AclOperation.WRITE, "c1.t", acls.Reason.ALLOWED),
    Case("other-principal", ((ResourceType.TOPIC, "c1b.t", "User:alice", AclOperation.WRITE),),
         "bob", acls.AclOperation.WRITE, "c1b.t", acls.Reason.NO_MATCHING_ALLOW),
    Case("deny-beats-prefixed-allow",
         ((ResourceType.TOPIC, "c2.", "User:alice", AclOperation.ALL, AclPermissionType.ALLOW,
           PREFIXED),
          (ResourceType.TOPIC, "c2.audit", "User:alice", AclOperation.WRITE, DENY)),
         "alice", acls.AclOperation.WRITE, "c2.audit", acls.Reason.DENIED),
    Case("prefixed-allow", ((ResourceType.TOPIC, "c3.", "User:alice", AclOperation.ALL,
                             AclPermissionType.ALLOW, PREFIXED),),
         "alice", acls.AclOperation.WRITE, "c3.orders", acls.Reason.ALLOWED),
    Case("read-implies-describe", ((ResourceType.TOPIC, "c4.t", "User:alice", AclOperation.READ),),
         "alice", acls.AclOperation.DESCRIBE, "c4.t", acls.Reason.ALLOWED),
    Case("write-does-not-imply-delete",
         ((ResourceType.TOPIC, "c5.t", "User:alice", AclOperation.WRITE),),
         "alice", acls.AclOperation.DELETE, "c5.t", acls.Reason.NO_MATCHING_ALLOW),
    Case("wildcard-principal", ((ResourceType.TOPIC, "c6.t", "User:*", AclOperation.WRITE),),
         "bob", acls.AclOperation.WRITE, "c6.t", acls.Reason.ALLOWED),
    Case("wildcard-deny", ((ResourceType.TOPIC, "c7.t", "User:alice", AclOperation.WRITE),
                           (ResourceType.TOPIC, "c7.t", "User:*", AclOperation.ALL, DENY)),
         "alice", acls.AclOperation.WRITE, "c7.t", acls.Reason.DENIED),
    Case("no-acl", (), "alice", acls.AclOperation.WRITE, "c8.t", acls.Reason.NO_ACL),
    Case("super-user", (), "admin", acls.AclOperation.DELETE, "c9.t", acls.Reason.SUPER_USER),
]  # fmt: skip


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = authorizing_broker(tmp_path_factory.mktemp("checker"))
    try:
        create_users(broker, "alice", "bob")
        admin = admin_as(broker, "admin")
        create_acls(admin, [acl(*args) for case in CASES for args in case.bindings])
        topics = [NewTopic(case.topic, 1, 1) for case in CASES]
        for future in admin.create_topics(topics).values():
            future.result(15)
        yield broker
    finally:
        broker.stop()


def checker(admin: AdminClient) -> acls.Authorizer:
    """What the console builds: the bindings from DescribeAcls; super.users as configured."""
    described = admin.describe_acls(
        AclBindingFilter(
            ResourceType.ANY, None, ResourcePatternType.ANY, None, None,
            AclOperation.ANY, AclPermissionType.ANY,
        )
    ).result(15)  # fmt: skip
    bindings = tuple(
        acls.AclBinding.from_codes(
            b.restype.value,
            b.name,
            b.resource_pattern_type.value,
            b.principal,
            b.host,
            b.operation.value,
            b.permission_type.value,
        )
        for b in described
    )
    return acls.Authorizer(bindings, super_users=frozenset({"User:admin"}))


def broker_answer(broker: BrokerProcess, case: Case) -> bool:
    """What a real client gets: the operation tried, allowed unless refused for authorization."""
    config = client_config(broker, case.user)
    if case.operation is acls.AclOperation.WRITE:
        from confluent_kafka import Producer

        producer = Producer(config | {"message.timeout.ms": 10000})
        outcome: list[KafkaError | None] = []
        producer.produce(case.topic, b"v", on_delivery=lambda err, _m: outcome.append(err))
        producer.flush(15)
        assert outcome, "no delivery report"
        error = outcome[0]
        assert error is None or error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error
        return error is None
    if case.operation is acls.AclOperation.DESCRIBE:
        topic = AdminClient(config).list_topics(case.topic, timeout=15).topics[case.topic]
        return topic.error is None
    if case.operation is acls.AclOperation.DELETE:
        admin = AdminClient(config)  # kept referenced until the answer comes
        future = admin.delete_topics([case.topic], request_timeout=15)[case.topic]
        try:
            future.result(15)
        except Exception as exc:
            assert exc.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, exc
            return False
        return True
    raise AssertionError(f"no probe for {case.operation}")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_checker_gives_the_brokers_answer_and_the_deciding_rule(
    broker: BrokerProcess, case: Case
) -> None:
    decision = checker(admin_as(broker, "admin")).explain(
        f"User:{case.user}", "127.0.0.1", case.operation, acls.ResourceType.TOPIC, case.topic
    )
    assert decision.reason is case.reason, str(decision)
    assert broker_answer(broker, case) is decision.allowed, str(decision)
    if case.reason in (acls.Reason.ALLOWED, acls.Reason.DENIED):
        assert decision.binding is not None
        assert decision.binding.matches_resource(acls.ResourceType.TOPIC, case.topic)
