"""The reconciler, run by a real Celery worker (and beat) on a real Redis, against a real
broker with SASL/SCRAM and the authorizer: what the console wants reaches the cluster,
changes made behind its back show as drift within one reconcile period and are
re-applied or adopted, a tenant's deletion leaves nothing behind, and a broker that is
down during a reconcile is caught up when it returns."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import NewTopic
from django.contrib.auth.models import User
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from console import reconcile, services
from console.models import AccessRule, AuditEvent, ReadyState, ServiceAccount, Tenant
from tests.broker.security.authz import admin_as, authorizing_broker, headwater, login_properties
from tests.console.reconcile_support import (
    cluster_acls,
    console_login,
    poll,
    produce_error,
    scram_users,
    status_of,
    wait_state,
    write_properties,
)
from tests.support.broker import BrokerProcess
from tests.support.celery_worker import CeleryProcess

RECONCILE_SECONDS = 2
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def sasl_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = authorizing_broker(tmp_path_factory.mktemp("reconcile"))
    yield broker
    broker.stop()


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _use_broker(url: str | None) -> Any:
    """Point this process's Celery app (what services enqueue with) at ``url``."""
    from console.celery import app

    before = (app.conf.broker_url, app.conf.result_backend)
    if url is not None:
        app.conf.broker_url = app.conf.result_backend = url
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    return before


@pytest.fixture(scope="module")
def celery(
    django_db_setup: None,
    redis_url: str,
    sasl_cluster: BrokerProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[CeleryProcess, CeleryProcess]]:
    """A worker and beat (every RECONCILE_SECONDS) on Redis and the test database."""
    home = tmp_path_factory.mktemp("celery")
    credentials = write_properties(
        home / "console.properties", console_login(sasl_cluster.bootstrap)
    )
    env = {
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "HEADWATER_DATA_DIR": str(home),
        "HEADWATER_BOOTSTRAP_SERVERS": sasl_cluster.bootstrap,
        "HEADWATER_KAFKA_CREDENTIALS": str(credentials),
        "HEADWATER_PLAN_POLICY_ON_BROKER": "0",
        "HEADWATER_RECONCILE_SECONDS": str(RECONCILE_SECONDS),
        "HEADWATER_ADMIN_TIMEOUT": "3",
    }
    worker = CeleryProcess(home / "worker.log", env)
    beat = CeleryProcess(home / "beat.log", env, beat=True)
    before = _use_broker(redis_url)
    worker.start()
    beat.start()
    yield worker, beat
    beat.stop()
    worker.stop()
    from console.celery import app

    app.conf.broker_url, app.conf.result_backend = before
    _use_broker(None)


@pytest.fixture
def console_cluster(
    settings: SettingsWrapper, sasl_cluster: BrokerProcess, celery: Any
) -> BrokerProcess:
    settings.HEADWATER_BOOTSTRAP_SERVERS = sasl_cluster.bootstrap
    settings.HEADWATER_KAFKA_CLIENT_CONFIG = console_login(sasl_cluster.bootstrap)
    settings.HEADWATER_PLAN_POLICY_ON_BROKER = False
    settings.HEADWATER_ADMIN_TIMEOUT = 3
    return sasl_cluster


@pytest.fixture
def ops() -> User:
    return User.objects.create_user("ops", is_staff=True)


def _slug() -> str:
    return "t" + uuid.uuid4().hex[:8]


def _tenant(ops: User, *, producer_byte_rate: int = 1_048_576) -> services.TenantCreated:
    plan = f"plan-{uuid.uuid4().hex[:6]}"
    services.plan_create(actor=ops, name=plan, producer_byte_rate=producer_byte_rate)
    created = services.tenant_create(actor=ops, name="Acme", slug=_slug(), plan=plan)
    assert created.credential.credential_set, created.credential.message
    wait_state(Tenant, created.tenant.pk, ReadyState.READY)
    return created


def _cli(broker: BrokerProcess, *args: str) -> None:
    done = headwater(*args, "--bootstrap-server", broker.bootstrap, *login_properties("admin"))
    assert done.returncode == 0, done.stderr


def _create_topic(broker: BrokerProcess, name: str) -> None:
    admin = admin_as(broker, "admin")
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(15)


def test_a_new_tenant_reaches_the_cluster_and_its_secret_works_inside_its_prefix_only(
    console_cluster: BrokerProcess, ops: User
) -> None:
    created = _tenant(ops)
    tenant, credential = created.tenant, created.credential
    user = f"{tenant.slug}-app"
    assert user in scram_users(console_cluster)
    assert cluster_acls(console_cluster, f"User:{user}") == {
        ("TOPIC", tenant.prefix, "PREFIXED", "ALL", "ALLOW"),
        ("GROUP", tenant.prefix, "PREFIXED", "ALL", "ALLOW"),
        ("TRANSACTIONAL_ID", tenant.prefix, "PREFIXED", "ALL", "ALLOW"),
    }
    done = headwater("quotas", "--describe", "--user", user, "--bootstrap-server",
                     console_cluster.bootstrap, *login_properties("admin"))  # fmt: skip
    assert "producer_byte_rate=1048576" in done.stdout.replace(".0", ""), done.stdout
    account = ServiceAccount.objects.get(tenant=tenant)
    assert status_of(ServiceAccount, account.pk)[0] == ReadyState.READY
    assert all(r.ready_state == ReadyState.READY for r in AccessRule.objects.all())

    mine, theirs = f"{tenant.prefix}orders", "globex.orders"
    _create_topic(console_cluster, mine)
    _create_topic(console_cluster, theirs)
    assert produce_error(console_cluster, user, credential.password, mine) is None
    refused = produce_error(console_cluster, user, credential.password, theirs)
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    poll(  # the next periodic reconcile counts the topic against the plan
        lambda: Tenant.objects.get(pk=tenant.pk).usage == {"topics": 1, "partitions": 1},
        timeout=3 * RECONCILE_SECONDS + 10,
        what="usage to count the tenant's topic",
    )


def test_an_acl_removed_behind_the_consoles_back_shows_as_drift_and_reapply_restores_it(
    console_cluster: BrokerProcess, ops: User
) -> None:
    tenant = _tenant(ops).tenant
    rule = services.access_rule_create(
        actor=ops, tenant_slug=tenant.slug, account_name="app", resource_type="TOPIC",
        resource_name=f"{tenant.prefix}audit", operation="WRITE", permission_type="DENY",
    )  # fmt: skip
    wait_state(AccessRule, rule.pk, ReadyState.READY)
    wait_state(Tenant, tenant.pk, ReadyState.READY)

    _cli(console_cluster, "acls", "--remove", "--deny-principal", f"User:{tenant.slug}-app",
         "--operation", "Write", "--topic", f"{tenant.prefix}audit", "--force")  # fmt: skip
    wait_state(AccessRule, rule.pk, ReadyState.DRIFTED, timeout=3 * RECONCILE_SECONDS + 10)
    _, reason, message = status_of(AccessRule, rule.pk)
    assert reason == "AclMissingOnCluster"
    assert message == (
        f"ACL DENY WRITE TOPIC {tenant.prefix}audit for User:{tenant.slug}-app was removed "
        "on the cluster"
    )
    wait_state(Tenant, tenant.pk, ReadyState.DRIFTED)
    deny = ("TOPIC", f"{tenant.prefix}audit", "LITERAL", "WRITE", "DENY")
    assert deny not in cluster_acls(console_cluster, f"User:{tenant.slug}-app")  # not repaired

    services.drift_reapply(actor=ops, tenant_slug=tenant.slug)
    wait_state(AccessRule, rule.pk, ReadyState.READY)
    wait_state(Tenant, tenant.pk, ReadyState.READY)
    assert deny in cluster_acls(console_cluster, f"User:{tenant.slug}-app")


def test_an_acl_added_behind_the_consoles_back_is_adopted_as_a_rule(
    console_cluster: BrokerProcess, ops: User
) -> None:
    tenant = _tenant(ops).tenant
    principal = f"User:{tenant.slug}-app"
    _cli(console_cluster, "acls", "--add", "--allow-principal", principal, "--operation",
         "Read", "--group", f"{tenant.prefix}etl")  # fmt: skip
    wait_state(Tenant, tenant.pk, ReadyState.DRIFTED, timeout=3 * RECONCILE_SECONDS + 10)
    drift = Tenant.objects.get(pk=tenant.pk).drift
    assert [d["kind"] for d in drift] == ["acl_extra"]
    assert (
        f"GROUP {tenant.prefix}etl for {principal} was added on the cluster" in drift[0]["message"]
    )

    problems = services.drift_adopt(actor=ops, tenant_slug=tenant.slug)
    assert problems == []
    rule = poll(
        lambda: AccessRule.objects.filter(resource_name=f"{tenant.prefix}etl").first(),
        what="the adopted rule",
    )
    wait_state(AccessRule, rule.pk, ReadyState.READY)
    wait_state(Tenant, tenant.pk, ReadyState.READY)
    assert ("GROUP", f"{tenant.prefix}etl", "LITERAL", "READ", "ALLOW") in cluster_acls(
        console_cluster, principal
    )


def test_an_acl_added_behind_the_consoles_back_is_removed_by_reapply(
    console_cluster: BrokerProcess, ops: User
) -> None:
    tenant = _tenant(ops).tenant
    principal = f"User:{tenant.slug}-app"
    extra = ("GROUP", f"{tenant.prefix}etl", "LITERAL", "READ", "ALLOW")
    _cli(console_cluster, "acls", "--add", "--allow-principal", principal, "--operation",
         "Read", "--group", f"{tenant.prefix}etl")  # fmt: skip
    wait_state(Tenant, tenant.pk, ReadyState.DRIFTED, timeout=3 * RECONCILE_SECONDS + 10)
    services.drift_reapply(actor=ops, tenant_slug=tenant.slug)
    wait_state(Tenant, tenant.pk, ReadyState.READY)
    assert extra not in cluster_acls(console_cluster, principal)


def test_a_scram_user_deleted_behind_the_consoles_back_is_drift_and_a_rotation_repairs_it(
    console_cluster: BrokerProcess, ops: User
) -> None:
    tenant = _tenant(ops).tenant
    account = ServiceAccount.objects.get(tenant=tenant)
    _cli(console_cluster, "users", "--delete", account.username)
    wait_state(ServiceAccount, account.pk, ReadyState.DRIFTED, timeout=3 * RECONCILE_SECONDS + 10)
    assert status_of(ServiceAccount, account.pk)[1] == "UserMissingOnCluster"

    credential = services.service_account_rotate(actor=ops, tenant_slug=tenant.slug, name="app")
    assert credential.credential_set
    wait_state(ServiceAccount, account.pk, ReadyState.READY)
    _create_topic(console_cluster, f"{tenant.prefix}rotated")
    assert (
        produce_error(console_cluster, account.username, credential.password,
                      f"{tenant.prefix}rotated") is None
    )  # fmt: skip


def test_a_quota_changed_behind_the_consoles_back_is_drift_and_reapply_restores_it(
    console_cluster: BrokerProcess, ops: User
) -> None:
    tenant = _tenant(ops).tenant
    account = ServiceAccount.objects.get(tenant=tenant)
    _cli(console_cluster, "quotas", "--alter", "--user", account.username, "--add-config",
         "producer_byte_rate=5")  # fmt: skip
    wait_state(ServiceAccount, account.pk, ReadyState.DRIFTED, timeout=3 * RECONCILE_SECONDS + 10)
    assert "producer_byte_rate" in status_of(ServiceAccount, account.pk)[2]
    services.drift_reapply(actor=ops, tenant_slug=tenant.slug)
    wait_state(ServiceAccount, account.pk, ReadyState.READY)
    done = headwater("quotas", "--describe", "--user", account.username, "--bootstrap-server",
                     console_cluster.bootstrap, *login_properties("admin"))  # fmt: skip
    assert "producer_byte_rate=1048576" in done.stdout.replace(".0", ""), done.stdout


def test_revoking_an_account_removes_its_user_acls_and_quotas(
    console_cluster: BrokerProcess, ops: User
) -> None:
    tenant = _tenant(ops).tenant
    account = ServiceAccount.objects.get(tenant=tenant)
    services.service_account_revoke(actor=ops, tenant_slug=tenant.slug, name="app")
    poll(lambda: status_of(ServiceAccount, account.pk)[1] == "Revoked", what="revoked",
         timeout=3 * RECONCILE_SECONDS + 15)  # fmt: skip
    assert account.username not in scram_users(console_cluster)
    assert cluster_acls(console_cluster, account.principal) == set()
    assert not AccessRule.objects.filter(service_account=account).exists()


def test_deleting_a_tenant_removes_everything_it_had_on_the_cluster(
    console_cluster: BrokerProcess, ops: User
) -> None:
    created = _tenant(ops)
    tenant, credential = created.tenant, created.credential
    topic, group = f"{tenant.prefix}orders", f"{tenant.prefix}billing"
    _create_topic(console_cluster, topic)
    consumer = Consumer({
        "bootstrap.servers": console_cluster.bootstrap, "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": credential.mechanism, "sasl.username": credential.username,
        "sasl.password": credential.password, "group.id": group,
    })  # fmt: skip
    consumer.commit(offsets=[TopicPartition(topic, 0, 0)], asynchronous=False)
    consumer.close()
    _cli(
        console_cluster,
        "acls",
        "--add",
        "--allow-principal",
        "User:someone",
        "--operation",
        "Read",
        "--topic",
        topic,
    )  # fmt: skip  (an operator's grant on the tenant's topic)

    services.tenant_delete(actor=ops, slug=tenant.slug, confirm_slug=tenant.slug)
    poll(lambda: not Tenant.objects.filter(pk=tenant.pk).exists(), what="tenant gone",
         timeout=3 * RECONCILE_SECONDS + 20)  # fmt: skip
    admin = admin_as(console_cluster, "admin")
    assert not [t for t in admin.list_topics(timeout=10).topics if t.startswith(tenant.prefix)]
    groups = admin.list_consumer_groups(request_timeout=10).result().valid
    assert not [g for g in groups if g.group_id.startswith(tenant.prefix)]
    assert credential.username not in scram_users(console_cluster)
    assert cluster_acls(console_cluster, f"User:{credential.username}") == set()
    assert cluster_acls(console_cluster, "User:someone") == set()
    assert not ServiceAccount.objects.filter(tenant_id=tenant.pk).exists()
    deleted = AuditEvent.objects.get(action="tenant.deleted", resource_name=tenant.slug)
    assert deleted.after["removed"]["topics"] == 1


def test_reconciling_twice_at_once_changes_nothing_the_second_time(
    console_cluster: BrokerProcess, ops: User
) -> None:
    tenant = _tenant(ops).tenant
    before = cluster_acls(console_cluster, f"User:{tenant.slug}-app")
    transition = Tenant.objects.get(pk=tenant.pk).ready_transition
    outcomes: list[reconcile.Outcome] = []

    def run() -> None:
        outcomes.append(reconcile.reconcile_tenant(tenant_id=tenant.pk))
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert {o.result for o in outcomes} <= {"reconciled", "busy"}, outcomes
    assert cluster_acls(console_cluster, f"User:{tenant.slug}-app") == before
    after = Tenant.objects.get(pk=tenant.pk)
    assert after.ready_state == ReadyState.READY and after.ready_transition == transition


def test_a_broker_down_during_a_reconcile_is_an_error_until_it_returns(
    console_cluster: BrokerProcess, ops: User
) -> None:
    tenant = _tenant(ops).tenant
    console_cluster.stop()
    try:
        rule = services.access_rule_create(
            actor=ops, tenant_slug=tenant.slug, account_name="app", resource_type="TOPIC",
            resource_name=f"{tenant.prefix}late", operation="READ",
        )  # fmt: skip
        wait_state(Tenant, tenant.pk, ReadyState.ERROR, timeout=3 * RECONCILE_SECONDS + 20)
        assert status_of(Tenant, tenant.pk)[1] == "BrokerUnavailable"
        assert status_of(AccessRule, rule.pk)[0] == ReadyState.PENDING
    finally:
        console_cluster.start()
    wait_state(AccessRule, rule.pk, ReadyState.READY, timeout=3 * RECONCILE_SECONDS + 30)
    wait_state(Tenant, tenant.pk, ReadyState.READY)
    assert ("TOPIC", f"{tenant.prefix}late", "LITERAL", "READ", "ALLOW") in cluster_acls(
        console_cluster, f"User:{tenant.slug}-app"
    )
