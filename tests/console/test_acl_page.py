"""The operators' ACL page: every ACL on the cluster and the effective-permission checker.

The broker here has the authorizer on and one PLAINTEXT listener whose anonymous
principal is a super user (the console has no SASL login yet); the checker's agreement
with a real client is tests/broker/security/test_permission_checker.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.support.broker import BrokerProcess

STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


@pytest.fixture(scope="module")
def authorizing_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(
        tmp_path_factory.mktemp("acl-page"),
        overrides={
            "authorizer.class.name": STANDARD_AUTHORIZER,
            "super.users": "User:ANONYMOUS",
        },
    )
    broker.start()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    bindings = [
        AclBinding(ResourceType.TOPIC, "acme.", ResourcePatternType.PREFIXED, "User:acme-app",
                   "*", AclOperation.ALL, AclPermissionType.ALLOW),
        AclBinding(ResourceType.TOPIC, "acme.audit", ResourcePatternType.LITERAL, "User:acme-app",
                   "*", AclOperation.WRITE, AclPermissionType.DENY),
    ]  # fmt: skip
    for future in admin.create_acls(bindings).values():
        future.result(15)
    yield broker
    broker.stop()


@pytest.fixture
def staff_client(
    db: None, client: Client, settings: SettingsWrapper, authorizing_cluster: BrokerProcess
) -> Client:
    settings.HEADWATER_BOOTSTRAP_SERVERS = authorizing_cluster.bootstrap
    client.force_login(User.objects.create_user("ops", is_staff=True))
    return client


def ask(client: Client, **question: str) -> str:
    params = {"principal": "User:acme-app", "host": "*", "resource_type": "TOPIC", **question}
    response = client.get("/acls/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_lists_every_acl_on_the_cluster(staff_client: Client) -> None:
    html = ask(staff_client)
    assert "Every ACL on the cluster (2)" in html
    assert "acme.audit" in html and "PREFIXED" in html and "DENY" in html


def test_the_checker_says_deny_wins_and_names_the_rule(staff_client: Client) -> None:
    html = ask(staff_client, operation="WRITE", resource_name="acme.audit")
    assert 'data-allowed="false"' in html
    assert "a DENY ACL matches" in html
    assert "name=acme.audit, patternType=LITERAL" in html


def test_the_checker_allows_by_the_prefixed_rule_and_implied_describe(
    staff_client: Client,
) -> None:
    html = ask(staff_client, operation="DESCRIBE", resource_name="acme.orders")
    assert 'data-allowed="true"' in html
    assert "name=acme., patternType=PREFIXED" in html


def test_the_checker_knows_super_users_from_the_brokers_configs(staff_client: Client) -> None:
    html = ask(
        staff_client, principal="User:ANONYMOUS", operation="DELETE", resource_name="globex.x"
    )
    assert 'data-allowed="true"' in html
    assert "super user" in html


def test_a_bad_principal_is_a_message_not_an_answer(staff_client: Client) -> None:
    html = ask(staff_client, principal="alice", operation="READ", resource_name="acme.x")
    assert "A principal is TYPE:NAME" in html
    assert "data-allowed" not in html


def test_non_operators_get_not_found(db: None, client: Client) -> None:
    client.force_login(User.objects.create_user("dev"))
    assert client.get("/acls/").status_code == 404


def test_a_cluster_without_authorizer_says_so(
    db: None, client: Client, settings: SettingsWrapper, shared_broker: BrokerProcess
) -> None:
    settings.HEADWATER_BOOTSTRAP_SERVERS = shared_broker.bootstrap
    client.force_login(User.objects.create_user("ops2", is_staff=True))
    response = client.get("/acls/")
    assert response.status_code == 200
    assert (
        "The cluster has no authorizer (authorizer.class.name is empty)"
        in response.content.decode()
    )


def test_operators_see_every_scram_user_without_secrets(
    staff_client: Client, authorizing_cluster: BrokerProcess
) -> None:
    from confluent_kafka.admin import (
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    admin = AdminClient({"bootstrap.servers": authorizing_cluster.bootstrap})
    for user, mechanism in (("alice", ScramMechanism.SCRAM_SHA_256),
                            ("bob", ScramMechanism.SCRAM_SHA_512)):  # fmt: skip
        upsert = UserScramCredentialUpsertion(
            user, ScramCredentialInfo(mechanism, 8192), f"{user}-password".encode()
        )
        admin.alter_user_scram_credentials([upsert])[user].result(15)
    response = staff_client.get("/users/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "User:alice" in html and "SCRAM-SHA-256, 8192 iterations" in html
    assert "User:bob" in html and "SCRAM-SHA-512, 8192 iterations" in html
    assert "alice-password" not in html


def test_scram_users_are_for_operators_only(db: None, client: Client) -> None:
    client.force_login(User.objects.create_user("dev2"))
    assert client.get("/users/").status_code == 404
